"""sanyi_price_quote: the golden tier example, free use, permission, discount, dates, bad input."""
from __future__ import annotations

import datetime as dt

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests import helpers
from pricing_support import (
    TODAY,
    assert_bilingual_field_error,
    call_as,
    flat,
    system,
)

pytestmark = pytest.mark.usefixtures("with_plugins")


def quote(**data):
    return call_as("anonymous", "sanyi_price_quote", **data)


def test_golden_tier_example(pricing_world):
    q = quote(product=pricing_world["zhihe"]["name"], use="industrial", unit="call", quantity=15000)
    assert q["free"] is False and q["currency"] == "CNY"
    assert q["amount_fen"] == 650000 and q["amount_yuan"] == "6500.00"
    assert [(ln["band_from"], ln["band_to"], ln["quantity"], ln["unit_price"], ln["amount_fen"])
            for ln in q["lines"]] == [(1, 10000, 10000, "0.50", 500000),
                                     (10001, 100000, 5000, "0.30", 150000)]
    assert q["ceiling_amount_fen"] == 10000 * 60 + 5000 * 35 == 775000
    assert q["version"]["id"].startswith("price-") and q["version"]["ceiling_id"].startswith("ceiling-")
    assert q["version"]["effective_from"] == pricing_world["start"]
    assert " / " in q["reason"] and q["date"] == TODAY.isoformat()


def test_quote_by_product_id_and_string_params(pricing_world):
    q = quote(product=pricing_world["zhihe"]["id"], use="industrial", unit="call",
              quantity="150000", priority_scenario="false")
    assert q["amount_fen"] == 3700000


def test_public_interest_use_is_free(pricing_world):
    q = quote(product=pricing_world["zhihe"]["name"], use="public_interest", unit="call",
              quantity=15000)
    assert q["free"] is True and q["amount_fen"] == 0 and q["lines"] == []
    assert q["ceiling_amount_fen"] == 0 and "公益" in q["reason"] and "free" in q["reason"]


def test_public_interest_product_needs_bureau_permission(pricing_world):
    data = {"product": "health-profile", "use": "industrial", "unit": "year", "quantity": 1}
    with pytest.raises(tk.ValidationError) as err:
        quote(**data)
    assert "数据主管部门" in assert_bilingual_field_error(err.value, "use")
    call_as("bureau_user", "sanyi_product_pricing_policy_set", product="health-profile",
            industrial_use_allowed=True)
    assert quote(**data)["amount_fen"] == 1500000
    call_as("bureau_user", "sanyi_product_pricing_policy_set", product="health-profile",
            industrial_use_allowed="false")
    with pytest.raises(tk.ValidationError):
        quote(**data)


def test_priority_scenario_discount(pricing_world):
    data = {"product": "rental", "use": "industrial", "unit": "call", "quantity": 1000}
    assert quote(priority_scenario=True, **data)["amount_fen"] == 30000  # no discount set yet
    call_as("bureau_user", "sanyi_priority_discount_set", pct="20")
    q = quote(priority_scenario=True, **data)
    assert q["amount_fen"] == 24000 and q["discount_pct"] == "20"
    assert q["lines"][-1]["kind"] == "discount" and q["lines"][-1]["amount_fen"] == -6000
    assert quote(priority_scenario=False, **data)["amount_fen"] == 30000


def test_versions_in_force_by_date(pricing_world):
    start = dt.date.fromisoformat(pricing_world["start"])
    later = TODAY + dt.timedelta(days=30)
    call_as("bureau_user", "sanyi_price_ceiling_set", product="rental",
            schedule=flat("call", "0.50"), effective_from=later.isoformat())
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.45"),
            effective_from=later.isoformat())
    data = {"product": "rental", "use": "industrial", "unit": "call", "quantity": 100}
    assert quote(date=TODAY.isoformat(), **data)["amount_fen"] == 3000
    assert quote(date=(later - dt.timedelta(days=1)).isoformat(), **data)["amount_fen"] == 3000
    on_day = quote(date=later.isoformat(), **data)
    assert on_day["amount_fen"] == 4500 and on_day["version"]["effective_from"] == later.isoformat()
    with pytest.raises(tk.ValidationError) as err:
        quote(date=(start - dt.timedelta(days=1)).isoformat(), **data)
    assert_bilingual_field_error(err.value, "date")


