"""Revenue cap (最高准许收入) tracking and net-profit split."""
from __future__ import annotations

import json
from decimal import Decimal

import pytest

from feeengine import (
    AllowedRevenue,
    PricingError,
    RevenueLevel,
    RevenuePeriod,
    revenue_status,
    split_net_profit,
    track_revenue,
)

CAP = AllowedRevenue(allowed_cost_fen=700, allowed_profit_fen=200, tax_fen=100)  # 1000 fen


def test_cap_is_cost_plus_profit_plus_tax() -> None:
    assert CAP.total_fen == 1000
    assert AllowedRevenue(0, 0, 0).total_fen == 0
    with pytest.raises(PricingError) as info:
        AllowedRevenue(-1, 0, 0)
    assert info.value.field == "allowed_cost_fen"


@pytest.mark.parametrize("billed, level, excess", [
    (0, RevenueLevel.OK, 0), (799, RevenueLevel.OK, 0), (800, RevenueLevel.WARNING, 0),
    (999, RevenueLevel.WARNING, 0), (1000, RevenueLevel.EXCEEDED, 0), (1001, RevenueLevel.EXCEEDED, 1),
])
def test_levels_at_thresholds(billed: int, level: RevenueLevel, excess: int) -> None:
    status = revenue_status(CAP, billed)
    assert (status.level, status.excess_fen, status.carry_forward_fen) == (level, excess, excess)
    assert status.effective_cap_fen == 1000


def test_warning_threshold_is_configurable() -> None:
    assert revenue_status(CAP, 850, warning_pct=90).level is RevenueLevel.OK
    assert revenue_status(CAP, 900, warning_pct="90").level is RevenueLevel.WARNING
    assert revenue_status(CAP, 805, warning_pct="80.5").level is RevenueLevel.WARNING
    assert revenue_status(CAP, 804, warning_pct="80.5").level is RevenueLevel.OK


def test_used_pct_half_up_two_places() -> None:
    assert revenue_status(CAP, 1).used_pct == Decimal("0.10")
    assert revenue_status(AllowedRevenue(3, 0, 0), 2).used_pct == Decimal("66.67")
    assert revenue_status(AllowedRevenue(3, 0, 0), 1).used_pct == Decimal("33.33")


def test_excess_deducted_from_next_period() -> None:
    periods = [RevenuePeriod("2025Q1", CAP, 1200), RevenuePeriod("2025Q2", CAP, 700),
               RevenuePeriod("2025Q3", CAP, 100)]
    q1, q2, q3 = track_revenue(periods)
    assert (q1.level, q1.excess_fen, q1.carry_forward_fen) == (RevenueLevel.EXCEEDED, 200, 200)
    assert (q2.carried_deduction_fen, q2.effective_cap_fen) == (200, 800)
    assert (q2.level, q2.used_pct) == (RevenueLevel.WARNING, Decimal("87.50"))
    assert (q3.carried_deduction_fen, q3.effective_cap_fen, q3.level) == (0, 1000, RevenueLevel.OK)


def test_effective_cap_floors_at_zero_and_unabsorbed_deduction_carries_on() -> None:
    q1, q2, q3 = track_revenue([RevenuePeriod("1", CAP, 2500), RevenuePeriod("2", CAP, 0),
                                RevenuePeriod("3", CAP, 0)])
    assert q1.carry_forward_fen == 1500
    assert (q2.effective_cap_fen, q2.used_pct, q2.level) == (0, None, RevenueLevel.EXCEEDED)
    assert q2.carry_forward_fen == 500  # 1500 − 1000 could not be deducted yet
    assert (q3.effective_cap_fen, q3.carry_forward_fen) == (500, 0)


def test_opening_deduction_and_json() -> None:
    (status,) = track_revenue([RevenuePeriod("2026", CAP, 100)], opening_deduction_fen=300)
    assert status.effective_cap_fen == 700
    d = json.loads(json.dumps(status.to_dict()))
    assert d["level"] == "ok" and d["used_pct"] == "14.29" and d["period"] == "2026"


def test_revenue_refusals() -> None:
    for kwargs, field in [({"billed_fen": -1}, "billed_fen"), ({"billed_fen": 1.0}, "billed_fen"),
                          ({"billed_fen": 1, "carried_deduction_fen": -2}, "carried_deduction_fen"),
                          ({"billed_fen": 1, "warning_pct": 150}, "warning_pct")]:
        with pytest.raises(PricingError) as info:
            revenue_status(CAP, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field


def test_default_treasury_share_is_30_percent() -> None:
    s = split_net_profit(100000, operator_share=1, merchant_shares={"m1": 1})
    assert (s.treasury_pct, s.treasury_fen, s.operator_fen, s.merchants_fen) == (
        Decimal(30), 30000, 35000, (("m1", 35000),))


def test_split_largest_remainder_golden() -> None:
    s = split_net_profit(1001, operator_share=60, merchant_shares={"a": 25, "b": 15})
    # treasury 300.3 → 300; rest 701 → 420.6 / 175.25 / 105.15 → 420+175+105 = 700, +1 to largest (.6)
    assert (s.treasury_fen, s.operator_fen, dict(s.merchants_fen)) == (300, 421, {"a": 175, "b": 105})
    assert s.total_fen == 1001


def test_split_treasury_rounds_half_up_and_ties_by_order() -> None:
    assert split_net_profit(5, operator_share=1, merchant_shares={}, treasury_pct=10).treasury_fen == 1
    s = split_net_profit(3, operator_share=1, merchant_shares={"a": 1}, treasury_pct=0)
    assert (s.operator_fen, s.merchants_fen) == (2, (("a", 1),))  # 1.5 / 1.5: tie to the operator
    assert split_net_profit(3, operator_share=0, merchant_shares={"a": 1, "b": 1, "c": 1}).merchants_fen == (
        ("a", 1), ("b", 1), ("c", 0))  # treasury 0.9 → 1 fen; 2 fen over three equal shares


def test_split_to_dict() -> None:
    d = json.loads(json.dumps(split_net_profit(10, operator_share="0.5", merchant_shares={"m": "0.5"}).to_dict()))
    assert d == {"net_profit_fen": 10, "treasury_pct": "30", "treasury_fen": 3, "operator_fen": 4,
                 "merchants_fen": {"m": 3}}
