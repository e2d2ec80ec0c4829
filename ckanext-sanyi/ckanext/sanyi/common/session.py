"""Errors inside a request: never a 500 for a refusal, never a broken session afterwards.

A database error inside a request aborts the session's transaction. CKAN renders its error
page in the same session (our header's to-do count queries again) and only removes the
session in ``after_request``, which an error inside the error page skips; the scoped
session, aborted, then serves the thread's next request. Rolling back as soon as an
exception is seen, and removing the session when the request is torn down, closes both gaps.
"""
from __future__ import annotations

from typing import Any


def rollback(*_: Any, **__: Any) -> None:
    import ckan.model as model
    try:
        model.Session.rollback()
    except Exception:  # the connection itself may be gone; remove() below starts afresh
        model.Session.remove()


def teardown(exc: BaseException | None = None) -> None:
    if exc is not None:
        rollback()


def _as_http(app: Any, status: Any) -> Any:
    def handler(err: Exception) -> Any:
        rollback()
        message = getattr(err, "message", None) or str(err) or None
        return app.handle_http_exception(status(description=message))
    return handler


def install(app: Any) -> None:
    """Connect :func:`rollback` to Flask's ``got_request_exception`` for ``app``, and answer
    a refusal that a view (CKAN's or ours) lets escape with its HTTP status and CKAN's error
    page instead of a 500: ``NotAuthorized`` 403, ``ObjectNotFound`` 404,
    ``ValidationError`` 400."""
    import ckan.plugins.toolkit as tk
    from flask import got_request_exception
    from werkzeug.exceptions import BadRequest, Forbidden, NotFound
    got_request_exception.connect(rollback, app, weak=False)
    app.register_error_handler(tk.NotAuthorized, _as_http(app, Forbidden))
    app.register_error_handler(tk.ObjectNotFound, _as_http(app, NotFound))
    app.register_error_handler(tk.ValidationError, _as_http(app, BadRequest))
