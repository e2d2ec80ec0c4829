"""Monthly statements: the amount of a known month by the fee engine's progressive bands
(computed by hand here), Beijing month boundaries, refused calls not counted; billing a month
again makes nothing new; prepaid entitlements get no statement; approval under the monthly
settlement charges nothing; the statement's order is paid by bank transfer and its revenue
reaches the revenue cap (the 80 % warning fires, the bureau is told) and the treasury share;
who may bill; ``ckan sanyi delivery bill``."""
from __future__ import annotations

import datetime as dt

import pytest
from applications_support import call_as, system, to_status
from ckan import model
from ckan.cli.cli import ckan as ckan_cli
from quota_calls import entitlement
from sqlalchemy import text
from supervision_records import grant, notices, refuse

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import billing

pytestmark = pytest.mark.usefixtures("with_plugins")
UTC = dt.timezone.utc
AFTER_NOVEMBER = "2026-12-02T02:00:00+00:00"  # 10:00 on 2 December, Beijing time
# 1,000 calls at 0.50 yuan, then 0.20 yuan each (the ceiling above it in every band)
PRICE = [{"upto": 1000, "price": "0.50"}, {"upto": None, "price": "0.20"}]
CEILING = [{"upto": 1000, "price": "0.60"}, {"upto": None, "price": "0.25"}]


@pytest.fixture
def bill_world(world):
    """``world`` with 慢病线上开处方 (chronic-refill) priced per call in bands from 1 January
    2026, settled monthly, and a metered entitlement of merchant_user (written directly)."""
    for kind, bands in (("sanyi_price_ceiling_set", CEILING), ("sanyi_price_set", PRICE)):
        system(kind, product="chronic-refill", effective_from="2026-01-01",
               schedule={"unit": "call", "bands": bands})
    call_as("operator_user", "sanyi_product_billing_mode_set", product="chronic-refill",
            mode="monthly")
    ent = entitlement(5000, merchant_id=world["merchants"]["merchant_user"]["id"],
                      product_id=world["chronic"]["id"], product_name="chronic-refill")
    return dict(world, entitlement=ent)


def _beijing(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=clock.local_tz()).astimezone(UTC)


def _count(sql: str, **params) -> int:
    model.Session.rollback()
    return int(model.Session.execute(text(sql), params).scalar())


def test_the_statement_of_1234_calls_in_november(bill_world):
    ent = bill_world["entitlement"]
    grant(ent, _beijing(2026, 11, 1, 0, 0, 0))          # the first instant of November
    grant(ent, _beijing(2026, 11, 30, 23, 59, 59))      # the last second of it
    grant(ent, _beijing(2026, 11, 15, 9, 30), n=1232)
    grant(ent, _beijing(2026, 10, 31, 23, 59, 59))      # October, Beijing time
    grant(ent, _beijing(2026, 12, 1, 0, 0, 0))          # December
    refuse(ent, "quota_exhausted", _beijing(2026, 11, 20, 12, 0))  # refused: not billed
    assert billing.month_calls(ent["id"], "2026-11") == 1234
    with clock.freeze(AFTER_NOVEMBER):
        report = call_as("operator_user", "sanyi_statement_bill", month="2026-11")
    assert report["failed"] == [] and len(report["made"]) == 1
    statement = report["made"][0]
    # band 1: 1,000 × 0.50 = 500.00 yuan = 50,000 fen; band 2: 234 × 0.20 = 46.80 yuan
    # = 4,680 fen; the month: 54,680 fen
    assert statement["calls"] == 1234 and statement["amount_fen"] == 54_680
    assert statement["amount_yuan"] == "546.80" and statement["status"] == "awaiting_payment"
    assert [(line["quantity"], line["amount_fen"]) for line in statement["lines"]] == [
        (1000, 50_000), (234, 4_680)]
    order = call_as("merchant_user", "sanyi_order_show", id=statement["order_id"])
    assert (order["amount_fen"], order["kind"], order["reference"], order["status"]) == (
        54_680, "statement", statement["id"], "awaiting_payment")
    assert order["application_id"] == ent["application_id"]
    assert any("2026-11 月度账单" in n and "546.80" in n for n in notices("merchant_user"))


