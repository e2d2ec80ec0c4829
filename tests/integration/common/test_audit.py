"""The append-only audit log: record/list, sanyi_audit_list, old and new values of every change."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from pricing_support import TODAY, call_as, flat

from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")
SOON = (TODAY + dt.timedelta(days=7)).isoformat()


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_record_and_list():
    first = audit.record("alice", "x_set", "thing", "t-1", before=None,
                         after={"pct": Decimal("12.5"), "on": dt.date(2026, 1, 2)}, commit=True)
    second = audit.record("bob", "x_set", "thing", "t-1", before={"pct": "12.5"},
                          after={"pct": "15"}, commit=True)
    audit.record("bob", "y_set", "other", "o-1", after={"n": 1}, commit=True)
    assert second > first
    rows = audit.list(object_type="thing", object_id="t-1")
    assert [r["id"] for r in rows] == [second, first]  # newest first
    assert rows[1]["after"] == {"pct": "12.5", "on": "2026-01-02"} and rows[1]["before"] is None
    assert rows[0]["actor"] == "bob" and rows[0]["created"]
    assert [r["id"] for r in audit.list(object_type="thing", oldest_first=True)] == [first, second]
    assert audit.count(actor="bob") == 2 and audit.count() == 3
    assert len(audit.list(limit=1, offset=1)) == 1


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_floats_are_refused_and_required_fields_checked():
    with pytest.raises(TypeError):
        audit.record("alice", "x_set", "thing", after={"amount": 0.5})
    with pytest.raises(ValueError):
        audit.record("", "x_set", "thing")
    model.Session.rollback()


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_audit_is_append_only():
    audit.record("alice", "x_set", "thing", "t-1", after={"a": 1}, commit=True)
    for sql, refusal in (("UPDATE sanyi_audit SET actor = 'mallory'", "append-only"),
                         ("DELETE FROM sanyi_audit", "younger than the 3-year retention")):
        with pytest.raises(sa.exc.DBAPIError, match=refusal):
            model.Session.execute(sa.text(sql))
        model.Session.rollback()
    assert audit.list()[0]["actor"] == "alice"


def test_price_and_ceiling_changes_record_old_and_new(pricing_world):
    call_as("bureau_user", "sanyi_price_ceiling_set", product="rental",
            schedule=flat("call", "0.45"), effective_from=SOON)
    call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
            effective_from=SOON)
    pid = pricing_world["rental"]["id"]
    [price] = audit.list(object_type="price", object_id=pid, actor="operator_user")
    assert price["action"] == "sanyi_price_set"
    assert price["before"]["schedule"]["bands"][0]["price"] == "0.30"   # the one it supersedes
    assert price["after"]["schedule"]["bands"][0]["price"] == "0.35"
    assert price["after"]["effective_from"] == SOON and price["after"]["created_by"] == "operator_user"
    [ceiling] = audit.list(object_type="price_ceiling", object_id=pid, actor="bureau_user")
    assert ceiling["before"]["schedule"]["bands"][0]["price"] == "0.40"
    assert ceiling["after"]["schedule"]["bands"][0]["price"] == "0.45"


def test_refused_change_leaves_no_record(pricing_world):
    before = audit.count()
    with pytest.raises(tk.ValidationError):
        call_as("operator_user", "sanyi_price_set", product="rental", schedule=flat("call", "0.99"),
                effective_from=SOON)
    assert audit.count() == before


def test_settings_changes_record_old_and_new(pricing_world):
    call_as("bureau_user", "sanyi_priority_discount_set", pct="20")
    call_as("bureau_user", "sanyi_priority_discount_set", pct="25")
    [second, first] = audit.list(object_type="priority_discount")
    assert (first["before"], first["after"]) == (None, {"pct": "20"})
    assert (second["before"], second["after"]) == ({"pct": "20"}, {"pct": "25"})

    call_as("bureau_user", "sanyi_revenue_cap_set", period="2026", allowed_cost_fen=100,
            allowed_profit_fen=20, tax_fen=5)
    call_as("bureau_user", "sanyi_revenue_cap_set", period="2026", allowed_cost_fen=200,
            allowed_profit_fen=20, tax_fen=5, warning_pct="90")
    latest = audit.list(object_type="revenue_cap", object_id="2026")[0]
    assert latest["before"]["total_fen"] == 125 and latest["after"]["total_fen"] == 225
    assert latest["after"]["warning_pct"] == "90"

    call_as("bureau_user", "sanyi_revenue_shares_set", operator_share="60", merchants_share="40")
    [shares] = audit.list(object_type="revenue_shares")
    assert shares["before"] is None
    assert shares["after"] == {"treasury_pct": "30", "operator_share": "60", "merchants_share": "40"}

    call_as("bureau_user", "sanyi_product_pricing_policy_set", product="health-profile",
            industrial_use_allowed=True)
    [policy] = audit.list(object_type="product_pricing_policy")
    assert policy["object_id"] == pricing_world["health"]["id"]
    assert policy["after"] == {"industrial_use_allowed": True}

    call_as("operator_user", "sanyi_revenue_billed_set", period="2026", billed_fen=7)
    [billed] = audit.list(object_type="revenue_billed")
    assert billed["actor"] == "operator_user" and billed["after"] == {"billed_fen": 7}


def test_audit_list_action_filters_and_pages(pricing_world):
    call_as("bureau_user", "sanyi_priority_discount_set", pct="20")
    call_as("bureau_user", "sanyi_priority_discount_set", pct="30")
    result = call_as("bureau_user", "sanyi_audit_list", object_type="priority_discount", limit=1)
    assert result["count"] == 2 and len(result["results"]) == 1
    assert result["results"][0]["after"] == {"pct": "30"}
    everything = call_as("bureau_user", "sanyi_audit_list")
    assert everything["count"] >= 8  # the fixture's six versions + two discounts
    assert call_as("sysadmin", "sanyi_audit_list", actor="bureau_user")["count"] == 2
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", "sanyi_audit_list", limit="-1")
    assert "limit" in err.value.error_dict
