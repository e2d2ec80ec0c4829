"""Text no database column can hold is refused where a request comes in.

PostgreSQL text cannot hold NUL, and a lone UTF-16 surrogate (``"\\ud800"`` in JSON) cannot
be encoded as UTF-8; either one reaching SQL is a driver error, whatever action or view it
passes through (CKAN's own included). JSON nested deeper than Python's parser can recurse
is a ``RecursionError`` inside CKAN's API view. :func:`guard` checks the URL's values, the
query string, the form and the JSON body of every request before any view runs, and answers
an error that names the field, in Chinese and English: under ``/api/`` a 409 with the body
CKAN's API gives any ``ValidationError``, on pages a 400.
"""
from __future__ import annotations

from typing import Any, Iterator

from flask import jsonify, request

from .i18n_text import bi

MAX_DEPTH = 64  # nesting of JSON bodies; no action takes anything near this deep


def _problem(text: str) -> str | None:
    if "\x00" in text:
        return bi("不能包含 NUL 字符", "must not contain the NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return bi("包含无效字符（孤立的代理项）", "contains an invalid character (a lone surrogate)")
    return None


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any, int]]:
    stack = [(path, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        yield where, item, depth
        if isinstance(item, dict):
            stack.extend((f"{where}.{k}" if where else str(k), v, depth + 1)
                         for k, v in item.items())
            stack.extend((where or "body", k, depth + 1) for k in item)  # keys too
        elif isinstance(item, list):
            stack.extend((where, v, depth + 1) for v in item)


def find_problem(value: Any, path: str = "") -> tuple[str, str] | None:
    """``(field, message)`` for the first string in ``value`` that no column can store, or
    for nesting past :data:`MAX_DEPTH`; None when all is well."""
    for where, item, depth in _walk(value, path):
        if depth > MAX_DEPTH:
            return where or "body", bi(f"嵌套超过 {MAX_DEPTH} 层", f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            problem = _problem(item)
            if problem:
                return where or "body", problem
    return None


def _refuse(field: str, message: str) -> Any:
    if request.path.startswith("/api/"):
        response = jsonify({"success": False, "error": {
            "__type": "Validation Error", field: [message]}})
        response.status_code = 409  # as CKAN answers a ValidationError
        return response
    from ckan.plugins import toolkit as tk
    return tk.abort(400, f"{field}: {message}")


def guard() -> Any:
    """``before_app_request``: a 400 for NUL, lone surrogates or over-deep JSON anywhere in
    the request; nothing else is touched. Machine endpoints check their own bodies.

    Also a 400 for a login form posted without its ``login`` or ``password`` field: CKAN's
    login view reads them unchecked (a 500), and a request carrying any ``Authorization``
    header (``Bearer garbage`` too) skips the CSRF check that would otherwise refuse it."""
    from .csrf import machine_endpoint
    if machine_endpoint():
        return None
    if request.method == "POST" and request.endpoint == "user.login":
        for name in ("login", "password"):
            if not request.form.get(name):
                return _refuse(name, bi("请填写用户名和密码", "the user name and the password are "
                                        "required"))
    sources: list[tuple[str, Any]] = [("", dict(request.view_args or {}))]
    sources.append(("", {k: request.args.getlist(k) for k in request.args}))
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.mimetype == "application/json" or request.is_json:
            try:
                body = request.get_json(silent=True)
            except RecursionError:
                return _refuse("body", bi(f"嵌套超过 {MAX_DEPTH} 层",
                                          f"nested deeper than {MAX_DEPTH} levels"))
            sources.append(("", body))
        elif request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sources.append(("", {k: request.form.getlist(k) for k in request.form}))
    for path, value in sources:
        found = find_problem(value, path)
        if found:
            return _refuse(*found)
    return None
