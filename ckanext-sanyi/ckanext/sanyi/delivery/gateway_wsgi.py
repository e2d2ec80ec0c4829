"""The delivery API's calls answered in a thin WSGI layer, ahead of Flask and CKAN.

:class:`CallDispatcher` wraps the Flask app's ``wsgi_app`` (installed by
:mod:`.gateway_views` when its blueprint is registered, so CKAN's test app and a WSGI server
both go through it). A request whose ``PATH_INFO`` is exactly
``/api/delivery/v1/<product>/<operation>`` (two non-empty segments) is answered here by
:func:`.gateway.handle` on a plain werkzeug request, inside an application context (for
``tk.g`` and ``current_app`` in the alerts hook) but without Flask's request context: no
session cookie opened or saved, no user identified, no URL routing, no per-request check of
CKAN's configuration. Every other request goes on to Flask unchanged (including the same path
under a language prefix or ``ckan.root_path``: the blueprint answers those, through
:func:`.gateway_views.answer_call_first`).

The answer carries the headers CKAN's ``after_request`` would give it: ``Cache-Control``
marked ``private`` (CKAN drops ``Pragma``) and the CORS headers of ``ckan.cors.*`` when the
request has an ``Origin``. CKAN's scoped database session is removed afterwards, as CKAN's
``after_request`` does.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from werkzeug.wrappers import Request, Response

from . import gateway
from .http import request_scope

__all__ = ["CallDispatcher", "PREFIX", "install"]

PREFIX = "/api/delivery/v1/"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _segments(path: str) -> tuple[str, str] | None:
    """``(product, operation)`` of a call path (``PATH_INFO``), else None."""
    if not path.startswith(PREFIX):
        return None
    parts = path[len(PREFIX):].split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    try:  # PEP 3333: PATH_INFO holds the URL's bytes as latin-1; Flask reads them as UTF-8
        return (parts[0].encode("latin-1").decode("utf-8", "replace"),
                parts[1].encode("latin-1").decode("utf-8", "replace"))
    except UnicodeEncodeError:
        return parts[0], parts[1]


class CallDispatcher:
    """WSGI middleware: answers the delivery API's calls, passes everything else on."""

    def __init__(self, flask_app: Any, wrapped: WSGIApp) -> None:
        self.flask_app = flask_app
        self.wrapped = wrapped

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        found = _segments(environ.get("PATH_INFO", ""))
        if found is None:
            return self.wrapped(environ, start_response)
        request = Request(environ)
        try:
            with self.flask_app.app_context(), \
                    request_scope(request.headers.get("X-Request-ID")):
                response = gateway.handle(request, found[0], found[1])
        finally:
            model.Session.remove()
        return _as_ckan_would(request, response)(environ, start_response)


def _as_ckan_would(request: Request, response: Response) -> Response:
    """The headers CKAN's ``after_request`` sets on an answer marked not cacheable."""
    response.headers.pop("Pragma", None)
    response.cache_control.private = True
    origin = request.headers.get("Origin")
    if origin:
        allowed = "*" if tk.config.get("ckan.cors.origin_allow_all") else \
            origin if origin in (tk.config.get("ckan.cors.origin_whitelist") or []) else None
        if allowed is not None:
            response.headers["Access-Control-Allow-Origin"] = allowed
            response.headers["Access-Control-Allow-Methods"] = "POST, PUT, GET, DELETE, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = \
                f'{tk.config.get("apitoken_header_name")}, Content-Type'
    return response


def install(flask_app: Any) -> None:
    """Put a :class:`CallDispatcher` in front of ``flask_app``'s ``wsgi_app`` (once)."""
    if not isinstance(flask_app.wsgi_app, CallDispatcher):
        flask_app.wsgi_app = CallDispatcher(flask_app, flask_app.wsgi_app)