def test_billing_a_month_again_makes_nothing_new(bill_world, cli):
    ent = bill_world["entitlement"]
    grant(ent, _beijing(2026, 11, 3, 8, 0), n=3)
    with clock.freeze(AFTER_NOVEMBER):
        first = call_as("operator_user", "sanyi_statement_bill", month="2026-11")
        grant(ent, _beijing(2026, 11, 3, 9, 0))  # a late row changes no statement made
        second = call_as("operator_user", "sanyi_statement_bill", month="2026-11")
        result = cli.invoke(ckan_cli, ["sanyi", "delivery", "bill", "--month", "2026-11"])
    model.Session.remove()
    assert result.exit_code == 0, result.output
    assert "0 made, 1 already billed, 0 failed" in result.output
    assert [s["id"] for s in second["existing"]] == [first["made"][0]["id"]] and not second["made"]
    assert first["made"][0]["calls"] == 3 and first["made"][0]["amount_fen"] == 150
    assert _count("SELECT count(*) FROM sanyi_statement") == 1
    assert _count("SELECT count(*) FROM sanyi_order WHERE kind = 'statement'") == 1
    assert _count("SELECT count(*) FROM sanyi_audit WHERE action = 'sanyi_statement_create'") == 1
    with pytest.raises(Exception, match="never change"):
        model.Session.execute(text("UPDATE sanyi_statement SET amount_fen = 1"))
    model.Session.rollback()


def test_a_month_without_calls_has_nothing_to_pay(bill_world, cli):
    with clock.freeze(AFTER_NOVEMBER):
        result = cli.invoke(ckan_cli, ["sanyi", "delivery", "bill", "--month", "2026-10"])
    model.Session.remove()
    assert result.exit_code == 0, result.output
    assert "1 made, 0 already billed, 0 failed" in result.output
    (statement,) = call_as("merchant_user", "sanyi_statement_list")["results"]
    assert (statement["month"], statement["calls"], statement["amount_fen"],
            statement["status"], statement["order_id"]) == ("2026-10", 0, 0, "no_charge", None)


def test_prepaid_and_free_entitlements_get_no_statement(bill_world):
    call_as("operator_user", "sanyi_product_billing_mode_set", product="chronic-refill",
            mode="prepaid")
    prepaid = to_status("active", user="merchant_two")  # quoted and paid at approval
    call_as("operator_user", "sanyi_product_billing_mode_set", product="chronic-refill",
            mode="monthly")
    assert prepaid["order_id"] and prepaid["quote"]["settlement"] == "prepaid"
    free = to_status("active", free=True)
    for app in (prepaid, free):
        grant({"id": app["entitlement"]["id"], "product_name": app["product"]["name"],
               "merchant_id": app["entitlement"]["merchant_id"]}, _beijing(2026, 12, 5, 9, 0))
    assert not billing.metered(prepaid["entitlement"]["id"])
    assert not billing.metered(free["entitlement"]["id"])
    with clock.freeze("2027-01-02T02:00:00+00:00"):
        report = call_as("operator_user", "sanyi_statement_bill", month="2026-12")
    assert {s["entitlement_id"] for s in report["made"]} == {bill_world["entitlement"]["id"]}


def test_approval_under_monthly_settlement_charges_nothing(bill_world):
    app = to_status("active")  # industrial use of chronic-refill, settled monthly
    assert app["status"] == "active" and app["order_id"] is None and app["quote"] is None
    ent = app["entitlement"]
    assert billing.metered(ent["id"])
    grant({"id": ent["id"], "product_name": "chronic-refill", "merchant_id": ent["merchant_id"]},
          _beijing(2026, 12, 15, 9, 0), n=2)
    with clock.freeze("2027-01-02T02:00:00+00:00"):
        report = call_as("operator_user", "sanyi_statement_bill", month="2026-12")
    made = {s["entitlement_id"]: s for s in report["made"]}
    assert made[ent["id"]]["calls"] == 2 and made[ent["id"]]["amount_fen"] == 100


