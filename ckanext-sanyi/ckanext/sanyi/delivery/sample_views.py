"""Pages of desensitized samples and of data processors.

* ``/dataset/<id>/sample``: the sample of a catalog resource (active data processors; anyone
  else gets 403 and how to qualify). Never cached (``Cache-Control: no-store``).
* ``/processor/agreement``: the confidentiality agreement; a registered user accepts it
  (POST, CSRF-checked like every form).
* ``/processor/manage``: operator and bureau staff register (verify identity), file and revoke
  processors, see recent views and trace a marker.

Every page goes through the actions, so pages and API refuse the same things.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, make_response

from ..common.errors import error_lines, one_language
from ..common.i18n_text import bi
from ..common.paging import MAX_OFFSET, page_number
from ..common.user import page_context as _ctx

__all__ = ["sample_pages"]

sample_pages = Blueprint("sanyi_samples", __name__)
PER_PAGE = 50
_REGISTER_FIELDS = ("user", "real_name", "document_kind", "document_number", "employer")


def _t(zh: str, en: str) -> str:
    return tk.h.sanyi_t(zh, en)


def _login() -> Any:
    if not tk.g.user:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    return None


def _lines(err: tk.ValidationError) -> list[str]:
    return error_lines(err.error_dict or {})  # the page's language, no field codes


def _no_store(body: str, status: int = 200) -> Any:
    res = make_response(body, status)
    res.headers["Cache-Control"] = "no-store"
    res.headers["X-Robots-Tag"] = "noindex, nofollow"
    return res


def _dataset(id: str) -> dict[str, Any]:
    try:
        pkg = tk.get_action("package_show")(_ctx(), {"id": id})
    except (tk.ObjectNotFound, tk.NotAuthorized):
        return tk.abort(404, bi("未找到该数据资源", "Catalog resource not found"))
    except tk.ValidationError:
        return tk.abort(400, bi("资源标识无效", "Not a valid resource id"))
    if pkg.get("type") != "dataset":
        return tk.abort(404, bi("未找到该数据资源", "Catalog resource not found"))
    return pkg


@sample_pages.route("/dataset/<id>/sample")
def sample(id: str) -> Any:
    pkg = _dataset(id)
    try:
        result = tk.get_action("sanyi_sample_show")(_ctx(), {"id": pkg["id"]})
    except tk.NotAuthorized as err:
        return _no_store(tk.render("sanyi/samples/qualify.html",
                                   {"pkg": pkg, "message": str(err)}), 403)
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("该资源没有样例", "This resource has no sample"))
    return _no_store(tk.render("sanyi/samples/sample.html", {"pkg": pkg, "sample": result}))


def _own() -> dict[str, Any] | None:
    try:
        return tk.get_action("sanyi_processor_show")(_ctx(), {})
    except tk.ObjectNotFound:
        return None


@sample_pages.route("/processor/agreement", methods=["GET", "POST"])
def agreement() -> Any:
    if (redirect := _login()) is not None:
        return redirect
    errors: dict[str, Any] = {}
    if tk.request.method == "POST":
        form = tk.request.form
        if form.get("accept") != "yes":
            errors = {"accept": [bi("请勾选“我已阅读并同意”", "Tick “I have read and accept”")]}
        else:
            try:
                tk.get_action("sanyi_processor_accept_agreement")(
                    _ctx(), {"agreement_version": form.get("agreement_version")})
                tk.h.flash_success(_t("您已签署保密协议，可以查看数据资源的脱敏样例。",
                                      "Agreement accepted: you may now view the samples."))
                return tk.redirect_to("sanyi_samples.agreement")
            except tk.ValidationError as err:
                errors = err.error_dict
    return tk.render("sanyi/samples/agreement.html",
                     {"processor": _own(), "errors": errors})


def _manage_post() -> None:
    form = tk.request.form
    op = form.get("op")
    if op == "register":
        data = {k: form.get(k, "") for k in _REGISTER_FIELDS}
        action, done = "sanyi_processor_register", _t("身份核验已登记。", "Identity recorded.")
    elif op == "file":
        data = {"id": form.get("id"), "filing_no": form.get("filing_no")}
        action, done = "sanyi_processor_file", _t("备案已登记。", "Filing recorded.")
    elif op == "revoke":
        data = {"id": form.get("id"), "reason": form.get("reason")}
        action, done = "sanyi_processor_revoke", _t("登记已撤销。", "Registration revoked.")
    else:
        tk.abort(400, bi("未知的操作", "Unknown operation"))
    try:
        tk.get_action(action)(_ctx(), data)
        tk.h.flash_success(done)
    except tk.NotAuthorized as err:
        tk.h.flash_error(one_language(err))
    except (tk.ValidationError, tk.ObjectNotFound) as err:
        for line in (_lines(err) if isinstance(err, tk.ValidationError) else
                     [one_language(err)]):
            tk.h.flash_error(line)


@sample_pages.route("/processor/manage", methods=["GET", "POST"])
def manage() -> Any:
    if (redirect := _login()) is not None:
        return redirect
    try:
        tk.check_access("sanyi_processor_list", _ctx(), {})
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err))
    if tk.request.method == "POST":
        _manage_post()
        return tk.redirect_to("sanyi_samples.manage")
    args = tk.request.args
    status = args.get("status") or "all"
    number = page_number(args.get("page"))
    try:
        result = tk.get_action("sanyi_processor_list")(_ctx(), {
            "status": status if status in ("pending", "active", "revoked") else None,
            "limit": PER_PAGE, "offset": min((number - 1) * PER_PAGE, MAX_OFFSET)})
        views = tk.get_action("sanyi_sample_view_list")(_ctx(), {"limit": 20})
    except tk.ValidationError as err:
        return tk.abort(400, " ".join(_lines(err)))
    traced, trace_error = None, None
    if args.get("marker"):
        try:
            traced = tk.get_action("sanyi_sample_trace")(_ctx(), {"marker": args["marker"]})
        except tk.ValidationError as err:
            trace_error = " ".join(str(m) for m in err.error_dict.get("marker", []))
    return tk.render("sanyi/samples/manage.html", {
        "rows": result["results"], "count": result["count"], "page": number, "status": status,
        "views": views["results"], "traced": traced, "trace_error": trace_error,
        "marker": args.get("marker", "")})
