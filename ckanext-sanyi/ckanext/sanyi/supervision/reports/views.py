"""Pages of the reports.

* ``/reports`` (bureau, operator, data units): every period with its state, reminders first;
  ``/dashboard/reports``: the same as a dashboard tab.
* ``/reports/<kind>/<period>``: the report (HTML with charts), ``.pdf`` and ``.xlsx`` of it;
  a submitted report from its stored figures, its Chinese PDF the stored file itself.
* ``POST /reports/<kind>/<period>/submit`` (operator) and ``.../receive`` (bureau), with the
  CSRF token; audited.
* ``/disclosure`` and ``/disclosure/<year>``: the public annual disclosure, to anyone.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response
from markupsafe import Markup

from ...common import clock
from ...common.errors import error_lines
from ...common.helpers import sanyi_is_zh, sanyi_t
from ...common.i18n_text import bi
from ...common.user import acting_user, page_context
from ...domain.report_periods import STATE_TEXT
from . import render, service

__all__ = ["reports_pages", "sanyi_reports_due", "sanyi_reports_staff"]

reports_pages = Blueprint("sanyi_reports", __name__)
FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def sanyi_reports_due() -> list[dict[str, Any]]:
    """Due and overdue reports of the logged-in bureau or operator staff ([] otherwise)."""
    try:
        return service.reminders_for(acting_user())
    except Exception:  # a page never fails for its banner
        return []


def sanyi_reports_staff() -> bool:
    """The logged-in user is bureau or operator staff (the reports tab of the dashboard)."""
    return service.is_staff(acting_user())


reports_pages.add_app_template_global(sanyi_reports_due, "sanyi_reports_due")
reports_pages.add_app_template_global(sanyi_reports_staff, "sanyi_reports_staff")


def _refused(err: Exception) -> Any:
    if not tk.g.user:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    return tk.abort(403, str(err) or bi("无权查看此报告", "Not authorized to see this report"))


def _fetch(kind: str, period: str) -> Any:
    """The action's answer, or the response that refuses it."""
    try:
        return tk.get_action("sanyi_report_show")(page_context(), {"kind": kind,
                                                                   "period": period})
    except tk.NotAuthorized as err:
        return _refused(err)
    except tk.ValidationError as err:
        return tk.abort(404, "；".join(error_lines(err.error_dict or {})))


def _frozen(shown: dict[str, Any]) -> dict[str, Any] | None:
    stored = shown.get("stored")
    if not stored:
        return None
    return {k: stored.get(k) for k in ("figures_sha256", "pdf_sha256", "submitted_by",
                                       "submitted_at")}


@reports_pages.route("/reports/<kind>/<period>")
def show(kind: str, period: str) -> Any:
    shown = _fetch(kind, period)
    if not isinstance(shown, dict):
        return shown
    user = acting_user()
    zh = sanyi_is_zh()
    figures = shown["figures"]
    return tk.render("sanyi/reports/page.html", {
        "report": figures, "pick": lambda v: render.pick(v, zh),
        "body": Markup(render.body(figures, zh, frozen=_frozen(shown))),
        "state": shown["state"], "state_text": STATE_TEXT[shown["state"]],
        "stored": shown["stored"], "audience": shown["audience"],
        "is_staff": service.is_staff(user),
        "ended": figures["last"] < clock.today().isoformat(),
        "may_submit": service.may_submit(user) and shown["audience"] == "all",
        "may_receive": service.may_receive(user)})


@reports_pages.route("/reports/<kind>/<period>.<fmt>")
def download(kind: str, period: str, fmt: str) -> Any:
    if fmt not in FORMATS:
        return tk.abort(404, bi("格式须为 pdf 或 xlsx", "the format must be pdf or xlsx"))
    shown = _fetch(kind, period)
    if not isinstance(shown, dict):
        return shown
    zh = sanyi_is_zh()
    if fmt == "pdf":
        data = None
        if shown["stored"] and zh and shown["audience"] == "all":
            row = service.stored(service.period_of(kind, period), with_pdf=True)
            data = bytes(row["pdf"]) if row else None
        if data is None:
            data = render.pdf(shown["figures"], zh, frozen=_frozen(shown))
    else:
        data = render.xlsx(shown["figures"], zh)
    name = f"sanyi-{shown['kind']}-{shown['period']}{'' if zh else '-en'}.{fmt}"
    return Response(data, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


def _write(action: str, kind: str, period: str, data: dict[str, Any], done: tuple[str, str]) -> Any:
    if not tk.g.user:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    try:
        tk.get_action(action)(page_context(), dict(data, kind=kind, period=period))
        tk.h.flash_success(sanyi_t(*done))
    except tk.ValidationError as err:
        for line in error_lines(err.error_dict or {}, bare=("status", "period")):
            tk.h.flash_error(line)
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err) or bi("无权执行此操作", "Not authorized"))
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("未找到", "Not found"))
    return tk.redirect_to("sanyi_reports.show", kind=kind, period=period)


@reports_pages.route("/reports/<kind>/<period>/submit", methods=["POST"])
def submit(kind: str, period: str) -> Any:
    return _write("sanyi_report_submit", kind, period, {},
                  ("报告已提交并冻结，PDF 的哈希已记入审计。",
                   "Report submitted and frozen; its PDF's hash is in the audit log."))


@reports_pages.route("/reports/<kind>/<period>/receive", methods=["POST"])
def receive(kind: str, period: str) -> Any:
    return _write("sanyi_report_receive", kind, period,
                  {"comment": tk.request.form.get("comment") or None},
                  ("已签收报告。", "Report marked received."))


def _index(template_vars: dict[str, Any]) -> Any:
    return tk.render("sanyi/reports/index.html", dict(template_vars, state_text=STATE_TEXT))


@reports_pages.route("/reports")
def index() -> Any:
    try:
        listing = tk.get_action("sanyi_report_list")(page_context(), {})
    except tk.NotAuthorized as err:
        return _refused(err)
    return _index({"reports": listing["results"], "audience": listing["audience"],
                   "public": False})


@reports_pages.route("/dashboard/reports")
def dashboard() -> Any:
    return index()


@reports_pages.route("/disclosure")
def public_index() -> Any:
    rows = [r for r in service.listing(None)["reports"] if r["kind"] == "disclosure"]
    return _index({"reports": rows, "audience": "all", "public": True})


@reports_pages.route("/disclosure/<period>")
def public(period: str) -> Any:
    return show("disclosure", period)
