"""Pages of merchants, data units and the bureau for applications.

Merchant: ``/merchant/register``, ``/apply/<product>``, ``/merchant/applications``,
``/merchant/orders``, ``/merchant/entitlements``. Data units and bureau:
``/review/applications`` (their queue). Bureau: ``/bureau/merchants``,
``/bureau/entitlements``. Everyone: ``/application/<id>`` (with the trace) and
``/dashboard/applications`` (what waits for me, notifications). Every page goes through
the actions, so the pages and the API refuse the same things.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint

from ..common.errors import error_lines
from ..common.helpers import sanyi_t
from ..common.i18n_text import bi
from ..common.paging import numbered
from ..common.user import login_redirect, page_context
from . import attachments, licence, notify

__all__ = ["applications"]

applications = Blueprint("sanyi_applications", __name__)
_FORM_FIELDS = ("scenario", "use", "purpose", "period_start", "period_end", "expected_volume",
                "billing_unit", "quantity")
PER_PAGE = 50  # rows of a numbered list page


def _lines(err: tk.ValidationError) -> list[str]:
    return error_lines(err.error_dict or {}, bare=("status", "message"))


def _flash(err: tk.ValidationError) -> None:
    for line in _lines(err):
        tk.h.flash_error(line)


def _act(action: str, data: dict[str, Any]) -> Any:
    """Call an action for a page: 403/404 become aborts; ValidationError propagates."""
    try:
        return tk.get_action(action)(page_context(), data)
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err) or bi("无权执行此操作", "Not authorized"))
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("未找到", "Not found"))


# -- merchants ------------------------------------------------------------------------------
@applications.route("/merchant/register", methods=["GET", "POST"])
def merchant_register() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        merchant = tk.get_action("sanyi_merchant_show")(page_context(), {})
    except tk.ObjectNotFound:
        merchant = None
    errors: dict[str, Any] = {}
    values = dict(merchant or {})
    if tk.request.method == "POST":
        values = dict(tk.request.form)
        upload = tk.request.files.get(licence.FIELD)
        try:
            _act("sanyi_merchant_register",
                 dict(values, **({licence.FIELD: upload} if upload else {})))
            tk.h.flash_success(sanyi_t("数商资料已保存，等待数据局核验。", "Profile saved; the bureau will verify it."))
            return tk.redirect_to("sanyi_applications.merchant_register")
        except tk.ValidationError as err:
            errors = err.error_dict
    return tk.render("sanyi/applications/merchant_register.html",
                     {"merchant": merchant, "values": values, "errors": errors})


@applications.route("/merchant/<id>/licence")
def merchant_licence(id: str) -> Any:
    """The merchant's business licence: to its own account, the bureau and sysadmins."""
    if (redirect := login_redirect()) is not None:
        return redirect
    merchant = _act("sanyi_merchant_show", {"id": id})
    shown = licence.current(merchant["id"])
    if shown is None:
        return tk.abort(404, bi("该数商尚未上传营业执照", "This merchant has not uploaded a business licence"))
    return licence.response(shown)


@applications.route("/merchant/applications")
def merchant_applications() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    number, page = numbered(tk.request.args.get("page"), PER_PAGE)
    result = _act("sanyi_application_list", {"limit": page.limit, "offset": page.offset,
                                             "mine": True})
    return tk.render("sanyi/applications/merchant_applications.html",
                     {"rows": result["results"], "count": result["count"], "page": number})


@applications.route("/merchant/entitlements")
def merchant_entitlements() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    result = _act("sanyi_entitlement_list", {"limit": 100, "mine": True})
    return tk.render("sanyi/applications/entitlements.html",
                     {"rows": result["results"], "bureau": False})


