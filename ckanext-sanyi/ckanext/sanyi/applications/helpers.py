"""Template helpers of the application pages (registered by the plugin's helpers blanket).

``sanyi_todo()`` is what the dashboard and the account bar show: the items waiting for the
current user (see :func:`.read.queue_count`) and the unread notifications.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from ..common.helpers import sanyi_is_zh, sanyi_t
from ..common.user import acting_user
from ..domain.approval import Status
from . import access, forms, merchants, notify, read

__all__ = ["sanyi_todo", "sanyi_notifications", "sanyi_application_status_label",
           "sanyi_use_label", "sanyi_unit_label", "sanyi_size_label", "sanyi_my_merchant",
           "sanyi_application_roles", "sanyi_apply_url"]


def sanyi_todo() -> dict[str, int]:
    """``{"waiting", "unread", "total"}`` for the current user (zeros when logged out)."""
    user = acting_user()
    if not user:
        return {"waiting": 0, "unread": 0, "total": 0}
    waiting, unread = read.queue_count(user), notify.unread_count(user.id)
    return {"waiting": waiting, "unread": unread, "total": waiting + unread}


def sanyi_notifications(limit: int = 20) -> list[dict[str, Any]]:
    user = acting_user()
    return notify.unread(user.id, limit) if user else []


def sanyi_application_status_label(status: str) -> str:
    try:
        st = Status(status)
    except ValueError:
        return status
    return st.zh if sanyi_is_zh() else read.STATUS_EN[st.value]


def _pick(table: dict[str, tuple[str, str]], value: str) -> str:
    zh, en = table.get(value, (value, value))
    return sanyi_t(zh, en)


def sanyi_use_label(use: str) -> str:
    return _pick(forms.USES, use)


def sanyi_unit_label(unit: str) -> str:
    return _pick(forms.UNITS, unit)


def sanyi_size_label(size: str) -> str:
    return _pick(forms.SIZES, size)


def sanyi_my_merchant() -> dict[str, Any] | None:
    user = acting_user()
    row = access.merchant_for(user) if user else None
    return merchants.as_dict(row) if row else None


def sanyi_application_roles() -> dict[str, bool]:
    """Which application pages the current user has: merchant, unit, bureau."""
    user = acting_user()
    if not user:
        return {"merchant": False, "unit": False, "bureau": False, "staff": False}
    return {"merchant": access.merchant_for(user) is not None,
            "unit": bool(access.unit_names(user)), "bureau": access.is_bureau(user),
            "staff": access.is_staff(user)}


def sanyi_apply_url(pkg: dict[str, Any]) -> str | None:
    """The apply link of a listed product (None for anything else)."""
    if pkg.get("type") != "product" or pkg.get("status") != "approved" or pkg.get("private"):
        return None
    return tk.h.url_for("sanyi_applications.apply", product=pkg["name"])
