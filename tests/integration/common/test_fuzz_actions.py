"""No 5xx from any action, on any input, from anyone.

Every action the sanyi plugin registers (asked from the plugin itself, so a new action is
covered without editing this file) and CKAN's ``package_show`` / ``package_search`` /
``package_create`` / ``package_patch`` of products are called over HTTP, POST with a JSON
body and GET with query arguments, as anonymous, as a logged-in user with no role and as each
role, with hypothesis-generated hostile values for the parameters each action documents
(``:param x:`` lines of its docstring; for products also the schema's fields): wrong types,
huge and deeply nested values, NUL, lone surrogates, SQL and Solr fragments, Chinese and
emoji, numbers ≥ 2**63, next to the world's real ids. Every answer must be CKAN's JSON
(``success`` true or false) with a status below 500.

``FUZZ_EXAMPLES`` (environment) sets the examples per action and role (default 12).
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck))
CKAN_ACTIONS = ("package_show", "package_search", "package_create", "package_patch")
GENERIC_PARAMS = ("id", "limit", "offset", "status", "q")
ROLES = ("anonymous", "no_role", "sysadmin", "bureau_user", "operator_user", "wj_editor",
         "merchant_user")


def sanyi_actions() -> list[str]:
    """The actions the sanyi plugin registers, as CKAN knows them (its IActions answer),
    the CKAN actions it chains among them."""
    from ckan.plugins.core import _get_service
    return sorted(_get_service("sanyi").get_actions())


def chained(name: str) -> bool:
    return not name.startswith("sanyi_")


def documented_params(name: str) -> list[str]:
    from ckan.plugins import toolkit as tk
    taken = getattr(tk.get_action(name), "sanyi_parameters", None)
    if taken is not None:  # any other parameter is refused (409) before the action runs
        return sorted(taken)
    doc = tk.get_action(name).__doc__ or ""
    found = re.findall(r":param (\w+):", doc)
    found += re.findall(r"``(\w+)``", doc)
    if name in ("package_create", "package_patch"):
        schema = tk.get_action("scheming_dataset_schema_show")({}, {"type": "product"})
        found += [f["field_name"] for f in schema["dataset_fields"]]
    return sorted(set(found) | set(GENERIC_PARAMS))


# -- hostile values ---------------------------------------------------------------------------
DEEP_LIST: Any = []
for _ in range(200):
    DEEP_LIST = [DEEP_LIST]
DEEP_DICT: Any = "x"
for _ in range(200):
    DEEP_DICT = {"a": DEEP_DICT}

HOSTILE_STRINGS = [
    "", " ", "\x00", "a\x00b", "\ud800", "x\udfffy", "' OR '1'='1", "'; DROP TABLE package; --",
    "1; SELECT pg_sleep(0)", "*:*", "id:[* TO *]", "NOW/DAY+1000000YEARS", "((((((((((a",
    "title:\"unclosed", "\\", "%00", "../../etc/passwd", "<script>alert(1)</script>",
    "慢病线上开处方", "市卫健委", "😀🧪", "🀄" * 50, "x" * 100_000, "9" * 40,
    "2026-13-45", "9999-12-31", "0000-00-00", "-1", "0", "1.5", "1e308", "NaN", "null",
    "true", "[]", "{}", "{\"unit\": \"call\", \"bands\": []}", "[" * 500, "2" * 19,
    "9223372036854775808", "-9223372036854775809", "100000000000",
]
HOSTILE_SCALARS = [None, True, False, 0, -1, 1, 2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30,
                   1.5, -0.0, 1e308, 100_000_000_000]
HOSTILE_CONTAINERS = [[], {}, [None], ["\x00"], [1, "a", None], {"": None}, {"\x00": "x"},
                      {"object": "x"}, list(range(1000)), DEEP_LIST, DEEP_DICT]

hostile_scalar = st.sampled_from(HOSTILE_SCALARS)
hostile_string = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=30))
hostile = st.deferred(lambda: st.one_of(
    hostile_string, hostile_scalar, st.sampled_from(HOSTILE_CONTAINERS),
    st.lists(st.one_of(hostile_string, hostile_scalar), max_size=4),
    st.dictionaries(hostile_string, st.one_of(hostile_string, hostile_scalar), max_size=3)))

REALISTIC = {
    "quantity": ["15000", 15000, "1"], "use": ["industrial", "public_interest"],
    "unit": ["call", "copy", "record"], "decision": ["approve", "reject", "return"],
    "format": ["json", "csv"], "year": ["2025", 2026], "period": ["2026"],
    "date": ["2026-01-01"], "effective_from": ["2030-01-01"], "received_on": ["2026-01-02"],
    "schedule": [{"unit": "call", "bands": [{"upto": None, "price": "0.30"}]}],
    "type": ["product"], "owner_org": ["san-yi-yun-ying"], "limit": [10], "offset": [0],
}


def realistic(name: str, world: dict[str, Any]) -> st.SearchStrategy[Any]:
    values = list(REALISTIC.get(name, []))
    if name in ("id", "product", "application_id", "order_id", "name") or name.endswith("_id"):
        values += world["ids"]
    return st.sampled_from(values or ["x"])


def data_dicts(params: list[str], world: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict over the documented parameters: each absent, realistic or hostile."""
    return st.fixed_dictionaries({}, optional={
        p: st.one_of(realistic(p, world), hostile) for p in params})


