"""Price and ceiling versions: ceiling refusal, effective-date rules, history, append-only."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import helpers
from pricing_support import (
    TODAY,
    assert_bilingual_field_error,
    call_as,
    flat,
    make_product,
)

pytestmark = pytest.mark.usefixtures("with_plugins")
SOON = (TODAY + dt.timedelta(days=10)).isoformat()
LATER = (TODAY + dt.timedelta(days=40)).isoformat()


def test_price_above_the_ceiling_is_refused_saying_where(pricing_world):
    # ceiling 0.60 / 0.35 / 0.12; this price is equal up to 10,000 then 0.36 > 0.35
    price = {"unit": "call", "bands": [{"upto": 10000, "price": "0.60"},
                                       {"upto": None, "price": "0.36"}]}
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_price_set", product=pricing_world["zhihe"]["name"],
                schedule=price, effective_from=SOON)
    message = assert_bilingual_field_error(err.value, "price")
    assert "10,001" in message and "超过上限" in message and "exceeds the ceiling" in message
    assert "第 2 档" in message and "band 2" in message
    history = call_as("anonymous", "sanyi_price_history", product=pricing_world["zhihe"]["name"])
    assert len(history["versions"]) == 2  # nothing was stored


def test_price_at_or_below_the_ceiling_is_accepted(pricing_world):
    result = call_as("operator_user", "sanyi_price_set", product="rental",
                     schedule=flat("call", "0.40"), effective_from=SOON, label="持平上限")
    v = result["version"]
    assert v["kind"] == "price" and v["effective_from"] == SOON and v["label"] == "持平上限"
    assert v["schedule"]["bands"][0]["price"] == "0.40" and v["created_by"] == "operator_user"


def test_price_checked_against_a_later_lower_ceiling_in_its_period(pricing_world):
    call_as("bureau_user", "sanyi_price_ceiling_set", product="rental",
            schedule=flat("call", "0.25"), effective_from=LATER)
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_price_set", product="rental",
                schedule=flat("call", "0.35"), effective_from=SOON)
    assert LATER in assert_bilingual_field_error(err.value, "price")
    # a price that ends before the lower ceiling starts is fine
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.25"),
            effective_from=LATER)
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
            effective_from=SOON)


def test_price_without_a_ceiling_is_refused(pricing_world):
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("month", "10"))
    assert_bilingual_field_error(err.value, "ceiling")


def test_lower_ceiling_is_accepted_with_warnings(pricing_world):
    result = call_as("bureau_user", "sanyi_price_ceiling_set", product="rental",
                     schedule=flat("call", "0.20"), effective_from=SOON)
    assert result["version"]["kind"] == "ceiling"
    [warning] = result["warnings"]
    assert warning["from"] == SOON and warning["quantity"] == 1 and " / " in warning["message"]


@pytest.mark.parametrize("action, role", [("sanyi_price_ceiling_set", "bureau_user"),
                                          ("sanyi_price_set", "operator_user")])
def test_effective_from_in_the_past_only_for_sysadmin(pricing_world, action, role):
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    data = {"product": "rental", "schedule": flat("call", "0.30"), "effective_from": yesterday}
    with pytest.raises(tk.ValidationError) as err:
        call_as(role, action, **data)
    assert "past" in assert_bilingual_field_error(err.value, "effective_from")
    assert call_as("sysadmin", action, **data)["version"]["effective_from"] == yesterday


def test_a_version_in_force_cannot_be_replaced_on_its_own_date(pricing_world):
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.31"),
            effective_from=TODAY.isoformat())
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_price_set", product="rental",
                schedule=flat("call", "0.29"), effective_from=TODAY.isoformat())
    assert_bilingual_field_error(err.value, "effective_from")


def test_scheduled_version_can_be_superseded_and_history_keeps_both(pricing_world):
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
            effective_from=SOON)
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.33"),
            effective_from=SOON)
    history = call_as("anonymous", "sanyi_price_history", product="rental")
    prices = [v for v in history["versions"] if v["kind"] == "price"]
    assert [(v["schedule"]["bands"][0]["price"], v["status"]) for v in prices] == [
        ("0.33", "scheduled"), ("0.35", "superseded"), ("0.30", "in_force")]
    assert prices[2]["in_force_until"] == (dt.date.fromisoformat(SOON) - dt.timedelta(days=1)).isoformat()
    assert "created_by" not in prices[0]  # who set it is for the bureau (audit), not the public
    quote = call_as("anonymous", "sanyi_price_quote", product="rental", use="industrial",
                    unit="call", quantity=100, date=SOON)
    assert quote["amount_fen"] == 3300


def test_history_statuses_by_date(pricing_world):
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
            effective_from=SOON)
    later = call_as("anonymous", "sanyi_price_history", product="rental", date=LATER)
    statuses = {v["schedule"]["bands"][0]["price"]: v["status"]
                for v in later["versions"] if v["kind"] == "price"}
    assert statuses == {"0.35": "in_force", "0.30": "ended"}


def test_price_list_shows_current_and_scheduled(pricing_world):
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
            effective_from=SOON)
    data = call_as("anonymous", "sanyi_price_list")
    by_name = {p["name"]: p for p in data["results"]}
    [unit] = by_name["rental"]["units"]
    assert unit["price"]["schedule"]["bands"][0]["price"] == "0.30"
    assert unit["ceiling"]["schedule"]["bands"][0]["price"] == "0.40"
    assert [v["effective_from"] for v in unit["price_upcoming"]] == [SOON]
    assert by_name["health-profile"]["free"] is True and by_name["rental"]["free"] is False
    make_product("unlisted", status="draft")
    assert "unlisted" not in {p["name"] for p in call_as("anonymous", "sanyi_price_list")["results"]}


@pytest.mark.parametrize("data, field", [
    ({"schedule": {"unit": "call", "bands": [{"upto": None, "price": 0.5}]}}, "bands[0].price"),
    ({"schedule": {"unit": "call", "bands": []}}, "bands"),
    ({"schedule": {"unit": "hour", "bands": [{"upto": None, "price": "1"}]}}, "unit"),
    ({"schedule": '{"unit": "call", "bands": [{"upto": null, "price": 0.5}]}'}, "schedule"),
    ({"unit": "call", "bands": '[{"upto": 10, "price": "1"}]'}, "bands[0].upto"),
    ({"schedule": flat("call", "0.3"), "effective_from": "someday"}, "effective_from"),
    ({"schedule": flat("call", "0.3"), "product": "nope"}, "product"),
    ({"schedule": flat("call", "-1")}, "bands[0].price"),
])
def test_bad_schedule_input(pricing_world, data, field):
    payload = {"product": "rental", **data}
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", "sanyi_price_ceiling_set", **payload)
    assert_bilingual_field_error(err.value, field)


def test_flat_unit_and_bands_parameters(pricing_world):
    result = call_as("bureau_user", "sanyi_price_ceiling_set", product="rental", unit="record",
                     bands='[{"upto": null, "price": "0.006"}]', effective_from=SOON)
    assert result["version"]["unit"] == "record"


def test_rows_are_append_only(pricing_world):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        model.Session.execute(sa.text("UPDATE sanyi_price_version SET label = 'x'"))
    model.Session.rollback()
    with pytest.raises(sa.exc.DBAPIError, match="younger than the 3-year retention"):
        model.Session.execute(sa.text("DELETE FROM sanyi_audit"))
    model.Session.rollback()
    assert helpers.call_action("sanyi_price_history", product="rental")["versions"]
