"""The bureau's supervision view (bureau staff and sysadmins; anyone else 403, anonymous
callers to the login page).

* ``/bureau/supervision``: the figures of :mod:`.figures` with their charts (server-rendered
  SVG), filtered by ``date_from`` / ``date_to`` (Beijing dates), ``unit`` and ``product`` (GET;
  a bad value is a field error on the page, status 400, the figures then shown for the
  default of that field); the queue of products awaiting approval with approve / return
  forms; the latest decisions.
* ``/bureau/supervision/audit``: the audit log, 50 a page, filtered by actor, action, object
  type and object id: who, what in words, when in Beijing time, the changed fields.
* ``POST /bureau/supervision/products/<id>/review``: ``decision`` (approve | return) and
  ``comment``, through ``sanyi_product_review`` (CSRF-checked by :mod:`..common.csrf`).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, current_app
from markupsafe import Markup

from ..common import charts, clock
from ..common.errors import error_lines
from ..common.helpers import sanyi_is_zh, sanyi_t
from ..common.i18n_text import bi
from ..common.paging import numbered
from ..common.user import acting_user, login_redirect, page_context
from ..delivery import usage_chart
from ..domain.report_periods import quarter_of
from . import audit_text, bars, figures, product_review

__all__ = ["bureau_supervision", "PER_PAGE"]

bureau_supervision = Blueprint("sanyi_bureau_supervision", __name__)
PER_PAGE = 50
MAX_SHOWN = 500  # characters of one audited value shown in the diff table
AUDIT_FILTERS = ("actor", "action", "object_type", "object_id")
REPORTS_INDEX, REPORT_FILE = "/reports", "/reports/<kind>/<period>.<fmt>"


def _require() -> Any:
    """None when the caller may see the view; else the login redirect or a 403."""
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        tk.check_access("sanyi_supervision_figures", page_context(), {})
    except tk.NotAuthorized:
        return tk.abort(403, bi("此页面仅限数据局工作人员", "This page is for data bureau staff"))
    return None


def _t(zh: bool) -> Any:
    return (lambda c, e: c) if zh else (lambda c, e: e)


def _charts(figs: dict[str, Any], zh: bool) -> dict[str, Markup]:
    t = _t(zh)
    calls = figs["calls"]
    end = dt.date.fromisoformat(figs["filters"]["date_to"])
    series = usage_chart.daily_series(calls["days"], end, len(calls["days"]))
    out = {"calls": Markup(usage_chart.svg(series, zh=zh, chart_id="sup-calls"))}
    ents = figs["entitlements"]["by_status"]
    out["entitlements"] = Markup(charts.hbars(
        [t(r["zh"], r["en"]) for r in ents],
        [(t("授权", "Entitlements"), [r["count"] for r in ents])],
        title=t("使用授权（按状态）", "Entitlements by status"), chart_id="sup-entitlements"))
    kinds = figs["alerts"]["by_kind"]
    out["alerts"] = Markup(charts.hbars(
        [t(r["zh"], r["en"]) for r in kinds],
        [(t("预警", "Alerts"), [r["alerts"] for r in kinds]),
         (t("拒绝次数", "Refused calls"), [r["refusals"] for r in kinds])],
        title=t("待核实的预警（按类型）", "Open alerts by kind"), chart_id="sup-alerts"))
    periods = figs["revenue"]["periods"]
    if periods:
        warn = max((float(p.get("warning_pct") or 80) for p in periods), default=80.0)
        out["revenue"] = Markup(bars.svg(
            [bars.Bar(str(p["period"]), float(p["used_pct"] or 0), f"{p['used_pct'] or '—'}%",
                      p["level"], t(f"{p['billed_yuan']} / {p['effective_cap_yuan']} 元",
                                    f"{p['billed_yuan']} / {p['effective_cap_yuan']} yuan"))
             for p in periods],
            title=t("已收入占最高准许收入", "Revenue against the maximum allowed"),
            desc=t(f"预警线 {warn:g}%，上限 100%", f"warning at {warn:g}%, cap at 100%"),
            chart_id="sup-revenue", top=max(120.0, *(float(p["used_pct"] or 0) for p in periods)),
            marks=[bars.Mark(warn, f"{warn:g}%"), bars.Mark(100, "100%", dashed=False)]))
    units = figs["overdue"]["units"]
    out["overdue"] = Markup(charts.hbars(
        [u["title"] for u in units],
        [(t("逾期资源", "Overdue resources"), [u["count"] for u in units]),
         (t("最多逾期天数", "Most days late"), [u["most_days"] for u in units])],
        title=t("逾期未更新的目录资源（按数源单位）", "Overdue catalog resources by data unit"),
        chart_id="sup-overdue", empty=t("没有逾期的目录资源", "No overdue resources")))
    steps = figs["waiting"]["steps"]
    out["waiting"] = Markup(charts.hbars(
        [t(s["zh"], s["en"]) for s in steps],
        [(t("等待件数", "Waiting"), [s["count"] for s in steps]),
         (t("最久天数", "Oldest, days"), [s["oldest_days"] or 0 for s in steps])],
        title=t("等待处理的数据使用申请（按环节）", "Applications waiting, by step"),
        chart_id="sup-waiting"))
    return out


def _report_links() -> dict[str, str]:
    """Links to the reports when they are installed (``supervision/reports``): their index
    and the PDF of the last quarter that has ended (the quarter before today's)."""
    out: dict[str, str] = {}
    previous = quarter_of(quarter_of(clock.today()).first - dt.timedelta(days=1))
    for rule in current_app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        if rule.rule == REPORTS_INDEX:
            out["index"] = tk.url_for(rule.endpoint)
        elif rule.rule == REPORT_FILE:
            out["quarterly_pdf"] = tk.url_for(rule.endpoint, kind="quarterly",
                                              period=previous.key, fmt="pdf")
            out["quarter"] = previous.title(sanyi_is_zh())
    return out


@bureau_supervision.route("/bureau/supervision")
def index() -> Any:
    if (refused := _require()) is not None:
        return refused
    args = {k: tk.request.args.get(k) for k in ("date_from", "date_to", "organization",
                                                "product")}
    f, errors = figures.parse(args)
    ctx = page_context()
    figs = tk.get_action("sanyi_supervision_figures")(ctx, f.as_args())
    zh = sanyi_is_zh()
    user = acting_user()
    queue = tk.get_action("sanyi_product_review_queue")(ctx, {})
    for row in queue["results"]:
        row["mine"] = bool(user is not None and row["filed_by"] == user.id)
    decided = tk.get_action("sanyi_product_review_list")(ctx, {"limit": 10})
    body = tk.render("supervision/bureau_supervision.html", {
        "figs": figs, "charts": _charts(figs, zh), "errors": errors,
        "form": {k: v or "" for k, v in args.items()},
        "units": figures.units(), "products": figures.products(), "queue": queue,
        "decided": decided, "today": clock.today().isoformat(), "reports": _report_links(),
        "max_comment": product_review.MAX_COMMENT})
    return (body, 400) if errors else body


@bureau_supervision.route("/bureau/supervision/products/<id>/review", methods=["POST"])
def review(id: str) -> Any:
    if (refused := _require()) is not None:
        return refused
    form = tk.request.form
    try:
        done = tk.get_action("sanyi_product_review")(page_context(), {
            "id": id, "decision": form.get("decision"), "comment": form.get("comment")})
        tk.h.flash_success(sanyi_t(
            f"“{done['title']}”已批准上架，并已记入审计。" if done["decision"] == "approve"
            else f"“{done['title']}”已退回为草稿，意见已记入审计。",
            f"“{done['title']}” approved and listed; audited." if done["decision"] == "approve"
            else f"“{done['title']}” returned to draft; the comment is audited."))
    except tk.ValidationError as err:
        for line in error_lines(err.error_dict or {}, bare=("status", "comment")):
            tk.h.flash_error(line)
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err) or bi("无权执行此操作", "Not authorized"))
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("未找到该产品", "Product not found"))
    return tk.redirect_to(tk.url_for("sanyi_bureau_supervision.index") + "#queue")


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN] + "…"


