"""Authorization of the pricing actions (same names as the actions).

Bureau staff (数据局 editors; sysadmins count) set ceilings, discounts, the revenue cap, the
shares and each product's industrial-use permission, and read the settings and the audit
log. Operator staff (运营机构 editors; sysadmins count) set actual prices and report billed
revenue. Both read the revenue status: the cap bounds the operator's revenue, and both are
told when it reaches the warning level and the cap. Quotes, the price list, history and the
yearly disclosure are public.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from . import action

__all__ = list(action.__all__)  # one auth function per action, of the same name


def bureau_staff(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.bureau_only(context.get("user"))


def operator_staff(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(context.get("user"))


def bureau_or_operator_staff(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.bureau_or_operator(context.get("user"))


@tk.auth_allow_anonymous_access
def anyone(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


# each action's rule (the module docstring says why)
sanyi_price_ceiling_set = sanyi_product_pricing_policy_set = sanyi_priority_discount_set = \
    sanyi_revenue_cap_set = sanyi_revenue_shares_set = \
    sanyi_pricing_settings_show = sanyi_audit_list = bureau_staff
sanyi_price_set = sanyi_revenue_billed_set = operator_staff
sanyi_revenue_status = bureau_or_operator_staff
sanyi_price_quote = sanyi_price_list = sanyi_price_history = sanyi_disclosure_export = anyone