@applications.route("/merchant/orders")
def merchant_orders() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        orders = tk.get_action("sanyi_order_list")(page_context(), {})["results"]
    except KeyError:  # payments not installed: show the fees locked on applications
        orders = None
    result = _act("sanyi_application_list", {"mine": True, "limit": 100, "status":
                                             "awaiting_payment,paid,active,suspended,expired,revoked"})
    charged = [r for r in result["results"] if r["quote"]]
    return tk.render("sanyi/applications/merchant_orders.html",
                     {"orders": orders, "charged": charged})


# -- applying -------------------------------------------------------------------------------
def _form_values() -> dict[str, Any]:
    form = tk.request.form
    data: dict[str, Any] = {k: form.get(k, "") for k in _FORM_FIELDS}
    data["data_items"] = form.getlist("data_items")
    data["attachment_urls"] = [u for u in form.get("attachment_urls", "").split() if u]
    data["attachment_upload"] = [f for f in tk.request.files.getlist("attachment_upload")
                                 if f and f.filename]
    if form.getlist("remove_attachments"):
        data["remove_attachments"] = form.getlist("remove_attachments")
    if form.get("version"):
        data["version"] = form["version"]
    return data


def _render_form(product: str, values: dict[str, Any], errors: dict[str, Any],
                 application: dict[str, Any] | None = None) -> Any:
    try:
        options = _act("sanyi_application_data_items", {"product": product})
    except tk.ValidationError as err:  # unknown or unlisted product
        return tk.abort(404, " ".join(_lines(err)))
    return tk.render("sanyi/applications/apply_form.html", {
        "options": options, "values": values, "errors": errors, "application": application})