def test_paid_statements_feed_the_revenue_cap_and_the_treasury_share(bill_world):
    ent = bill_world["entitlement"]
    grant(ent, _beijing(2026, 11, 15, 9, 30), n=1234)
    call_as("bureau_user", "sanyi_revenue_cap_set", period="2026", allowed_cost_fen=40_000,
            allowed_profit_fen=15_000, tax_fen=5_000)  # cap 60,000 fen
    with clock.freeze(AFTER_NOVEMBER):
        statement = call_as("operator_user", "sanyi_statement_bill", month="2026-11")["made"][0]
        before = call_as("bureau_user", "sanyi_revenue_status")["current"]
        call_as("operator_user", "sanyi_order_record_bank_transfer", id=statement["order_id"],
                reference="BANK-2026-11", amount_fen=54_680, received_on="2026-12-02")
        status = call_as("bureau_user", "sanyi_revenue_status")
    assert (before["actual_fen"], before["level"]) == (0, "ok")
    current = status["current"]
    assert (current["actual_fen"], current["reported_fen"], current["billed_fen"]) == (
        54_680, 0, 54_680)
    assert current["level"] == "warning" and current["used_pct"] == "91.13"
    assert status["warnings"] and "最高准许收入" in status["warnings"][0]
    # net profit as the cap counts it: 54,680 - 40,000 - 5,000 = 9,680; 30 % = 2,904
    assert current["net_profit_estimate_fen"] == 9_680
    assert current["treasury_estimate_fen"] == 2_904
    (paid,) = call_as("merchant_user", "sanyi_statement_list", status="paid")["results"]
    assert paid["id"] == statement["id"] and paid["paid_at"]
    told = [n for n in notices("bureau_user") if "最高准许收入预警" in n]
    assert len(told) == 1 and any("最高准许收入预警" in n for n in notices("operator_user"))
    # each is sent to a page of theirs that shows the cap
    assert _count("SELECT count(*) FROM sanyi_notification n JOIN \"user\" u ON u.id = n.user_id "
                  "WHERE n.object_type = 'revenue_cap' AND u.name = 'bureau_user' "
                  "AND n.link = '/bureau/pricing'") == 1
    assert _count("SELECT count(*) FROM sanyi_notification n JOIN \"user\" u ON u.id = n.user_id "
                  "WHERE n.object_type = 'revenue_cap' AND u.name = 'operator_user' "
                  "AND n.link = '/operator/pricing'") == 1
    assert _count("SELECT count(*) FROM sanyi_entitlement WHERE id = :i AND status = 'active'",
                  i=ent["id"]) == 1


def test_who_may_bill_and_bad_months(bill_world):
    from applications_support import bilingual, refused
    from ckan.plugins import toolkit as tk
    for who in ("merchant_user", "bureau_user", "anonymous"):
        refused(tk.NotAuthorized, call_as, who, "sanyi_statement_bill", month="2026-11")
    refused(tk.NotAuthorized, call_as, "wj_editor", "sanyi_statement_list")
    refused(tk.NotAuthorized, call_as, "merchant_user", "sanyi_product_billing_mode_set",
            product="chronic-refill", mode="prepaid")
    with clock.freeze(AFTER_NOVEMBER):
        for month in ("2026-12", "2027-01", "2026-13", "11-2026", "", None, ["2026-11"]):
            err = refused(tk.ValidationError, call_as, "operator_user", "sanyi_statement_bill",
                          month=month)
            bilingual(err, "month")
    err = refused(tk.ValidationError, call_as, "operator_user", "sanyi_product_billing_mode_set",
                  product="chronic-refill", mode="weekly")
    bilingual(err, "mode")
    assert call_as("merchant_two", "sanyi_statement_list") == {"count": 0, "results": []}
