"""Refusals: typed errors naming the field, with Chinese and English messages."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from feeengine import (
    CeilingExceeded,
    PricingError,
    ProductPricing,
    Schedule,
    ScheduleVersion,
    Use,
    UseNotAllowed,
    check_price_versions,
    parse_yuan,
    quote,
    split_net_profit,
    versions_in_force_during_year,
)

FLAT = Schedule.flat("call", "0.50")


def product(category: Any = "industrial", allowed: bool = False,
            price: Schedule = FLAT, ceiling: Schedule = FLAT) -> ProductPricing:
    return ProductPricing("p", category, (ScheduleVersion("v1", date(2025, 1, 1), price),),
                          (ScheduleVersion("c1", date(2025, 1, 1), ceiling),), allowed)


def refused(field: str, fn: Any, *args: Any, **kwargs: Any) -> PricingError:
    with pytest.raises(PricingError) as info:
        fn(*args, **kwargs)
    err = info.value
    assert err.field == field, str(err)
    assert err.zh and err.en and err.zh != err.en
    assert err.as_dict() == {"field": field, "zh": err.zh, "en": err.en}
    return err


def ask(**overrides: Any) -> dict[str, Any]:
    return {"unit": "call", "quantity": 10, "use": "industrial", "on": date(2025, 6, 1)} | overrides


@pytest.mark.parametrize("field, bad", [
    ("use", "commercial"), ("use", None), ("unit", "byte"), ("unit", ""),
    ("quantity", 0), ("quantity", -5), ("quantity", 1.5), ("quantity", "10"), ("quantity", True),
    ("quantity", Decimal(10)), ("quantity", 10**13),
    ("on", "2025-13-01"), ("on", "yesterday"), ("on", datetime(2025, 6, 1, 8)), ("on", 20250601),
    ("priority_discount_pct", "101"), ("priority_discount_pct", -1), ("priority_discount_pct", 0.5),
])
def test_bad_quote_input_names_the_field(field: str, bad: object) -> None:
    expected = {"on": "date"}.get(field, field)
    refused(expected, quote, product(), **ask(**{field: bad}))


def test_public_interest_product_refused_for_industrial_use() -> None:
    err = refused("use", quote, product("public_interest"), **ask())
    assert isinstance(err, UseNotAllowed) and "公益" in err.zh and "industrial" in err.en


def test_unit_without_schedule_and_date_before_first_version() -> None:
    refused("unit", quote, product(), **ask(unit="record"))
    err = refused("date", quote, product(), **ask(on="2024-12-31"))
    assert "2025-01-01" in err.en


def test_quote_refuses_price_above_ceiling_in_force() -> None:
    err = refused("price", quote, product(price=Schedule.flat("call", "0.51")), **ask())
    assert isinstance(err, CeilingExceeded) and err.violation.quantity == 1
    assert "v1" in err.en and "c1" in err.zh


def test_ceiling_unit_mismatch() -> None:
    prod = ProductPricing("p", Use.INDUSTRIAL, (ScheduleVersion("v1", date(2025, 1, 1), FLAT),),
                          (ScheduleVersion("c1", date(2025, 1, 1), Schedule.flat("record", "1")),))
    refused("unit", quote, prod, **ask())  # no ceiling for 'call'


def test_check_price_versions_over_overlapping_periods() -> None:
    cap1 = ScheduleVersion("c1", date(2025, 1, 1), Schedule.flat("call", "0.50"))
    cap2 = ScheduleVersion("c2", date(2025, 7, 1), Schedule.flat("call", "0.40"))
    p1 = ScheduleVersion("p1", date(2025, 1, 1), Schedule.flat("call", "0.45"))
    p2 = ScheduleVersion("p2", date(2025, 7, 1), Schedule.flat("call", "0.40"))
    check_price_versions([p1, p2], [cap1, cap2])  # p1 ends as c2 starts: fine
    early_cap2 = ScheduleVersion("c2", date(2025, 6, 1), cap2.schedule)  # overlaps p1 in June
    with pytest.raises(CeilingExceeded) as info:
        check_price_versions([p1, p2], [cap1, early_cap2])
    assert "p1" in info.value.en and "c2" in info.value.en
    refused("ceiling", check_price_versions, [p1], [cap2])  # price starts before any ceiling


@pytest.mark.parametrize("data, field", [
    ({"bands": [{"upto": None, "price": "1"}]}, "unit"),
    ({"unit": "minute", "bands": [{"upto": None, "price": "1"}]}, "unit"),
    ({"unit": "call", "bands": []}, "bands"),
    ({"unit": "call", "bands": {"upto": None}}, "bands"),
    ({"unit": "call", "bands": [{"upto": 10, "price": "1"}]}, "bands[0].upto"),
    ({"unit": "call", "bands": [{"upto": None, "price": "1"}, {"upto": None, "price": "1"}]}, "bands[0].upto"),
    ({"unit": "call", "bands": [{"upto": 10, "price": "1"}, {"upto": 10, "price": "1"},
                                {"upto": None, "price": "1"}]}, "bands[1].upto"),
    ({"unit": "call", "bands": [{"upto": 10, "price": "1"}, {"upto": 5, "price": "1"},
                                {"upto": None, "price": "1"}]}, "bands[1].upto"),
    ({"unit": "call", "bands": [{"upto": 0, "price": "1"}, {"upto": None, "price": "1"}]}, "bands[0].upto"),
    ({"unit": "call", "bands": [{"upto": 2.5, "price": "1"}, {"upto": None, "price": "1"}]}, "bands[0].upto"),
    ({"unit": "call", "bands": [{"upto": 10, "price": "1"}, {"upto": None, "price": "-0.01"}]}, "bands[1].price"),
    ({"unit": "call", "bands": [{"upto": None, "price": 0.5}]}, "bands[0].price"),
    ({"unit": "call", "bands": [{"upto": None, "price": "abc"}]}, "bands[0].price"),
    ({"unit": "call", "bands": [{"upto": None, "price": "NaN"}]}, "bands[0].price"),
    ({"unit": "call", "bands": [{"upto": None, "price": "0.000000001"}]}, "bands[0].price"),
    ({"unit": "call", "bands": [{"upto": None}]}, "bands[0].price"),
    ({"unit": "call", "bands": [{"upto": None, "price": "1", "cap": 2}]}, "bands[0].cap"),
    ({"unit": "call", "trial": "yes", "bands": [{"upto": None, "price": "1"}]}, "trial"),
    ({"unit": "call", "colour": "red", "bands": [{"upto": None, "price": "1"}]}, "colour"),
])
def test_schedule_dict_validation(data: dict[str, Any], field: str) -> None:
    refused(field, Schedule.from_dict, data)


@pytest.mark.parametrize("value", [0.5, "1e2", "1,000", "", True, None, "Infinity", "-1"])
def test_parse_yuan_refuses(value: object) -> None:
    refused("price", parse_yuan, value)


def test_product_and_version_validation() -> None:
    v = ScheduleVersion("v1", date(2025, 1, 1), FLAT)
    refused("prices[1].id", ProductPricing, "p", "industrial", (v, v))
    twin = ScheduleVersion("v2", date(2025, 1, 1), FLAT)
    refused("prices[1].effective_from", ProductPricing, "p", "industrial", (v, twin))
    refused("category", ProductPricing, "p", "commercial")
    refused("effective_from", ScheduleVersion, "v", "2025-02-30", FLAT)
    refused("prices[0].schedule.bands[0].price", ProductPricing.from_dict, {
        "product_id": "p", "category": "industrial",
        "prices": [{"id": "v", "effective_from": "2025-01-01",
                    "schedule": {"unit": "call", "bands": [{"upto": None, "price": 1.5}]}}]})
    refused("year", versions_in_force_during_year, [v], "2025")


def test_split_refusals() -> None:
    refused("net_profit_fen", split_net_profit, -1, operator_share=1, merchant_shares={})
    refused("merchant_shares", split_net_profit, 100, operator_share=0, merchant_shares={"m": 0})
    refused("treasury_pct", split_net_profit, 100, operator_share=1, merchant_shares={}, treasury_pct=120)
    refused("operator_share", split_net_profit, 100, operator_share=0.7, merchant_shares={})


def test_error_text_and_language() -> None:
    err = refused("use", quote, product(), **ask(use="x"))
    assert str(err).startswith("use: ") and err.message("zh_Hans_CN") == err.zh and err.message("en") == err.en
    assert isinstance(err, ValueError) and Use.INDUSTRIAL.value == "industrial"
