"""Authorization of the pricing actions (same names as the actions).

Bureau staff (数据局 editors; sysadmins count) set ceilings, discounts, the revenue cap, the
shares and each product's industrial-use permission, and read revenue status and the audit
log. Operator staff (运营机构 editors; sysadmins count) set actual prices and report billed
revenue. Quotes, the price list, history and the yearly disclosure are public.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common import roles

__all__ = [
    "sanyi_price_ceiling_set", "sanyi_price_set", "sanyi_product_pricing_policy_set",
    "sanyi_priority_discount_set", "sanyi_revenue_cap_set", "sanyi_revenue_shares_set",
    "sanyi_revenue_billed_set", "sanyi_revenue_status", "sanyi_pricing_settings_show",
    "sanyi_audit_list", "sanyi_price_quote", "sanyi_price_list", "sanyi_price_history",
    "sanyi_disclosure_export",
]

_BUREAU = {"success": False, "msg": "只有数据局工作人员可以执行此操作 / "
                                    "Only data bureau staff may do this"}
_OPERATOR = {"success": False, "msg": "只有运营机构工作人员可以执行此操作 / "
                                      "Only operator staff may do this"}


def _bureau(context: Context) -> AuthResult:
    return {"success": True} if roles.is_bureau_staff(context.get("user")) else dict(_BUREAU)


def _operator(context: Context) -> AuthResult:
    return {"success": True} if roles.is_operator_staff(context.get("user")) else dict(_OPERATOR)


def sanyi_price_ceiling_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_price_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator(context)


def sanyi_product_pricing_policy_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_priority_discount_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_revenue_cap_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_revenue_shares_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_revenue_billed_set(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator(context)


def sanyi_revenue_status(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_pricing_settings_show(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_audit_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


@tk.auth_allow_anonymous_access
def sanyi_price_quote(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def sanyi_price_list(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def sanyi_price_history(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}


@tk.auth_allow_anonymous_access
def sanyi_disclosure_export(context: Context, data_dict: DataDict) -> AuthResult:
    return {"success": True}
