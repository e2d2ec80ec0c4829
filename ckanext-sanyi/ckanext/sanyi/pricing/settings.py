"""Bureau settings with history: priority-support discount, revenue cap per period, reported
revenue, revenue-split shares and each product's industrial-use permission.

Every setting is a row appended to ``sanyi_pricing_setting`` (the latest row of a name and scope
is the current value) plus an audit record with the old and new value. Settings take effect
at once when set; quotes use the current discount.

Defaults while nothing is set: no priority discount (0 %), treasury 30 % of net profit with
the rest all to the operator (operator share 100, merchants 0), no revenue cap.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import ckan.model as model

from feeengine import (
    TREASURY_PCT_DEFAULT,
    AllowedRevenue,
    PricingError,
    RevenueLevel,
    revenue_status,
    split_net_profit,
)

from ..common import audit, clock
from ..common.money import yuan, yuan_fields
from .store import SettingRow, append_setting, latest_setting, latest_settings, setting_history

__all__ = ["DISCOUNT", "SHARES", "CAP", "BILLED", "POLICY", "set_setting", "current_discount_pct",
           "current_shares", "set_discount", "set_shares", "set_revenue_cap", "set_revenue_billed",
           "set_policy", "revenue_report", "overview"]

DISCOUNT, SHARES, CAP, BILLED, POLICY = (
    "priority_discount", "revenue_shares", "revenue_cap", "revenue_billed", "product_policy")
WARNING_PCT_DEFAULT = Decimal(80)


def set_setting(name: str, scope: str, value: dict[str, Any], *, actor: str, action: str,
                object_type: str, object_id: str = "") -> SettingRow:
    """Append the new value and its audit record (old value = the previous current one)."""
    before = latest_setting(name, scope)
    row = append_setting(name, scope, value, actor)
    audit.record(actor, action, object_type, object_id or scope or name,
                 before=before.value if before else None, after=row.value)
    return row


# -- discount and shares --------------------------------------------------------------------
def current_discount_pct() -> Decimal | None:
    row = latest_setting(DISCOUNT)
    return Decimal(row.value["pct"]) if row else None


def set_discount(pct: Decimal, *, actor: str) -> SettingRow:
    return set_setting(DISCOUNT, "", {"pct": str(pct)}, actor=actor,
                       action="sanyi_priority_discount_set", object_type="priority_discount")


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in values.items()}


def current_shares() -> dict[str, Any]:
    row = latest_setting(SHARES)
    if row is None:
        return {"treasury_pct": TREASURY_PCT_DEFAULT, "operator_share": Decimal(100),
                "merchants_share": Decimal(0), "is_default": True}
    return {"treasury_pct": Decimal(row.value["treasury_pct"]),
            "operator_share": Decimal(row.value["operator_share"]),
            "merchants_share": Decimal(row.value["merchants_share"]), "is_default": False}


def set_shares(treasury_pct: Decimal, operator_share: Decimal, merchants_share: Decimal, *,
               actor: str) -> SettingRow:
    if operator_share + merchants_share <= 0:
        raise PricingError("operator_share", "运营机构与数商的分配比例之和须大于 0",
                           "operator and merchant shares must add up to more than 0")
    return set_setting(SHARES, "", {"treasury_pct": str(treasury_pct),
                                    "operator_share": str(operator_share),
                                    "merchants_share": str(merchants_share)},
                       actor=actor, action="sanyi_revenue_shares_set", object_type="revenue_shares")


# -- revenue cap ----------------------------------------------------------------------------
def set_revenue_cap(period: str, cost_fen: int, profit_fen: int, tax_fen: int,
                    warning_pct: Decimal, *, actor: str) -> SettingRow:
    cap = AllowedRevenue(cost_fen, profit_fen, tax_fen)
    return set_setting(CAP, period, {"allowed_cost_fen": cost_fen, "allowed_profit_fen": profit_fen,
                                     "tax_fen": tax_fen, "total_fen": cap.total_fen,
                                     "warning_pct": str(warning_pct)},
                       actor=actor, action="sanyi_revenue_cap_set", object_type="revenue_cap")


def set_revenue_billed(period: str, billed_fen: int, *, actor: str) -> SettingRow:
    return set_setting(BILLED, period, {"billed_fen": billed_fen}, actor=actor,
                       action="sanyi_revenue_billed_set", object_type="revenue_billed")


def set_policy(pkg: model.Package, allowed: bool, *, actor: str) -> SettingRow:
    return set_setting(POLICY, pkg.id, {"industrial_use_allowed": allowed}, actor=actor,
                       action="sanyi_product_pricing_policy_set",
                       object_type="product_pricing_policy", object_id=pkg.id)


def _message(status: Any, warning_pct: Decimal) -> str:
    if status.level is RevenueLevel.EXCEEDED:
        return (f"{status.period} 年收入 {yuan(status.billed_fen)} 元已达到或超过最高准许收入 "
                f"{yuan(status.effective_cap_fen)} 元；超出部分 {yuan(status.excess_fen)} 元从下一期"
                f"上限中扣减 / {status.period}: revenue {yuan(status.billed_fen)} yuan has reached the "
                f"maximum allowed revenue {yuan(status.effective_cap_fen)} yuan; the excess "
                f"{yuan(status.excess_fen)} yuan is deducted from the next period's cap")
    if status.level is RevenueLevel.WARNING:
        return (f"{status.period} 年收入已达最高准许收入的 {status.used_pct}%（预警线 {warning_pct}%） / "
                f"{status.period}: revenue is at {status.used_pct}% of the maximum allowed revenue "
                f"(warning at {warning_pct}%)")
    return ""


def revenue_report(net_profit_fen: int | None = None,
                   today: dt.date | None = None) -> dict[str, Any]:
    """Every period with a cap, in order, each carrying its excess into the next; the current
    shares; and, given ``net_profit_fen``, how it would be split.

    A period's revenue (``billed_fen``) is what its paid orders brought in (``actual_fen``,
    :func:`.actual.revenue_by_period`) plus what the operator reported by hand for revenue
    collected outside the platform (``reported_fen``). ``net_profit_estimate_fen`` is that
    revenue less the allowed cost and the tax, and ``treasury_estimate_fen`` its treasury
    share (30 % by default) under the current shares."""
    from .actual import revenue_by_period
    caps = latest_settings(CAP)
    billed = latest_settings(BILLED)
    actual = revenue_by_period()  # paid orders: approval fees and monthly statements
    shares = current_shares()
    carried = 0
    periods = []
    for period in sorted(caps):
        value = caps[period].value
        warn = Decimal(value.get("warning_pct", WARNING_PCT_DEFAULT))
        approved = AllowedRevenue(value["allowed_cost_fen"], value["allowed_profit_fen"],
                                  value["tax_fen"])
        reported = billed[period].value["billed_fen"] if period in billed else 0
        got = reported + actual.get(period, 0)
        status = revenue_status(approved, got, carried, period=period, warning_pct=warn)
        carried = status.carry_forward_fen
        # net profit as the cap counts it: revenue less the allowed cost and the tax
        estimate = max(0, got - approved.allowed_cost_fen - approved.tax_fen)
        values = dict(status.to_dict(), allowed_cost_fen=approved.allowed_cost_fen,
                      allowed_profit_fen=approved.allowed_profit_fen, tax_fen=approved.tax_fen,
                      reported_fen=reported, actual_fen=actual.get(period, 0),
                      net_profit_estimate_fen=estimate)
        values["treasury_estimate_fen"] = split_net_profit(
            estimate, operator_share=shares["operator_share"],
            merchant_shares={"merchants": shares["merchants_share"]},
            treasury_pct=shares["treasury_pct"]).treasury_fen
        periods.append(dict(values, **yuan_fields(values), warning_pct=str(warn), message=_message(status, warn),
                            billed_reported=period in billed))
    year = str((today or clock.today()).year)
    out: dict[str, Any] = {
        "periods": periods, "current": next((p for p in periods if p["period"] == year), None),
        "warnings": [p["message"] for p in periods if p["message"]],
        "shares": _plain(shares),
    }
    if net_profit_fen is not None:
        out["split"] = split_net_profit(
            net_profit_fen, operator_share=shares["operator_share"],
            merchant_shares={"merchants": shares["merchants_share"]},
            treasury_pct=shares["treasury_pct"]).to_dict()
    return out


def overview() -> dict[str, Any]:
    """Current value and history of every bureau setting (for the bureau page)."""
    pct = current_discount_pct()
    return {
        "priority_discount_pct": None if pct is None else str(pct),
        "priority_discount_history": [r.to_dict() for r in setting_history(DISCOUNT)],
        "shares": _plain(current_shares()),
        "shares_history": [r.to_dict() for r in setting_history(SHARES)],
        "revenue_caps": {p: r.to_dict() for p, r in sorted(latest_settings(CAP).items())},
        "revenue_cap_history": [r.to_dict() for r in setting_history(CAP)],
        "revenue_billed": {p: r.to_dict() for p, r in sorted(latest_settings(BILLED).items())},
        "policies": {p: r.to_dict() for p, r in latest_settings(POLICY).items()},
    }
