"""Authorization of the API client actions (same names as the actions).

* create and rotate: the merchant holding the entitlement (a sysadmin who is not that
  merchant is refused too: ``auth_sysadmins_check``);
* revoke: that merchant, or the bureau (supervision);
* list: merchants (their own clients), bureau and operator staff (all); nobody else.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common.i18n_text import bi
from ...common.user import acting_user, login_required
from .. import clients

__all__ = ["sanyi_client_create", "sanyi_client_list", "sanyi_client_rotate",
           "sanyi_client_revoke"]

_OK: AuthResult = {"success": True}
_NOT_YOURS: AuthResult = {"success": False, "msg": bi(
    "只有持有该授权的数商可以管理其接口客户端",
    "Only the merchant holding the entitlement may manage its API clients")}


@tk.auth_sysadmins_check
@login_required
def sanyi_client_create(context: Context, data_dict: DataDict) -> AuthResult:
    ok = clients.may_create(acting_user(context), data_dict.get("entitlement_id"))
    return _OK if ok else _NOT_YOURS


@login_required
def sanyi_client_list(context: Context, data_dict: DataDict) -> AuthResult:
    if clients.may_list(acting_user(context)):
        return _OK
    return {"success": False, "msg": bi("只有数商、数据局和运营机构可以查看接口客户端",
                                        "Only merchants, the bureau and the operator see API "
                                        "clients")}


@tk.auth_sysadmins_check
@login_required
def sanyi_client_rotate(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK if clients.may_manage(acting_user(context), data_dict.get("id")) else _NOT_YOURS


@login_required
def sanyi_client_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    ok = clients.may_manage(acting_user(context), data_dict.get("id"), revoke=True)
    return _OK if ok else _NOT_YOURS
