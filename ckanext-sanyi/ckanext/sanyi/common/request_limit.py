"""The size limit of a request body: ``ckanext.sanyi.max_request_bytes`` (default 20 MiB).

It becomes Flask's ``MAX_CONTENT_LENGTH``: a larger body is refused before it is read
(Werkzeug raises ``RequestEntityTooLarge`` when a view, or the CSRF check, first reads the
form or the data). The refusal is a 413 with a message in Chinese and English: a JSON error
like the Action API's own for ``/api/...``, CKAN's error page otherwise -- never a 500.
"""
from __future__ import annotations

import json
import re
from typing import Any

import ckan.plugins.toolkit as tk
from werkzeug.exceptions import RequestEntityTooLarge

from .i18n_text import bi

__all__ = ["DEFAULT_BYTES", "max_request_bytes", "install"]

DEFAULT_BYTES = 20 * 1024 * 1024
_API = re.compile(r"^(?:/[A-Za-z]{2}(?:_[A-Za-z]+)?)?/api(?:/|$)")


def max_request_bytes() -> int:
    try:
        value = int(tk.config.get("ckanext.sanyi.max_request_bytes") or DEFAULT_BYTES)
    except (TypeError, ValueError):
        return DEFAULT_BYTES
    return value if value > 0 else DEFAULT_BYTES


def _size(n: int) -> str:
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n / 1024:g} KB"


def message() -> str:
    size = _size(max_request_bytes())
    return bi(f"请求过大：请求内容（含附件）合计不能超过 {size}",
              f"Request too large: the request (attachments included) may be at most {size}")


def _too_large(err: RequestEntityTooLarge) -> Any:
    from flask import Response, request
    text = message()
    if _API.match(request.path or ""):
        body = {"help": request.url_root.rstrip("/") + "/api/3/action/help_show",
                "success": False,
                "error": {"__type": "Request Too Large", "message": text}}
        return Response(json.dumps(body, ensure_ascii=False), status=413,
                        content_type="application/json;charset=utf-8")
    try:
        return tk.render("error_document_template.html",
                         {"code": 413, "content": text, "name": "Request Entity Too Large"}), 413
    except Exception:  # the error page itself must not turn this into a 500
        return Response(text, status=413, content_type="text/plain;charset=utf-8")


def install(app: Any) -> None:
    """Set ``MAX_CONTENT_LENGTH`` on the Flask ``app`` and answer 413 as described above."""
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes()
    app.register_error_handler(RequestEntityTooLarge, _too_large)
