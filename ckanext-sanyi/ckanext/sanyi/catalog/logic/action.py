"""Actions of ckanext-sanyi (the public API; the pages use them)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common import clock
from ...common.i18n_text import bi
from ...common.ids import clean_id
from ...common.schema import given, validated
from ...common.user import LOGIN_FIRST, acting_user
from ...search.guard import package_search  # noqa: F401  (chained: input types)
from .. import overdue
from ..guards import (  # noqa: F401  (chained: input types)
    package_create,
    package_delete,
    package_patch,
    package_show,
    package_update,
)

__all__ = ["sanyi_mark_updated", "sanyi_overdue_list", "package_search", "package_show",
           "package_create", "package_update", "package_patch", "package_delete"]


def sanyi_mark_updated(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Mark a catalog resource as updated (today, or ``date``): one step for a data unit.

    :param id: the resource's id or name
    :param date: ISO date of the update (optional, default today; not in the future)
    """
    ref = clean_id(data_dict.get("id"))
    tk.check_access("sanyi_mark_updated", context, {"id": ref})
    day = data_dict.get("date") or clock.today().isoformat()
    pkg = tk.get_action("package_show")(dict(context), {"id": ref})
    if pkg.get("type") != "dataset":
        raise tk.ValidationError({"id": [bi("只有目录资源有更新周期",
                                            "Only catalog resources have an update cycle")]})
    return tk.get_action("package_patch")(dict(context), {"id": pkg["id"], "last_updated": day})


@tk.side_effect_free
def sanyi_overdue_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Catalog resources past their due date in the organisations the caller can edit
    (a sysadmin: all of them).

    :param today: ISO date to evaluate against (optional, default today)
    :returns: ``{"count", "results"}``; each with ``name``, ``title``, ``organization``,
        ``update_cycle``, ``last_updated``, ``next_due``, ``days_overdue``
    """
    tk.check_access("sanyi_overdue_list", context, data_dict)
    today = validated(data_dict, {"today": [_optional_day]})["today"]
    user = acting_user(context)
    if user is None and not context.get("ignore_auth"):
        raise tk.NotAuthorized(LOGIN_FIRST)
    # a user sees their own organisations even when an internal caller skips auth
    rows = overdue.overdue_resources(user=user, today=today)
    return {"count": len(rows), "results": rows}


def _optional_day(value: Any) -> dt.date | None:
    """An ISO date, or None when not given."""
    value = given(value)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise tk.Invalid(bi(f"日期格式无效“{value}”，应为 YYYY-MM-DD",
                            f"Invalid date '{value}', expected YYYY-MM-DD")) from None
