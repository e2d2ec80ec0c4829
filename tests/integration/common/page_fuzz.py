"""What the page fuzz (test_fuzz_pages.py: GET, test_fuzz_forms.py: POST) sends and how
it judges an answer: the extension's routes from the app's URL map, real and hostile
argument values, hostile form values, and the check that no answer is a 5xx."""
from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import quote

ROLES = ("anonymous", "no_role", "sysadmin", "bureau_user", "operator_user", "wj_editor",
         "merchant_user")
HOSTILE = ["a%00b", "%ED%A0%80", "%27%20OR%20%271%27%3D%271", quote("慢病😀"), "x" * 3000,
           "9" * 25]
PAGE_ARGS = ["99999999999999999999", "-1", "abc%00"]
FORM_VALUES = ["", "\x00", "x" * 20_000, "' OR 1=1 --", "慢病😀", "99999999999999999999", "-1",
               "1.5", "approve"]
CONVERTER_VALUES = {"year": ["2025", "99999999999999999999", "0"],
                    "fmt": ["csv", "json", "%00"], "page": ["bureau", "operator"],
                    "op": ["submit", "withdraw", "review", "suspend", "resume", "revoke", "x"],
                    "form": ["ceiling", "price", "discount", "cap", "shares", "billed", "x"]}


def sanyi_blueprints() -> set[str]:
    from ckan.plugins.core import _get_service
    bps = _get_service("sanyi").get_blueprint()
    return {bp.name for bp in (bps if isinstance(bps, list) else [bps])}


def sanyi_rules(flask_app: Any) -> list[Any]:
    names = sanyi_blueprints()
    return sorted((r for r in flask_app.url_map.iter_rules()
                   if r.endpoint.split(".")[0] in names), key=lambda r: r.rule)


def real_values(world: dict[str, Any]) -> list[str]:
    apps = [a["id"] for a in world["apps"].values()]
    return [apps[0], world["orders"][0], *world["refunds"][:1], world["entitlements"][0],
            "chronic-refill"]


def url_for(rule: Any, values: dict[str, str], lang: str) -> str:
    path = rule.rule
    for name, value in values.items():
        path = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value, path)
    return ("/en" if lang == "en" else "") + path


def argument_values(rule: Any, world: dict[str, Any]) -> list[dict[str, str]]:
    """Combinations for the rule's arguments: real ones first, then hostile ones."""
    if not rule.arguments:
        return [{}]
    per_arg = []
    for arg in sorted(rule.arguments):
        if arg in CONVERTER_VALUES:
            per_arg.append(CONVERTER_VALUES[arg])
        else:
            per_arg.append(real_values(world) + HOSTILE)
    combos = list(itertools.product(*per_arg))
    # keep every value of every argument at least once, not the whole product
    width = max(len(v) for v in per_arg)
    chosen = [tuple(vals[i % len(vals)] for vals in per_arg) for i in range(width)]
    chosen += combos[:: max(1, len(combos) // 4)]
    return [dict(zip(sorted(rule.arguments), c, strict=True)) for c in dict.fromkeys(chosen)]


def _headers(world: dict[str, Any], role: str) -> dict[str, str]:
    return {} if role == "anonymous" else {"Authorization": world["tokens"][role]}


def check(failures: list[str], fuzz_app, fuzz_log, world, role: str, method: str, url: str,
          *, module: str, **kw: Any) -> None:
    """Send one request; a 5xx answer or an exception is added to ``failures`` (and to the
    fuzz log), so that one sweep reports every failing request at once."""
    try:
        _send(fuzz_app, fuzz_log, world, role, method, url, module=module, **kw)
    except AssertionError as err:
        failures.append(str(err))


def assert_no_failures(failures: list[str]) -> None:
    assert not failures, "\n".join(failures[:30])


def assert_requests_sent(fuzz_log, module: str, label: str) -> None:
    sent = fuzz_log.sent[module]
    print(f"\nfuzz {label}: {sent} requests")
    assert sent > 0


def _send(fuzz_app, fuzz_log, world, role: str, method: str, url: str, *,
          module: str, **kw: Any) -> None:
    fuzz_log.add(module)
    fuzz_log.logged()
    try:
        if method == "GET":
            res = fuzz_app.get(url, headers=_headers(world, role), follow_redirects=False, **kw)
        else:
            res = fuzz_app.post(url, headers=_headers(world, role), follow_redirects=False, **kw)
    except Exception as exc:
        where = fuzz_log.where(exc)
        fuzz_log.fail(target=f"{method} {url[:80]}", role=role, status=500, where=where)
        raise AssertionError(f"{method} {url[:200]} as {role} raised {where}") from exc
    if res.status_code >= 500:
        where = fuzz_log.logged() or res.get_data(as_text=True)[:200]
        fuzz_log.fail(target=f"{method} {url[:80]}", role=role, status=res.status_code,
                      where=where)
        raise AssertionError(f"{method} {url[:200]} as {role}: HTTP {res.status_code} ({where})")


def csrf_token(fuzz_app, world, role: str) -> str:
    res = fuzz_app.get("/dataset/", headers=_headers(world, role))
    found = re.search(r'name="_csrf_token"\s+(?:type="hidden"\s+)?value="([^"]+)"',
                      res.get_data(as_text=True)) or re.search(
        r'<meta name="_csrf_token" content="([^"]+)"', res.get_data(as_text=True))
    return found.group(1) if found else ""
