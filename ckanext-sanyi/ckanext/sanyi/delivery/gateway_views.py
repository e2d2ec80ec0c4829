"""The blueprint of the delivery API's calls and of its description.

``sanyi_delivery_gateway`` is a machine blueprint, exempt from CKAN's CSRF protection (each
call authenticates itself with its bearer token; :mod:`.gateway`):

* ``POST /api/delivery/v1/<product_name>/<operation>`` — one call (:func:`.gateway.handle`);
  any other path under ``/api/delivery/v1/`` answers a JSON 404 ``not_found``;
* ``GET /api/delivery/openapi.json`` — the OpenAPI 3.1 document (:func:`.openapi.document`);
* ``GET /api/delivery/docs`` — the documentation page for people, rendered on the server
  from the same document (Chinese by default, English at ``/en/api/delivery/docs``): no
  script or style from elsewhere, so it works on a closed network.

The calls are answered ahead of Flask, in a thin WSGI layer (:mod:`.gateway_wsgi`): a call
authenticates by its bearer token alone, so Flask's request context, CKAN's session, user
identification and per-request check that its configuration is current (a database query)
would only add to every call's time. The same path under a language prefix (``/en/...``) or
``ckan.root_path`` reaches the blueprint; it is answered by :func:`answer_call_first`, the
first ``before_request`` function of the app, ahead of CKAN's own request set-up (CKAN's
``after_request``, the session removed and the cache headers, still runs).

When the blueprint is registered (CKAN's start) it checks the benchmark switch
(:func:`.gateway.check_bench_config`), installs :func:`answer_call_first` and puts the WSGI
layer in front of the app.
"""
from __future__ import annotations

import logging
import time
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.config.middleware.flask_app import csrf
from flask import Blueprint, Response, g, request

from . import gateway, gateway_wsgi, openapi
from .http import NO_STORE, error_response, json_response

__all__ = ["gateway_api"]

log = logging.getLogger(__name__)
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

gateway_api = Blueprint("sanyi_delivery_gateway", __name__)
csrf.exempt(gateway_api)
CALL_ENDPOINT = "sanyi_delivery_gateway.call"


@gateway_api.route("/api/delivery/v1/<product>/<operation>", methods=ALL_METHODS)
def call(product: str, operation: str) -> Response:
    return gateway.handle(request, product, operation)


def answer_call_first() -> Response | None:
    """``before_request``, ahead of CKAN's: the answer to a call of the delivery API (None
    for any other request)."""
    if request.endpoint != CALL_ENDPOINT or not request.view_args:
        return None
    setattr(g, "__timer", time.time())  # noqa: B010 (CKAN's after_request reads g.__timer)
    return gateway.handle(request, request.view_args["product"], request.view_args["operation"])


@gateway_api.record_once
def _installed(state: Any) -> None:
    gateway.check_bench_config()
    state.app.before_request_funcs.setdefault(None, []).insert(0, answer_call_first)
    gateway_wsgi.install(state.app)


@gateway_api.route("/api/delivery/v1/", methods=ALL_METHODS, defaults={"rest": ""})
@gateway_api.route("/api/delivery/v1/<path:rest>", methods=ALL_METHODS)
def unknown(rest: str) -> Response:
    status, zh, en = gateway.ERRORS["not_found"]
    return error_response(status, "not_found", zh, en, NO_STORE)


@gateway_api.route("/api/delivery/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    try:
        return json_response(openapi.document(), 200, {"Cache-Control": "no-cache"})
    except Exception:
        log.exception("the OpenAPI document could not be built")
        status, zh, en = gateway.ERRORS["server_error"]
        return error_response(status, "server_error", zh, en, NO_STORE)


@gateway_api.route("/api/delivery/docs", methods=["GET"])
def docs() -> Any:
    zh = bool(tk.h.sanyi_is_zh())
    context = openapi.docs_context(openapi.document(), zh)
    return tk.render("sanyi/delivery/api_docs.html", {"docs": context})
