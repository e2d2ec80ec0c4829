"""Actions of ckanext-sanyi (the public API; the pages use them)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ..i18n_text import bi
from . import overdue

__all__ = ["sanyi_mark_updated", "sanyi_overdue_list"]


def sanyi_mark_updated(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Mark a catalog resource as updated (today, or ``date``): one step for a data unit.

    :param id: the resource's id or name
    :param date: ISO date of the update (optional, default today; not in the future)
    """
    ref = data_dict.get("id")
    if not ref:
        raise tk.ValidationError({"id": [bi("必填项", "Missing value")]})
    tk.check_access("sanyi_mark_updated", context, {"id": ref})
    day = data_dict.get("date") or dt.date.today().isoformat()
    pkg = tk.get_action("package_show")(dict(context), {"id": ref})
    if pkg.get("type") != "dataset":
        raise tk.ValidationError({"id": [bi("只有目录资源有更新周期",
                                            "Only catalog resources have an update cycle")]})
    return tk.get_action("package_patch")(dict(context), {"id": pkg["id"], "last_updated": day})


@tk.side_effect_free
def sanyi_overdue_list(context: Context, data_dict: DataDict) -> list[dict[str, Any]]:
    """Catalog resources past their due date that the calling user can edit.

    :param today: ISO date to evaluate against (optional, default today)
    """
    tk.check_access("sanyi_overdue_list", context, data_dict)
    user = context.get("auth_user_obj")
    today = dt.date.fromisoformat(data_dict["today"]) if data_dict.get("today") else None
    return overdue.overdue_resources(user=user if not context.get("ignore_auth") else None,
                                     today=today)
