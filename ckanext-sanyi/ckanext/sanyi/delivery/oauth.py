"""OAuth 2.0 for the delivery API: oauthlib's server for the client credentials grant.

* Token (RFC 6749 §4.4): ``POST /api/delivery/oauth/token`` with
  ``grant_type=client_credentials`` and optional ``scope``; the client authenticates by HTTP
  Basic (``client_id:client_secret``, each form-urlencoded, §2.3.1) or by the form fields
  ``client_id`` and ``client_secret`` — one of the two, not both. Answer:
  ``{"access_token", "token_type": "Bearer", "expires_in", "scope"}``.
* Revocation (RFC 7009): ``POST /api/delivery/oauth/revoke`` with ``token``, the client
  authenticated as above; 200 whether or not the token was known (a token of another client
  is left alone, and that is not told either).
* Errors (RFC 6749 §5.2): ``invalid_request``, ``invalid_client`` (401 with
  ``WWW-Authenticate: Basic``), ``invalid_grant`` (the client's entitlement is not active or
  today is outside its period), ``unauthorized_client``, ``unsupported_grant_type``,
  ``invalid_scope`` (a scope not of the entitlement, or beyond the client's),
  ``unsupported_token_type``; each with a message in Chinese and English and the request id
  (:mod:`.http`).

Introspection (RFC 7662) is for people of the bureau and the operator, not for OAuth clients:
see :func:`.views.introspect`.

oauthlib logs the token it issues (at DEBUG): the token is a ``str`` whose ``repr`` is masked,
so that line (and any other ``%r`` of it) shows no token.
"""
from __future__ import annotations

import base64
import binascii
import contextvars
import json
import logging
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_plus

from flask import Request, Response
from oauthlib.oauth2 import BackendApplicationServer, RequestValidator
from oauthlib.oauth2.rfc6749 import errors

from ..domain import api_scope
from . import clients
from .http import NO_STORE, error_response, json_response

__all__ = ["token_response", "revocation_response", "quiet_token_decode", "MESSAGES"]

log = logging.getLogger(__name__)

MESSAGES: dict[str, tuple[str, str]] = {
    "invalid_request": ("请求格式不正确", "The request is malformed"),
    "invalid_client": ("客户端认证失败：客户端标识或密钥不正确，或客户端已撤销",
                       "Client authentication failed: unknown client, wrong secret or revoked "
                       "client"),
    "invalid_grant": ("授权当前不可用", "The entitlement cannot be used now"),
    "unauthorized_client": ("该客户端不能使用此授权方式",
                            "The client may not use this grant type"),
    "unsupported_grant_type": ("只支持 client_credentials 授权方式",
                               "Only the client_credentials grant type is supported"),
    "invalid_scope": ("请求的权限范围无效或超出该客户端的授权",
                      "The requested scope is unknown or beyond the client's entitlement"),
    "unsupported_token_type": ("只支持撤销访问令牌（access_token）",
                               "Only access tokens (access_token) can be revoked"),
    "server_error": ("服务器内部错误", "Internal server error"),
}
BASIC_CHALLENGE = 'Basic realm="sanyi-delivery", charset="UTF-8"'
_FORM = "application/x-www-form-urlencoded"
_reason: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "sanyi_oauth_reason", default=None)


class _Masked(str):
    """An access token: the text itself, but ``repr`` shows no token."""

    def __repr__(self) -> str:
        return "'<access token>'"


class _Client:
    """``request.client`` for oauthlib: the row of :func:`clients.find_client`."""

    __slots__ = ("client_id", "row")

    def __init__(self, row: dict[str, Any]) -> None:
        self.client_id = row["client_id"]
        self.row = row

    def __repr__(self) -> str:
        return f"<api client {self.client_id}>"


def _because(zh: str, en: str) -> None:
    _reason.set((zh, en))


def _credentials(request: Any) -> tuple[str, str] | None:
    """(client_id, client_secret) from HTTP Basic or the form; ``invalid_request`` when both
    are used."""
    form = dict(request.decoded_body or [])
    form_id, form_secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("Authorization", "") or ""
    basic = None
    if header[:6].lower() == "basic ":
        try:
            raw = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            _because("HTTP Basic 认证信息格式不正确", "The HTTP Basic credentials are malformed")
            return None
        client_id, sep, secret = raw.partition(":")
        if not sep:
            _because("HTTP Basic 认证信息格式不正确", "The HTTP Basic credentials are malformed")
            return None
        basic = (unquote_plus(client_id), unquote_plus(secret))
    if basic is not None:
        if form_secret is not None or (form_id is not None and form_id != basic[0]):
            _because("客户端认证只能使用一种方式（HTTP Basic 或表单字段）",
                     "Use one client authentication method: HTTP Basic or the form fields")
            raise errors.InvalidRequestError(
                description="Use one client authentication method: HTTP Basic or the form "
                            "fields", request=request)
        return basic
    if form_id and form_secret:
        return form_id, form_secret
    _because("缺少客户端认证信息（HTTP Basic 或 client_id 与 client_secret 表单字段）",
             "Client authentication is missing (HTTP Basic, or the client_id and client_secret "
             "form fields)")
    return None


