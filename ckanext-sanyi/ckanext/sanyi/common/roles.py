"""Who is who on the platform: bureau staff, operator staff, data-unit editors.

The bureau (数据局) and the operator (运营机构) are CKAN organisations named in config
(``ckanext.sanyi.bureau_org``, ``ckanext.sanyi.operator_org``); a data unit is any other
organisation. Sysadmins count as bureau staff.
"""
from __future__ import annotations

from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import AuthResult

from .i18n_text import bi
from .user import as_user

BUREAU_ONLY = bi("只有数据局工作人员可以执行此操作", "Only data bureau staff may do this")
OPERATOR_ONLY = bi("只有运营机构工作人员可以执行此操作", "Only operator staff may do this")
BUREAU_OR_OPERATOR = bi("只有数据局或运营机构工作人员可以执行此操作",
                        "Only data bureau or operator staff may do this")


def bureau_org() -> str:
    return tk.config.get("ckanext.sanyi.bureau_org")


def operator_org() -> str:
    return tk.config.get("ckanext.sanyi.operator_org")


def is_member_of(user: Any, org_name: str, role: str = "editor") -> bool:
    obj = as_user(user)
    if obj is None:
        return False
    org = model.Group.get(org_name)
    return bool(org) and authz.has_user_permission_for_group_or_org(
        org.id, obj.name, "update_dataset" if role == "editor" else "read")


def is_bureau_staff(user: Any) -> bool:
    obj = as_user(user)
    return obj is not None and (obj.sysadmin or is_member_of(obj, bureau_org()))


def is_operator_staff(user: Any) -> bool:
    obj = as_user(user)
    return obj is not None and (obj.sysadmin or is_member_of(obj, operator_org()))


def bureau_only(user: Any) -> AuthResult:
    """An auth result: allowed for bureau staff, otherwise refused with :data:`BUREAU_ONLY`."""
    return {"success": True} if is_bureau_staff(user) else {"success": False, "msg": BUREAU_ONLY}


def operator_only(user: Any) -> AuthResult:
    """An auth result: allowed for operator staff, otherwise refused with :data:`OPERATOR_ONLY`."""
    if is_operator_staff(user):
        return {"success": True}
    return {"success": False, "msg": OPERATOR_ONLY}


def bureau_or_operator(user: Any) -> AuthResult:
    """An auth result: allowed for bureau or operator staff, otherwise refused with
    :data:`BUREAU_OR_OPERATOR`."""
    if is_bureau_staff(user) or is_operator_staff(user):
        return {"success": True}
    return {"success": False, "msg": BUREAU_OR_OPERATOR}
