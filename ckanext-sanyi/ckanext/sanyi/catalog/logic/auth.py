"""Authorization functions, one per action and with the same name.

Besides the sanyi actions, two CKAN auth functions are chained: bureau staff (数据局, or a
sysadmin) may read and update every *product*, whichever organisation lists it, because
they review and approve products (approval itself is checked by the ``status`` field's
validator, ``sanyi_product_status``). Everything else keeps CKAN's rules: data-unit
editors edit only their own organisation's catalog resources.
"""
from __future__ import annotations

import ckan.authz as authz
import ckan.plugins.toolkit as tk
from ckan.types import AuthFunction, AuthResult, Context, DataDict

from ...common import roles
from ...common.user import LOGIN_FIRST, acting_user, login_required

__all__ = ["sanyi_mark_updated", "sanyi_overdue_list", "package_show", "package_update",
           "sanyi_catalog_import", "sanyi_catalog_export"]


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


@login_required
def sanyi_overdue_list(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


def _bureau_on_product(context: Context, data_dict: DataDict) -> bool:
    from ckan.logic.auth import get_package_object
    user = acting_user(context)
    if user is None:
        return False
    try:
        pkg = get_package_object(context, data_dict)
    except tk.ObjectNotFound:
        return False
    return pkg.type == "product" and roles.is_bureau_staff(user)


@tk.chained_auth_function
@tk.auth_allow_anonymous_access  # as CKAN's: the chain takes this function's attributes
def package_show(next_auth: AuthFunction, context: Context, data_dict: DataDict) -> AuthResult:
    """Bureau staff see products before approval (they review them)."""
    result = next_auth(context, data_dict)
    if not result.get("success") and _bureau_on_product(context, data_dict):
        return {"success": True}
    return result


@tk.chained_auth_function
@tk.auth_allow_anonymous_access  # as CKAN's (it refuses anonymous users itself)
def package_update(next_auth: AuthFunction, context: Context,
                   data_dict: DataDict) -> AuthResult:
    """Bureau staff update products (approve, delist) listed by the operator."""
    result = next_auth(context, data_dict)
    if not result.get("success") and _bureau_on_product(context, data_dict):
        return {"success": True}
    return result


def sanyi_catalog_import(context: Context, data_dict: DataDict) -> AuthResult:
    """Importing (and exporting) catalog files: an editor of the unit ``organization`` for
    that unit; bureau staff (sysadmins included) for any unit, without ``organization``
    for several at once, and they alone with ``create_units``."""
    user = acting_user(context)
    if user is None:
        return {"success": False, "msg": LOGIN_FIRST}
    if roles.is_bureau_staff(user):
        return {"success": True}
    org = data_dict.get("organization")
    if data_dict.get("create_units") or not org:
        return {"success": False, "msg": roles.BUREAU_ONLY}
    if authz.has_user_permission_for_group_or_org(org, user.name, "update_dataset"):
        return {"success": True}
    return {"success": False, "msg": "只有本单位的编辑可以导入或导出本单位的目录 / "
                                    "Only the unit's editors may import or export its catalog"}


sanyi_catalog_export = sanyi_catalog_import
