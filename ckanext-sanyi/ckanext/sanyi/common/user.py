"""The acting user: one answer to "who is calling?" for actions, auth functions, views, helpers.

CKAN puts ``current_user`` into ``context["auth_user_obj"]``; for a visitor who is not logged
in that is a ``flask_login`` ``AnonymousUser``, which is truthy. Code that tests
``context.get("auth_user_obj") or ...`` therefore takes a visitor for a user (and CKAN's
``auth_disallow_anonymous_access`` check, which tests the same value, lets the call through).
Everything here answers a real, active ``model.User`` or None.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from .i18n_text import bi

LOGIN_FIRST = bi("请先登录", "Log in first")


def as_user(value: Any) -> model.User | None:
    """A ``model.User`` for a user object, a name or an id; None for anything else
    (an anonymous visitor, an empty or malformed name, a deleted user)."""
    if isinstance(value, model.User):
        user: model.User | None = value
    elif isinstance(value, str) and value and "\x00" not in value and len(value) <= 200:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates
            return None
        user = model.User.get(value)
    else:
        return None
    if user is None or user.state != "active":
        return None
    return user


def acting_user(context: Any = None) -> model.User | None:
    """The logged-in user a call acts for, or None (anonymous, or an internal call with no user).

    With a ``context`` (actions, auth functions, validators): its ``auth_user_obj`` when that
    is a real user, otherwise its ``user`` name. Without one (views, template helpers): the
    request's ``current_user``.
    """
    if context is None:
        try:
            current = tk.current_user
            return as_user(current._get_current_object()
                           if hasattr(current, "_get_current_object") else current)
        except RuntimeError:  # outside a request
            return None
    obj = context.get("auth_user_obj")
    if isinstance(obj, model.User):
        return as_user(obj)
    return as_user(context.get("user"))


def require_user(context: Any = None) -> model.User:
    """The acting user; ``NotAuthorized`` (403) for an anonymous caller."""
    user = acting_user(context)
    if user is None:
        raise tk.NotAuthorized(LOGIN_FIRST)
    return user


def is_internal(context: Any) -> bool:
    """An internal call: ``ignore_auth`` with no user at all (e.g. a CLI job)."""
    return bool(context.get("ignore_auth")) and acting_user(context) is None \
        and not context.get("user")


def login_required(auth_function: Any) -> Any:
    """Refuse anonymous callers before ``auth_function`` runs.

    Stands in for ``tk.auth_disallow_anonymous_access``, whose check in CKAN 2.12
    (``authz.is_authorized``) tests ``context["auth_user_obj"]`` for truth and so lets an
    ``AnonymousUser`` through to the function.
    """
    import functools

    @functools.wraps(auth_function)
    def wrapper(context: Any, data_dict: Any) -> Any:
        if acting_user(context) is None:
            return {"success": False, "msg": LOGIN_FIRST}
        return auth_function(context, data_dict)

    wrapper.auth_allow_anonymous_access = False  # type: ignore[attr-defined]
    return wrapper


def site_user_name() -> str:
    """The name of CKAN's site user, who acts for the system (CLI jobs, webhooks, demo data)."""
    return tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]


def actor_name(context: Any) -> str:
    """Who an action's audit records name: the calling user, or the site user for an
    internal call without one."""
    return context.get("user") or site_user_name()


def page_context() -> dict[str, Any]:
    """The action context of a page: the request's user (CKAN resolves the rest)."""
    return {"user": tk.g.user}


def login_redirect() -> Any:
    """For a page that needs a login: the redirect to the login page (coming back here
    afterwards) when nobody is logged in, else None."""
    if not tk.g.user:
        return tk.redirect_to("user.login", came_from=tk.request.full_path)
    return None
