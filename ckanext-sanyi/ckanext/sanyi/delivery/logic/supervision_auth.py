"""Authorization of the supervision and statement actions (same names as the actions).

* alert and statement lists: bureau and operator staff (all), merchants (their own);
* deciding on an alert: the bureau (sysadmins count as bureau staff);
* billing a month and a product's settlement: the operator (sysadmins count).
"""
from __future__ import annotations

from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from ...common.i18n_text import bi
from ...common.user import acting_user, login_required
from .. import alerts, billing

__all__ = ["sanyi_alert_list", "sanyi_alert_resolve", "sanyi_statement_list",
           "sanyi_statement_bill", "sanyi_product_billing_mode_set"]

_OK: AuthResult = {"success": True}


@login_required
def sanyi_alert_list(context: Context, data_dict: DataDict) -> AuthResult:
    if alerts.may_list(acting_user(context)):
        return _OK
    return {"success": False, "msg": bi("只有数商、数据局和运营机构可以查看预警",
                                        "Only merchants, the bureau and the operator see alerts")}


@login_required
def sanyi_alert_resolve(context: Context, data_dict: DataDict) -> AuthResult:
    if alerts.may_resolve(acting_user(context)):
        return _OK
    return {"success": False, "msg": bi("只有数据局可以处理预警",
                                        "Only the data bureau may decide on alerts")}


@login_required
def sanyi_statement_list(context: Context, data_dict: DataDict) -> AuthResult:
    if billing.may_list(acting_user(context)):
        return _OK
    return {"success": False, "msg": bi("只有数商、数据局和运营机构可以查看月度账单",
                                        "Only merchants, the bureau and the operator see "
                                        "statements")}


@login_required
def sanyi_statement_bill(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(acting_user(context))


@login_required
def sanyi_product_billing_mode_set(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(acting_user(context))
