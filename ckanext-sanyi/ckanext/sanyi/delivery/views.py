"""Blueprints of the delivery gateway.

``sanyi_delivery_oauth`` — machine endpoints, exempt from CKAN's CSRF protection (each
authenticates its own caller), JSON in every answer (never an HTML error page, never a 500
for bad input):

* ``POST /api/delivery/oauth/token`` (RFC 6749 §4.4) and ``POST /api/delivery/oauth/revoke``
  (RFC 7009): the OAuth client authenticates (:mod:`.oauth`);
* ``POST /api/delivery/oauth/introspect`` (RFC 7662): for bureau and operator staff,
  authenticated by their CKAN API token, or by their session cookie and then with the CSRF
  token (form field ``_csrf_token`` or header ``X-CSRFToken``); anyone else is refused (403).

``sanyi_delivery_clients`` — the merchant's forms on 我的授权 (``/merchant/entitlements``),
CSRF-protected like every page: create a client, replace its secret, revoke it. After create
and rotate the page is rendered with the new secret, that once (``Cache-Control: no-store``).
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.config.middleware.flask_app import csrf
from flask import Blueprint, Response, request
from flask_wtf.csrf import CSRFError

from ..common import roles
from ..common.csrf import cookie_authenticated
from ..common.errors import error_lines
from ..common.i18n_text import bi
from ..common.session import rollback
from ..common.user import acting_user, login_redirect
from ..common.user import page_context as _ctx
from . import clients, oauth
from .gateway_views import gateway_api
from .http import NO_STORE, error_response, json_response

__all__ = ["oauth_api", "client_pages", "gateway_api"]

log = logging.getLogger(__name__)
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

oauth_api = Blueprint("sanyi_delivery_oauth", __name__)
csrf.exempt(oauth_api)
client_pages = Blueprint("sanyi_delivery_clients", __name__)


def _json_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """An unexpected error becomes a JSON ``server_error`` (logged), never an HTML page."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception:
            rollback()
            log.exception("delivery endpoint %s failed", request.path)
            zh, en = oauth.MESSAGES["server_error"]
            return error_response(500, "server_error", zh, en, NO_STORE)
    return wrapper


@oauth_api.route("/api/delivery/oauth/token", methods=ALL_METHODS)
@_json_errors
def token() -> Response:
    return oauth.token_response(request)


@oauth_api.route("/api/delivery/oauth/revoke", methods=ALL_METHODS)
@_json_errors
def revoke() -> Response:
    return oauth.revocation_response(request)


@oauth_api.route("/api/delivery/oauth/introspect", methods=ALL_METHODS)
@_json_errors
def introspect() -> Response:
    if request.method != "POST":
        response = error_response(405, "invalid_request", "只接受 POST 请求", "Only POST is accepted")
        response.headers["Allow"] = "POST"
        return response
    user = acting_user()
    if user is None or not (roles.is_bureau_staff(user) or roles.is_operator_staff(user)):
        return error_response(403, "access_denied", "只有数据局和运营机构的工作人员可以查询令牌状态",
                              "Only bureau and operator staff may introspect tokens", NO_STORE)
    if cookie_authenticated() and tk.config.get("WTF_CSRF_ENABLED"):
        try:
            csrf.protect()
        except CSRFError:
            return error_response(400, "invalid_request", "缺少或无效的 CSRF 令牌",
                                  "The CSRF token is missing or invalid", NO_STORE)
    if request.mimetype != "application/x-www-form-urlencoded":
        return error_response(400, "invalid_request",
                              "请求内容须为 application/x-www-form-urlencoded",
                              "The request body must be application/x-www-form-urlencoded",
                              NO_STORE)
    value = request.form.get("token")
    if not value:
        return error_response(400, "invalid_request", "缺少 token 参数",
                              "The token parameter is missing", NO_STORE)
    return json_response(clients.introspect(value), 200, NO_STORE)


# -- the merchant's forms on 我的授权 --------------------------------------------------------------
def sanyi_entitlement_clients() -> dict[str, list[dict[str, Any]]]:
    """The current merchant's API clients by entitlement id (template global of 我的授权)."""
    try:
        result = tk.get_action("sanyi_client_list")(_ctx(), {"limit": 100})
    except (tk.NotAuthorized, tk.ValidationError, tk.ObjectNotFound):
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for row in result["results"]:
        out.setdefault(row["entitlement_id"], []).append(row)
    return out


client_pages.add_app_template_global(sanyi_entitlement_clients, "sanyi_entitlement_clients")


def _entitlements_page(issued: dict[str, Any] | None = None) -> Any:
    rows = tk.get_action("sanyi_entitlement_list")(_ctx(), {"limit": 100, "mine": True})
    page = tk.render("sanyi/applications/entitlements.html",
                     {"rows": rows["results"], "bureau": False, "issued_client": issued})
    return Response(page, headers=NO_STORE if issued else None)


def _back() -> Any:
    return tk.redirect_to("sanyi_applications.merchant_entitlements")


def _flash(err: tk.ValidationError) -> None:
    for line in error_lines(err.error_dict or {}):  # the page's language, no field codes
        tk.h.flash_error(line)


def _act(action: str, data: dict[str, Any]) -> Any:
    try:
        return tk.get_action(action)(_ctx(), data)
    except tk.NotAuthorized as err:
        return tk.abort(403, str(err) or bi("无权执行此操作", "Not authorized"))
    except tk.ObjectNotFound as err:
        return tk.abort(404, str(err) or bi("未找到", "Not found"))


@client_pages.route("/merchant/entitlements/<entitlement_id>/clients", methods=["POST"])
def client_create(entitlement_id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        issued = _act("sanyi_client_create", {"entitlement_id": entitlement_id,
                                              "name": tk.request.form.get("name")})
    except tk.ValidationError as err:
        _flash(err)
        return _back()
    return _entitlements_page(issued)


@client_pages.route("/merchant/clients/<id>/rotate", methods=["POST"])
def client_rotate(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        issued = _act("sanyi_client_rotate", {"id": id})
    except tk.ValidationError as err:
        _flash(err)
        return _back()
    return _entitlements_page(issued)


@client_pages.route("/merchant/clients/<id>/revoke", methods=["POST"])
def client_revoke(id: str) -> Any:
    if (redirect := login_redirect()) is not None:
        return redirect
    try:
        _act("sanyi_client_revoke", {"id": id})
        tk.h.flash_success(tk.h.sanyi_t("接口客户端已撤销，其令牌已全部失效。",
                                        "The API client was revoked; its tokens no longer work."))
    except tk.ValidationError as err:
        _flash(err)
    return _back()
