"""Authorization of the order and payment actions (same names as the actions).

* An order is seen by its merchant, operator staff (运营机构) and bureau staff (数据局);
  sysadmins count as both staff.
* Only the merchant who owns an order pays it (not even a sysadmin: the payment page hands
  out the PaymentIntent's client secret).
* Operator staff record bank transfers and complete bank-transfer refunds.
* Lists need a login; what they contain depends on the role (see the actions).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from ...common.user import acting_user, login_required
from .. import orders
from . import action

__all__ = list(action.__all__)  # one auth function per action, of the same name

_OWNER_OR_STAFF = {"success": False, "msg": "只有该订单的数商、运营机构和数据局可以查看 / "
                                            "Only the order's merchant, the operator and the "
                                            "data bureau may see it"}
_OWNER = {"success": False, "msg": "只有该订单的数商可以付款 / "
                                   "Only the order's merchant may pay it"}


def _is_owner(user: model.User | None, data_dict: DataDict) -> bool:
    order: Any = orders.get_row(data_dict.get("id"))
    return user is not None and order["merchant"] == user.id


def _staff(user: model.User | None) -> bool:
    return user is not None and (roles.is_operator_staff(user) or roles.is_bureau_staff(user))


@login_required
def sanyi_order_show(context: Context, data_dict: DataDict) -> AuthResult:
    user = acting_user(context)
    ok = _staff(user) or _is_owner(user, data_dict)
    return {"success": True} if ok else dict(_OWNER_OR_STAFF)


@login_required
def sanyi_order_list(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_sysadmins_check
@login_required
def sanyi_order_pay(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True} if _is_owner(acting_user(context), data_dict) else dict(_OWNER)


@login_required
def sanyi_order_record_bank_transfer(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(acting_user(context))


@login_required
def sanyi_refund_list(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@login_required
def sanyi_refund_complete(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(acting_user(context))
