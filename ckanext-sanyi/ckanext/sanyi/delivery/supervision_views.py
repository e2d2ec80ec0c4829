"""Pages of usage and supervision.

* On the merchant's 我的授权 (``/merchant/entitlements``, included by its template beside
  the API clients): per entitlement, calls per day of the last 30 days (granted and refused,
  an SVG chart from :mod:`.usage_chart`), quota used and left, its monthly statements, an
  example ``curl`` for each operation of the product (a token request, then the call) and a
  link to the API documentation. The template global :func:`sanyi_entitlement_usage`
  gathers it through the actions, as the merchant.
* ``/bureau/delivery`` (bureau and operator staff): open alerts, with the bureau's forms to
  confirm, dismiss or revoke (POST with the CSRF token), the suspended entitlements and the
  alerts decided lately. Operator staff see it without the forms.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from flask import Blueprint
from markupsafe import Markup

from ..common import clock, roles
from ..common.errors import error_lines
from ..common.helpers import sanyi_is_zh, sanyi_t
from ..common.i18n_text import bi
from ..common.user import acting_user, login_redirect, page_context
from . import alerts, ledger, usage_chart

__all__ = ["supervision_pages", "sanyi_entitlement_usage", "DOCS_PATH"]

log = logging.getLogger(__name__)
supervision_pages = Blueprint("sanyi_delivery_supervision", __name__)
DOCS_PATH = "/api/delivery/docs"
CALL_PATH = "/api/delivery/v1/{product}/{operation}"
COUNTED_UNITS = ("call", "record")  # quotas the gateway counts down; time quotas it does not
DAYS = 30


# -- 我的授权 ---------------------------------------------------------------------------------
def _operations(ent: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of the entitlement's product with an example input, or [] without the
    operations engine. The product is named to the engine by its scenario (or title)."""
    pkg = model.Package.get(ent["product_id"])
    product: Any = ({"scenario": (pkg.extras or {}).get("scenario"), "title": pkg.title}
                    if pkg is not None else ent["product_name"])
    try:
        from .operations import spec
        operations = spec.operations_of(product)
    except Exception:  # no engine, or it failed: the page shows the generic example
        log.exception("operations of %s unavailable", ent["product_name"])
        return []
    out = []
    for op in operations:
        out.append({"name": op.name, "title": sanyi_t(op.title_zh, op.title_en),
                    "example": _example(op.input_schema)})
    return out


def _example(schema: dict[str, Any]) -> dict[str, Any]:
    """An input for the example: each required property's first example (else its default,
    const, first enum value, or a placeholder of its type)."""
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in schema.get("required") or list(props)[:1]:
        prop = props.get(name) or {}
        if prop.get("examples"):
            out[name] = prop["examples"][0]
        elif "default" in prop:
            out[name] = prop["default"]
        elif "const" in prop:
            out[name] = prop["const"]
        elif prop.get("enum"):
            out[name] = prop["enum"][0]
        else:
            out[name] = {"integer": 1, "number": 1, "boolean": True, "array": [],
                         "object": {}}.get(str(prop.get("type")), "…")
    return out


def _curl(product: str, operation: str, example: dict[str, Any] | None, token_url: str,
          base: str) -> str:
    """The token request, then the call (the body quoted for a POSIX shell)."""
    body = json.dumps(example if example is not None else {}, ensure_ascii=False)
    url = base + CALL_PATH.format(product=product, operation=operation)
    return (f"curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n"
            f"  {token_url}\n"
            f"# → {{\"access_token\": \"…\", \"token_type\": \"Bearer\", \"expires_in\": 3600, …}}\n"
            f"curl -s -X POST {url} \\\n"
            f"  -H \"Authorization: Bearer $ACCESS_TOKEN\" -H 'Content-Type: application/json' \\\n"
            f"  -d '{body.replace(chr(39), chr(39) + chr(92) + chr(39) + chr(39))}'")


def _action(name: str, data: dict[str, Any]) -> Any:
    try:
        return tk.get_action(name)(page_context(), data)
    except (tk.NotAuthorized, tk.ValidationError, tk.ObjectNotFound, KeyError):
        return None