def _query_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _send(fuzz_app, fuzz_log, world, action: str, role: str, data: dict[str, Any],
          method: str) -> None:
    headers = {}
    if role != "anonymous":
        headers["Authorization"] = world["tokens"][role]
    url = f"/api/3/action/{action}"
    fuzz_log.add("test_fuzz_actions")
    fuzz_log.logged()
    try:
        if method == "POST":
            body = json.dumps(data)  # ensure_ascii: lone surrogates travel as "\ud800"
            res = fuzz_app.post(url, data=body, headers=dict(headers, **{
                "Content-Type": "application/json"}))
        else:
            args = [(k, _query_value(v)) for k, v in data.items()]
            args = [(k, v.encode("utf-8", "surrogatepass")) for k, v in args]
            res = fuzz_app.get(url, query_string=args, headers=headers)
    except Exception as exc:  # the app raised instead of answering: a 500 to a real client
        where = fuzz_log.where(exc)
        fuzz_log.fail(target=action, role=role, status=500, where=where, data=repr(data)[:300])
        raise AssertionError(f"{method} {action} as {role} raised {where}") from exc
    problem = fuzz_log.problem(res)
    if problem:
        where = fuzz_log.logged() or res.get_data(as_text=True)[:300]
        fuzz_log.fail(target=action, role=role, status=res.status_code, where=where,
                      data=repr(data)[:300])
        raise AssertionError(f"{method} {action} as {role}: {problem} ({where}); "
                             f"data={repr(data)[:500]}")


def pytest_generate_tests(metafunc: Any) -> None:
    if "action" in metafunc.fixturenames:
        metafunc.parametrize("action", sorted(set(sanyi_actions()) | set(CKAN_ACTIONS)))


def test_every_sanyi_action_is_covered():
    """The plugin's actions are enumerated from CKAN (a new one is fuzzed automatically)."""
    names = sanyi_actions()
    own = [n for n in names if not chained(n)]
    assert len(own) >= 30, names
    assert all(n.startswith("package_") for n in names if chained(n)), names
    from ckanext.sanyi.plugin import _actions
    exported = _actions()
    assert set(exported) <= set(names)


@pytest.mark.parametrize("role", ROLES)
def test_action_never_answers_5xx(fuzz_app, fuzz_world, fuzz_log, action, role):
    params = documented_params(action)
    data = data_dicts(params, fuzz_world)
    if action in ("package_create", "package_patch"):
        data = st.builds(lambda d: dict({"type": "product"}, **d), data)

    @FUZZ
    @given(data=data, method=st.sampled_from(["POST", "GET"]))
    def run(data: dict[str, Any], method: str) -> None:
        _send(fuzz_app, fuzz_log, fuzz_world, action, role, data, method)

    run()


def test_request_count(fuzz_log):
    """Runs last in the module: the number of requests sent (also in the terminal summary)."""
    sent = fuzz_log.sent["test_fuzz_actions"]
    print(f"\nfuzz actions: {len(set(sanyi_actions()) | set(CKAN_ACTIONS))} actions x {len(ROLES)} "
          f"roles, {sent} requests, {len(fuzz_log.failures)} 5xx")
    assert sent > 0
