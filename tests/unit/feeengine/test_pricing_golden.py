"""Hand-computed golden cases of the fee engine."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from feeengine import (
    BillingUnit,
    LineKind,
    ProductPricing,
    Quote,
    Schedule,
    ScheduleVersion,
    Use,
    check_ceiling,
    find_ceiling_violation,
    in_force_periods,
    line_amount_fen,
    parse_yuan,
    quote,
    version_in_force,
    versions_in_force_during_year,
)

TIERS = {"unit": "call", "bands": [{"upto": 10000, "price": "0.50"},
                                   {"upto": 100000, "price": "0.30"},
                                   {"upto": None, "price": "0.10"}]}
D = date(2025, 6, 1)


def product(price: Schedule, ceiling: Schedule | None = None, *, category: Use = Use.INDUSTRIAL,
            allowed: bool = False) -> ProductPricing:
    ceiling = ceiling or price
    return ProductPricing("p-1", category,
                          (ScheduleVersion("price-2025", date(2025, 1, 1), price, "2025 标准"),),
                          (ScheduleVersion("cap-2025", date(2025, 1, 1), ceiling),), allowed)


def industrial(prod: ProductPricing, unit: str, qty: int, **kw: Any) -> Quote:
    return quote(prod, unit=unit, quantity=qty, use="industrial", on=D, **kw)


@pytest.mark.parametrize("qty, fen", [
    (1, 50), (10000, 500000), (10001, 500030), (15000, 650000),
    (100000, 3200000), (100001, 3200010), (150000, 3700000),
])
def test_progressive_tiers_sum_each_band(qty: int, fen: int) -> None:
    assert Schedule.from_dict(TIERS).amount_fen(qty) == fen


def test_tier_example_quote_lines() -> None:
    q = industrial(product(Schedule.from_dict(TIERS)), "call", 15000)
    assert q.amount_fen == 650000 and q.currency == "CNY" and not q.free
    assert [(ln.band_index, ln.band_from, ln.band_to, ln.quantity, ln.unit_price, ln.amount_fen)
            for ln in q.lines] == [(0, 1, 10000, 10000, Decimal("0.50"), 500000),
                                  (1, 10001, 100000, 5000, Decimal("0.30"), 150000)]
    assert q.ceiling_amount_fen == 650000
    assert (q.version_id, q.version_label, q.ceiling_version_id) == ("price-2025", "2025 标准", "cap-2025")


@pytest.mark.parametrize("records, fen", [(1, 1), (2, 1), (3, 2), (5, 3), (7, 4), (100, 50), (101, 51)])
def test_half_up_rounding_at_the_fen(records: int, fen: int) -> None:
    # 0.005 元 × n: 0.5 分 → 1, 1.5 分 → 2, 2.5 分 → 3 (half-even would give 2), 3.5 分 → 4
    assert line_amount_fen(records, Decimal("0.005")) == fen
    q = industrial(product(Schedule.flat("record", "0.005")), "record", records)
    assert q.amount_fen == fen


def test_rounding_is_per_line_and_clamped_to_ceiling() -> None:
    # Two bands of 0.5 分 each round to 1 分 each = 2 分; the flat ceiling is 1.0 分 → 1 分.
    price = Schedule.tiered("record", [(1, "0.005"), (None, "0.005")])
    ceiling = Schedule.flat("record", "0.005")
    check_ceiling(price, ceiling)  # exact amounts are equal: allowed
    q = industrial(product(price, ceiling), "record", 2)
    assert [ln.amount_fen for ln in q.lines] == [1, 1, -1]
    assert q.lines[-1].kind is LineKind.CEILING_CLAMP and q.clamped
    assert q.amount_fen == q.ceiling_amount_fen == 1
    assert "上限" in q.lines[-1].label_zh and "ceiling" in q.lines[-1].label_en


def test_priority_discount_is_its_own_negative_line() -> None:
    q = industrial(product(Schedule.from_dict(TIERS)), "call", 15000, priority_discount_pct="12.5")
    assert q.lines[-1].kind is LineKind.DISCOUNT
    assert q.lines[-1].amount_fen == -81250          # 12.5 % of 650000
    assert q.amount_fen == 568750 and q.discount_pct == Decimal("12.5") and not q.clamped


def test_discount_rounds_half_up() -> None:
    # 3 分 × 50 % = 1.5 分 → 2 分 off, 1 分 left
    q = industrial(product(Schedule.flat("copy", "0.03")), "copy", 1, priority_discount_pct=50)
    assert [ln.amount_fen for ln in q.lines] == [3, -2] and q.amount_fen == 1


def test_zero_discount_adds_no_line() -> None:
    q = industrial(product(Schedule.flat("month", "100")), "month", 3, priority_discount_pct=0)
    assert [ln.kind for ln in q.lines] == [LineKind.BAND] and q.amount_fen == 30000


def test_public_interest_is_free_with_reason() -> None:
    q = quote(product(Schedule.from_dict(TIERS)), unit="call", quantity=15000,
              use="public_interest", on=D)
    assert q.free and q.amount_fen == 0 and q.lines == ()
    assert "公益" in q.reason_zh and "free" in q.reason_en


def test_public_interest_product_charged_when_bureau_allows() -> None:
    prod = product(Schedule.flat("year", "20000"), category=Use.PUBLIC_INTEREST, allowed=True)
    assert industrial(prod, "year", 2).amount_fen == 4000000


def test_trial_flag_reported() -> None:
    trial = Schedule.flat("call", "0.40", trial=True)
    q = industrial(product(trial, Schedule.flat("call", "0.50")), "call", 10)
    assert q.trial and "试行" in q.reason_zh and q.amount_fen == 400


def test_version_in_force_on_the_quote_date() -> None:
    old, new = Schedule.flat("call", "0.50"), Schedule.flat("call", "0.40")
    prod = ProductPricing("p", Use.INDUSTRIAL,
                          (ScheduleVersion("v1", date(2024, 1, 1), old),
                           ScheduleVersion("v2", date(2025, 7, 1), new)),
                          (ScheduleVersion("c1", date(2024, 1, 1), old),))
    before = quote(prod, unit="call", quantity=100, use="industrial", on="2025-06-30")
    on_day = quote(prod, unit="call", quantity=100, use="industrial", on="2025-07-01")
    assert (before.version_id, before.amount_fen) == ("v1", 5000)
    assert (on_day.version_id, on_day.amount_fen) == ("v2", 4000)


def test_versions_in_force_during_year_for_disclosure() -> None:
    flat = Schedule.flat("call", "0.50")
    v1 = ScheduleVersion("v1", date(2024, 3, 1), flat)
    v2 = ScheduleVersion("v2", date(2025, 1, 1), flat)      # v1 ends 2024-12-31
    v3 = ScheduleVersion("v3", date(2025, 9, 1), flat)
    v3b = ScheduleVersion("v3b", date(2025, 9, 1), flat)    # same day, listed later: supersedes v3
    versions = [v3, v1, v3b, v2]
    assert versions_in_force_during_year(versions, 2023) == []
    assert versions_in_force_during_year(versions, 2024) == [v1]
    assert versions_in_force_during_year(versions, 2025) == [v2, v3b]
    assert versions_in_force_during_year(versions, 2026) == [v3b]
    assert in_force_periods(versions) == [(v1, date(2024, 3, 1), date(2025, 1, 1)),
                                          (v2, date(2025, 1, 1), date(2025, 9, 1)),
                                          (v3b, date(2025, 9, 1), None)]
    assert version_in_force(versions, "2024-12-31") is v1 and version_in_force(versions, date(2025, 9, 1)) is v3b
    assert version_in_force(versions, date(2024, 2, 29)) is None


def test_ceiling_violation_first_quantity_inside_segment() -> None:
    # price 0.30 up to 10,000 then 0.50; ceiling flat 0.40: equal at 20,000, above from 20,001
    price = Schedule.tiered("call", [(10000, "0.30"), (None, "0.50")])
    v = find_ceiling_violation(price, Schedule.flat("call", "0.40"))
    assert v is not None and v.quantity == 20001 and v.price_band == 1
    assert v.price_amount_fen == Decimal("800050") and v.ceiling_amount_fen == Decimal("800040")
    assert "20,001" in v.message_zh and "20,001" in v.message_en


def test_ceiling_violation_in_a_middle_band() -> None:
    ceiling = Schedule.from_dict(TIERS)
    price = Schedule.tiered("call", [(10000, "0.50"), (100000, "0.31"), (None, "0.05")])
    v = find_ceiling_violation(price, ceiling)
    assert v is not None and v.quantity == 10001 and v.price_band == 1 and v.ceiling_band == 1
    assert "第 2 档" in v.message_zh and "band 2" in v.message_en


def test_ceiling_allows_higher_marginal_rate_that_never_crosses() -> None:
    # price: 0.10 then 0.60 beyond 1,000; ceiling 0.50 flat. D(1000) = -400 元, slope +0.10:
    # crosses only after 4,000 more units → first violation at 5,001.
    price = Schedule.tiered("call", [(1000, "0.10"), (None, "0.60")])
    v = find_ceiling_violation(price, Schedule.flat("call", "0.50"))
    assert v is not None and v.quantity == 5001
    ok = Schedule.tiered("call", [(1000, "0.10"), (None, "0.50")])
    assert find_ceiling_violation(ok, Schedule.flat("call", "0.50")) is None


def test_sub_fen_excess_at_one_boundary_is_caught() -> None:
    # 0.5001 元 for the first 10 units, then cheaper: only 0.1 分 above the ceiling at 10 units.
    price = Schedule.tiered("call", [(10, "0.5001"), (None, "0.40")])
    v = find_ceiling_violation(price, Schedule.flat("call", "0.50"))
    assert v is not None and v.quantity == 1
    assert v.price_amount_fen - v.ceiling_amount_fen == Decimal("0.01")


def test_parse_yuan_keeps_precision() -> None:
    assert parse_yuan("0.50") == Decimal("0.50") and str(parse_yuan("0.50")) == "0.50"
    assert parse_yuan(" 0.005 ") == Decimal("0.005") and parse_yuan(3) == Decimal(3)
    assert str(parse_yuan("-0.00")) == "0.00" and parse_yuan(Decimal("1.5")) == Decimal("1.5")
    assert str(parse_yuan(Decimal("1E+2"))) == "100"  # never an exponent in the JSON form


def test_schedule_round_trip_json() -> None:
    s = Schedule.from_dict(TIERS)
    assert s.unit is BillingUnit.CALL and not s.is_flat and s.boundaries == (10000, 100000)
    again = Schedule.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again == s and again.to_dict()["bands"][0]["price"] == "0.50"
    flat = Schedule.from_dict({"unit": "record", "trial": True, "bands": [{"upto": None, "price": "0.005"}]})
    assert flat.is_flat and flat.trial


def test_product_round_trip_json() -> None:
    prod = product(Schedule.from_dict(TIERS), Schedule.flat("call", "0.60"))
    assert ProductPricing.from_dict(json.loads(json.dumps(prod.to_dict()))) == prod


def test_quote_to_dict_is_json_safe() -> None:
    q = industrial(product(Schedule.from_dict(TIERS)), "call", 15000, priority_discount_pct="10")
    d = json.loads(json.dumps(q.to_dict()))
    assert d["date"] == "2025-06-01" and d["amount_fen"] == 585000 and d["amount_yuan"] == "5850.00"
    assert d["lines"][0]["unit_price"] == "0.50" and d["discount_pct"] == "10"
    assert d["currency"] == "CNY" and d["free"] is False and d["unit"] == "call"