class Validator(RequestValidator):
    """The client credentials grant over :mod:`.clients`."""

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        return True

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        creds = _credentials(request)
        if creds is None:
            clients.verify_secret("", None)  # as long as a wrong secret
            return False
        row = clients.find_client(creds[0])
        good = clients.verify_secret(creds[1], row["secret_hash"] if row else None)
        if row is None or not good or row["status"] != "active":
            return False
        request.client = _Client(row)
        request.client_id = row["client_id"]
        return True

    def validate_grant_type(self, client_id: str, grant_type: str, client: Any, request: Any,
                            *args: Any, **kwargs: Any) -> bool:
        if grant_type != "client_credentials":
            return False
        row = client.row
        refusal = clients.entitlement_refusal(row["entitlement_status"], row["period_start"],
                                              row["period_end"])
        if refusal is not None:
            zh, en = clients.ENTITLEMENT_REFUSALS[refusal]
            _because(zh, en)
            raise errors.InvalidGrantError(description=en, request=request)
        return True

    def get_default_scopes(self, client_id: str, request: Any, *args: Any,
                           **kwargs: Any) -> list[str]:
        return request.client.row["scope"].split()

    def validate_scopes(self, client_id: str, scopes: list[str], client: Any, request: Any,
                        *args: Any, **kwargs: Any) -> bool:
        row = client.row
        allowed = clients.entitlement_scopes(row)
        unknown = [s for s in scopes if s not in allowed]
        if unknown:
            text = " ".join(unknown)[:200]
            _because(f"授权不包含这些权限范围：{text}", f"Not scopes of the entitlement: {text}")
            return False
        if not api_scope.within(scopes, row["scope"].split(), row["product_name"]):
            _because("请求的权限范围超出该客户端的权限范围",
                     "The requested scope is beyond the client's scope")
            return False
        return True

    def save_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        clients.issue_token(request.client.row, request.scopes, token["access_token"],
                            int(token["expires_in"]))

    def revoke_token(self, token: str, token_type_hint: str | None, request: Any, *args: Any,
                     **kwargs: Any) -> None:
        clients.revoke_token(token, request.client.row["id"])


@lru_cache(maxsize=1)
def server() -> BackendApplicationServer:
    return BackendApplicationServer(
        Validator(), token_generator=lambda request: _Masked(clients.new_token()),
        token_expires_in=lambda request: clients.token_ttl())


def _error(code: str, status: int, description: str | None = None) -> Response:
    zh, en = _reason.get() or MESSAGES.get(code, MESSAGES["invalid_request"])
    if _reason.get() is None and description:
        en = description
    headers = dict(NO_STORE)
    if code == "invalid_client":
        status, headers["WWW-Authenticate"] = 401, BASIC_CHALLENGE
    return error_response(status, code, zh, en, headers)


def _answer(body: str, status: int) -> Response:
    if status == 200:
        return json_response(json.loads(body) if body else {}, 200, NO_STORE)
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        data = {}
    return _error(str(data.get("error") or "server_error"), status if status < 500 else 500,
                  data.get("error_description"))


def _call(endpoint: Any, request: Request) -> Response:
    _reason.set(None)
    if request.method != "POST":
        _because("只接受 POST 请求", "Only POST is accepted")
        response = _error("invalid_request", 405)
        response.headers["Allow"] = "POST"
        return response
    if request.mimetype != _FORM:
        _because(f"请求内容须为 {_FORM}", f"The request body must be {_FORM}")
        return _error("invalid_request", 400)
    body = list(request.form.items(multi=True))
    headers = {"Authorization": request.headers.get("Authorization", "")}
    try:
        _, text, status = endpoint(request.url, "POST", body, headers)
    except errors.OAuth2Error as err:
        return _error(err.error, err.status_code, err.description)
    except clients.StaleClient:
        _because("客户端密钥已更换或客户端已撤销", "The client's secret was replaced or the client "
                 "was revoked")
        return _error("invalid_client", 401)
    return _answer(text, status)


def token_response(request: Request) -> Response:
    """The answer to a token request (RFC 6749 §4.4.2, §5.1, §5.2)."""
    return _call(server().create_token_response, request)


def revocation_response(request: Request) -> Response:
    """The answer to a revocation request (RFC 7009 §2)."""
    return _call(server().create_revocation_response, request)


def quiet_token_decode(encoded: str) -> dict[str, Any] | None:
    """For CKAN's ``IApiToken.decode_api_token``: an ``Authorization`` header of the Basic or
    Bearer scheme is never a CKAN API token (those are sent bare). Answering a value without
    ``jti`` makes CKAN treat the request as anonymous without trying to decode it as a JWT
    (which would log an error for every call of the delivery API)."""
    scheme = encoded[:7].lower() if isinstance(encoded, str) else ""
    if scheme.startswith("basic ") or scheme == "bearer ":
        return {"sanyi": "not a CKAN API token"}
    return None