@applications.route("/apply/<product>", methods=["GET", "POST"])
def apply(product: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    if tk.h.sanyi_my_merchant() is None:
        tk.h.flash_notice(sanyi_t("申请前请先注册数商（企业）资料。", "Register your company before applying."))
        return tk.redirect_to("sanyi_applications.merchant_register")
    if tk.request.method == "GET":
        return _render_form(product, {"data_items": [], "use": ""}, {})
    values = dict(_form_values(), product=product)
    try:
        app = _act("sanyi_application_create", values)
    except tk.ValidationError as err:
        return _render_form(product, values, err.error_dict)
    return _after_save(app)


def _after_save(app: dict[str, Any]) -> Any:
    if tk.request.form.get("submit_now"):
        try:
            _act("sanyi_application_submit", {"id": app["id"]})
            tk.h.flash_success(sanyi_t("申请已提交，等待数源单位审核。", "Submitted for review."))
        except tk.ValidationError as err:
            tk.h.flash_notice(sanyi_t("申请已保存为草稿。", "Saved as a draft."))
            _flash(err)
    else:
        tk.h.flash_success(sanyi_t("申请已保存为草稿。", "Saved as a draft."))
    return tk.redirect_to("sanyi_applications.read", id=app["id"])


@applications.route("/application/<id>/edit", methods=["GET", "POST"])
def edit(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    app = _act("sanyi_application_show", {"id": id})
    if "submit" not in app["allowed_events"]:
        tk.h.flash_notice(sanyi_t("只有申请人可以修改草稿或退回修改的申请。",
                                  "Only the applicant can change a draft or returned application."))
        return tk.redirect_to("sanyi_applications.read", id=id)
    if tk.request.method == "GET":
        values = {k: app.get(k) for k in _FORM_FIELDS}
        values.update(data_items=app["data_items"], version=app["version"])
        return _render_form(app["product"]["name"], values, {}, app)
    values = dict(_form_values(), id=id)
    try:
        app = _act("sanyi_application_update", values)
    except tk.ValidationError as err:
        return _render_form(app["product"]["name"], values, err.error_dict, app)
    return _after_save(app)


# -- one application ------------------------------------------------------------------------
@applications.route("/application/<id>")
def read(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    app = _act("sanyi_application_show", {"id": id})
    return tk.render("sanyi/applications/read.html", {"application": app})


@applications.route("/application/<id>/<op>", methods=["POST"])
def act(id: str, op: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    form = tk.request.form
    actions = {"submit": ("sanyi_application_submit", {}),
               "withdraw": ("sanyi_application_withdraw", {"reason": form.get("reason")}),
               "review": ("sanyi_application_review", {
                   "decision": form.get("decision"), "comment": form.get("comment"),
                   "organization": form.get("unit") or None, "version": form.get("version") or None})}
    if op not in actions:
        return tk.abort(404)
    action, data = actions[op]
    try:
        _act(action, dict(data, id=id))
        tk.h.flash_success(sanyi_t("操作已完成。", "Done."))
    except tk.ValidationError as err:
        _flash(err)
    return tk.redirect_to("sanyi_applications.read", id=id)


@applications.route("/application/<id>/attachment/<attachment_id>")
def attachment(id: str, attachment_id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    _act("sanyi_application_show", {"id": id})  # 403/404 unless the user may see it
    att = attachments.get(id, attachment_id)
    if att is None:
        return tk.abort(404)
    if att["kind"] == "url":
        return tk.redirect_to(att["url"])
    return attachments.response(att)  # typed by extension, download only, nosniff


# -- reviewers --------------------------------------------------------------------------------
@applications.route("/review/applications")
def review_queue() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    show_all = tk.request.args.get("all") == "1"
    status = tk.request.args.get("status") or None
    try:
        result = _act("sanyi_application_list", {"queue": not show_all, "status": status,
                                                 "limit": 100})
    except tk.ValidationError:
        result, status = _act("sanyi_application_list", {"queue": not show_all, "limit": 100}), None
    return tk.render("sanyi/applications/review_queue.html",
                     {"rows": result["results"], "count": result["count"], "show_all": show_all,
                      "status": status})


@applications.route("/bureau/merchants", methods=["GET", "POST"])
def bureau_merchants() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    if tk.request.method == "POST":
        form = tk.request.form
        try:
            _act("sanyi_merchant_verify", {"id": form.get("id"), "decision": form.get("decision"),
                                           "comment": form.get("comment")})
            tk.h.flash_success(sanyi_t("核验结果已保存。", "Verification saved."))
        except tk.ValidationError as err:
            _flash(err)
        return tk.redirect_to("sanyi_applications.bureau_merchants")
    status = tk.request.args.get("status", "pending") or None
    result = _act("sanyi_merchant_list", {"status": status if status != "all" else None,
                                          "limit": 100})
    return tk.render("sanyi/applications/bureau_merchants.html",
                     {"rows": result["results"], "status": status})


@applications.route("/bureau/entitlements")
def bureau_entitlements() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    if not tk.h.sanyi_application_roles()["bureau"]:
        return tk.abort(403, bi("只有数据局可以管理授权", "Only the bureau manages entitlements"))
    result = _act("sanyi_entitlement_list", {"limit": 100})
    return tk.render("sanyi/applications/entitlements.html", {"rows": result["results"],
                                                              "bureau": True})


@applications.route("/entitlement/<id>/<op>", methods=["POST"])
def entitlement_change(id: str, op: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    if op not in ("suspend", "resume", "revoke"):
        return tk.abort(404)
    try:
        _act(f"sanyi_entitlement_{op}", {"id": id, "reason": tk.request.form.get("reason")})
        tk.h.flash_success(sanyi_t("授权状态已更新。", "Entitlement updated."))
    except tk.ValidationError as err:
        _flash(err)
    return tk.redirect_to("sanyi_applications.bureau_entitlements")


# -- dashboard --------------------------------------------------------------------------------
@applications.route("/dashboard/applications")
def dashboard() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    user = tk.g.userobj
    return tk.render("sanyi/applications/dashboard.html", {
        "user_dict": {"name": user.name, "display_name": user.display_name},
        "notifications": notify.unread(user.id, 50),
        "queue": _act("sanyi_application_list", {"queue": True, "limit": 20})})


@applications.route("/dashboard/applications/read", methods=["POST"])
def dashboard_read() -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    notify.mark_read(tk.g.userobj.id)
    return tk.redirect_to("sanyi_applications.dashboard")