def sanyi_entitlement_usage(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per entitlement id of ``rows`` (the merchant's entitlements on 我的授权): ``chart``
    (SVG markup), ``granted``/``refused`` (the 30 days), ``used``, ``left`` (None for a quota
    the gateway does not count down), ``statements``, ``operations`` (each with ``curl``) and
    ``docs_url``. Empty for a caller who may not read the usage."""
    end = clock.today()
    usage = _action("sanyi_usage_daily", {"date_from": (end - dt.timedelta(days=DAYS - 1))
                                          .isoformat(), "date_to": end.isoformat()})
    if usage is None:
        return {}
    statements = (_action("sanyi_statement_list", {"limit": 100}) or {}).get("results", [])
    root = tk.config.get("ckan.site_url", "").rstrip("/")
    token_url = tk.url_for("sanyi_delivery_oauth.token", _external=True)
    zh = sanyi_is_zh()
    out: dict[str, dict[str, Any]] = {}
    for ent in rows:
        mine = [r for r in usage["results"] if r["entitlement_id"] == ent["id"]]
        series = usage_chart.daily_series(mine, end, DAYS)
        used = ledger.granted_units(ent["id"])
        counted = ent["quota_unit"] in COUNTED_UNITS
        operations = _operations(ent)
        for op in operations:
            op["curl"] = _curl(ent["product_name"], op["name"], op["example"], token_url, root)
        out[ent["id"]] = {
            "chart": Markup(usage_chart.svg(series, zh=zh, chart_id=f"usage-{ent['id'][:8]}")),
            "granted": sum(g for _, g, _ in series), "refused": sum(r for _, _, r in series),
            "used": used, "left": max(0, int(ent["quota"]) - used) if counted else None,
            "statements": [s for s in statements if s["entitlement_id"] == ent["id"]],
            "operations": operations, "docs_url": root + DOCS_PATH,
            "generic_curl": _curl(ent["product_name"], "<operation>", None, token_url, root),
        }
    return out


supervision_pages.add_app_template_global(sanyi_entitlement_usage, "sanyi_entitlement_usage")


# -- the bureau's supervision page ------------------------------------------------------------
def _staff_only() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    user = acting_user()
    if not (roles.is_bureau_staff(user) or roles.is_operator_staff(user)):
        return tk.abort(403, bi("此页面仅限数据局和运营机构工作人员",
                                "This page is for data bureau and operator staff"))
    return None


@supervision_pages.route("/bureau/delivery")
def supervision() -> Any:
    if (refused := _staff_only()) is not None:
        return refused
    ctx = page_context()
    open_alerts = tk.get_action("sanyi_alert_list")(ctx, {"status": "open", "limit": 100})
    decided = tk.get_action("sanyi_alert_list")(ctx, {"status": "resolved", "limit": 20})
    return tk.render("sanyi/delivery/supervision.html", {
        "open_alerts": open_alerts, "decided": decided,
        "suspended": alerts.suspended_entitlements(),
        "may_decide": alerts.may_resolve(acting_user()),
        "rule": {"after": alerts.suspend_after(),
                 "window_minutes": int(alerts.suspend_window().total_seconds()) // 60,
                 "quota_retry": alerts.suspend_on_quota_retry()}})


@supervision_pages.route("/bureau/delivery/alerts/<id>", methods=["POST"])
def decide(id: str) -> Any:
    if (refused := _staff_only()) is not None:
        return refused
    form = tk.request.form
    try:
        tk.get_action("sanyi_alert_resolve")(page_context(), {
            "id": id, "decision": form.get("decision"), "comment": form.get("comment")})
        tk.h.flash_success(sanyi_t("处理决定已保存并记入审计。", "Decision saved and audited."))
    except tk.ValidationError as err:
        for line in error_lines(err.error_dict or {}, bare=("status",)):
            tk.h.flash_error(line)
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err) or bi("无权执行此操作", "Not authorized"))
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("未找到", "Not found"))
    return tk.redirect_to("sanyi_delivery_supervision.supervision")