BAD = [
    ({"product": "no-such-product"}, "product"),
    ({"product": ""}, "product"),
    ({"unit": "record"}, "unit"),          # the product has no schedule per record
    ({"unit": "hour"}, "unit"),
    ({"unit": None}, "unit"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": -5}, "quantity"),
    ({"quantity": "0"}, "quantity"),
    ({"quantity": "1.5"}, "quantity"),
    ({"quantity": 1.5}, "quantity"),
    ({"quantity": 2.0}, "quantity"),
    ({"quantity": "abc"}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"use": "commercial"}, "use"),
    ({"use": None}, "use"),
    ({"date": "2026-13-01"}, "date"),
    ({"date": "tomorrow"}, "date"),
    ({"priority_scenario": "maybe"}, "priority_scenario"),
]


@pytest.mark.parametrize("change, field", BAD, ids=[f"{f}={list(c.values())[0]!r}" for c, f in BAD])
def test_bad_input_names_the_field_in_both_languages(pricing_world, change, field):
    data = {"product": "rental", "use": "industrial", "unit": "call", "quantity": 10}
    data.update(change)
    with pytest.raises(tk.ValidationError) as err:
        quote(**{k: v for k, v in data.items() if v is not None})
    assert_bilingual_field_error(err.value, field)


def test_every_bad_field_is_reported_at_once(pricing_world):
    with pytest.raises(tk.ValidationError) as err:
        quote(product="nope", use="x", unit="y", quantity="-1", date="z")
    assert set(err.value.error_dict) == {"product", "use", "unit", "quantity", "date"}


def test_private_product_is_not_found_for_the_public(pricing_world):
    from pricing_support import make_product
    make_product("draft-product", status="draft")
    with pytest.raises(tk.ValidationError) as err:
        quote(product="draft-product", use="industrial", unit="call", quantity=1)
    assert_bilingual_field_error(err.value, "product")


@pytest.mark.parametrize("query, field", [
    ("quantity=0", "quantity"), ("quantity=-3", "quantity"), ("quantity=1.5", "quantity"),
    ("quantity=abc", "quantity"), ("use=other&quantity=1", "use"), ("unit=record&quantity=1", "unit"),
    ("product=missing&quantity=1", "product"),
])
def test_http_api_bad_input_is_409_never_500(app, pricing_world, query, field):
    base = {"product": "rental", "use": "industrial", "unit": "call"}
    params = dict(p.split("=") for p in query.split("&"))
    url = "/api/3/action/sanyi_price_quote?" + "&".join(f"{k}={v}" for k, v in {**base, **params}.items())
    res = app.get(url, status=409)
    error = res.json["error"]
    assert error["__type"] == "Validation Error" and field in error
    assert " / " in error[field][0]


def test_http_api_quote(app, pricing_world):
    res = app.get("/api/3/action/sanyi_price_quote", query_string={
        "product": pricing_world["zhihe"]["name"], "use": "industrial", "unit": "call",
        "quantity": "15000"})
    assert res.json["success"] and res.json["result"]["amount_fen"] == 650000


def test_quote_uses_system_rows_only_through_actions(pricing_world):
    # a ceiling lowered below the price in force: quoting that day is refused (field price)
    system("sanyi_price_ceiling_set", product="rental", schedule=flat("call", "0.20"),
           effective_from=(TODAY + dt.timedelta(days=5)).isoformat())
    with pytest.raises(tk.ValidationError) as err:
        quote(product="rental", use="industrial", unit="call", quantity=10,
              date=(TODAY + dt.timedelta(days=5)).isoformat())
    assert_bilingual_field_error(err.value, "price")
    assert helpers.call_action("sanyi_price_quote", product="rental", use="industrial", unit="call",
                               quantity=10)["amount_fen"] == 300