@bureau_supervision.route("/bureau/supervision/audit")
def audit_log() -> Any:
    if (refused := _require()) is not None:
        return refused
    args = tk.request.args
    form = {k: (args.get(k) or "").strip() for k in AUDIT_FILTERS}
    number, page = numbered(args.get("page"), PER_PAGE)
    ctx = page_context()
    errors: dict[str, Any] = {}
    query = {k: v for k, v in form.items() if v}
    try:
        found = tk.get_action("sanyi_audit_list")(ctx, dict(query, limit=page.limit,
                                                          offset=page.offset))
    except tk.ValidationError as err:
        errors = err.error_dict or {}
        query = {k: v for k, v in query.items() if k not in errors}
        found = tk.get_action("sanyi_audit_list")(ctx, dict(query, limit=page.limit,
                                                          offset=page.offset))
    zh = sanyi_is_zh()
    rows = []
    for row in found["results"]:
        item = audit_text.entry(row, zh)
        item["when"] = clock.format_datetime(row["created"])
        for change in item["changes"]:
            change["before"], change["after"] = _shown(change["before"]), _shown(change["after"])
        rows.append(item)
    pages = max(1, -(-found["count"] // PER_PAGE))
    body = tk.render("supervision/bureau_audit.html", {
        "rows": rows, "count": found["count"], "page": number, "pages": pages,
        "form": form, "query": query, "errors": errors,
        "actions": sorted(audit_text.ACTIONS.items()),
        "object_types": sorted(audit_text.OBJECT_TYPES.items())})
    return (body, 400) if errors else body
