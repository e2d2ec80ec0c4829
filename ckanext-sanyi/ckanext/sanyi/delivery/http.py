"""JSON answers of the /api/delivery/* machine endpoints: one request id, one error body.

Every error is ``{"error": code, "error_description": English, "message": {"zh", "en"},
"request_id"}`` (the OAuth endpoints' codes and field names are RFC 6749 §5.2's). The request
id is the caller's ``X-Request-ID`` when it is a short token of safe characters, otherwise a
new one; it is sent back in the ``X-Request-ID`` header of every answer. No answer may be
cached by a shared cache (CKAN marks the rest of its answers ``public``); CKAN drops the
``Pragma`` header of every answer, so ``Cache-Control: no-store`` is what says it.

A call of the delivery API answered ahead of Flask (:mod:`.gateway_wsgi`) has no Flask request:
its request id lives in :func:`request_scope` instead of ``flask.g``.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from flask import Response, g, has_request_context, request

__all__ = ["request_id", "request_scope", "json_response", "error_response", "NO_STORE"]

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{8,64}$")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_scoped: contextvars.ContextVar[str | None] = contextvars.ContextVar("sanyi_request_id",
                                                                    default=None)


def _chosen(given: str | None) -> str:
    return given if given and _SAFE_ID.match(given) else uuid.uuid4().hex


def request_id() -> str:
    """The id of the current request (the same for every call within it)."""
    rid = _scoped.get()
    if rid is not None:
        return rid
    rid = g.get("sanyi_request_id")
    if rid is None:
        rid = g.sanyi_request_id = _chosen(request.headers.get("X-Request-ID", ""))
    return rid


@contextlib.contextmanager
def request_scope(given: str | None) -> Iterator[str]:
    """The request id of a request answered without Flask (the caller's ``X-Request-ID``
    when it is safe, ``given``), for :func:`request_id` inside the block."""
    rid = _chosen(given)
    token = _scoped.set(rid)
    try:
        yield rid
    finally:
        _scoped.reset(token)


def json_response(body: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status,
                        content_type="application/json;charset=utf-8")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    response.headers["X-Request-ID"] = request_id()
    if has_request_context():
        request.environ["__no_cache__"] = True  # CKAN's after_request: private, not public
    return response


def error_response(status: int, code: str, zh: str, en: str,
                   headers: Mapping[str, str] | None = None) -> Response:
    """The error body above with ``status``."""
    return json_response({"error": code, "error_description": en,
                          "message": {"zh": zh, "en": en}, "request_id": request_id()},
                         status, headers)
