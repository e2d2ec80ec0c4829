"""Authorization functions, one per action and with the same name."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

__all__ = ["sanyi_mark_updated", "sanyi_overdue_list"]


def sanyi_mark_updated(context: Context, data_dict: DataDict) -> AuthResult:
    """Whoever may edit the resource (its data unit's editors) may mark it updated."""
    return _can_update(context, data_dict)


def _can_update(context: Context, data_dict: DataDict) -> AuthResult:
    try:
        tk.check_access("package_update", context, {"id": data_dict.get("id")})
        return {"success": True}
    except tk.NotAuthorized:
        return {"success": False, "msg": "只有该资源的数源单位可以标记更新 / "
                                        "Only the resource's data unit can mark it updated"}


@tk.auth_disallow_anonymous_access
def sanyi_overdue_list(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}
