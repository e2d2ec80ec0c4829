"""CSRF protection for every state-changing request authenticated by the session cookie.

CKAN 2.12 exempts a view from CSRF protection when a request to it comes "logged in via
header" (``ckan_before_request`` in ``ckan/config/middleware/flask_app.py`` calls
``csrf.exempt(view)``). ``load_user_from_request`` sets that flag for anonymous requests
too, and ``csrf.exempt`` lasts for the life of the process: after one anonymous POST to a
view, cookie-authenticated POSTs to it are no longer checked. :func:`guard` runs after
CKAN's own ``before_request`` and checks the token itself whenever the caller is a user
logged in by the session cookie, whatever exemptions earlier requests left behind.
Requests authenticated by an API token in the ``Authorization`` header stay exempt, as CKAN
intends, and so do blueprints exempted on purpose (the signed Stripe webhook).
"""
from __future__ import annotations

from typing import Any

from flask import g, request

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _csrf() -> Any:
    from ckan.config.middleware.flask_app import csrf
    return csrf


def machine_endpoint() -> bool:
    """The request is for a blueprint exempted from CSRF on purpose: one called by another
    system, which checks its own requests (the Stripe webhook verifies a signature and the
    body's shape itself)."""
    from flask import current_app
    blueprint = current_app.blueprints.get(request.blueprint or "")
    return blueprint is not None and blueprint in getattr(_csrf(), "_exempt_blueprints", ())


def cookie_authenticated() -> bool:
    """The request's user was logged in by the session cookie (not by an API token)."""
    from flask_login import current_user
    return bool(current_user.is_authenticated) and not g.get("login_via_auth_header")


def guard() -> None:
    """``before_app_request``: refuse (400) an unsafe cookie-authenticated request whose
    CSRF token (form field or ``X-CSRFToken`` header) is missing or wrong."""
    from ckan.common import config
    if request.method not in UNSAFE or not config.get("WTF_CSRF_ENABLED"):
        return
    if machine_endpoint() or not cookie_authenticated():
        return
    _csrf().protect()  # raises CSRFError (400) when the token is missing or invalid
