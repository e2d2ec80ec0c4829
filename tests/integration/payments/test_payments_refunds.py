"""Bank transfers (对公转账) recorded by the operator, refunds on revocation (Stripe refunds in
localstripe, bank-transfer refunds pending for the operator), surplus payments refunded, and
the applications module refusing a payment."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories
from payments_support import (
    AMOUNT,
    call_as,
    client,
    confirm_card,
    event,
    intent_event,
    new_order,
    order_row,
    post_event,
)

from ckanext.sanyi.applications import subscriptions
from ckanext.sanyi.common import audit, clock, signals
from ckanext.sanyi.payments import gateway, refund_for_application
from ckanext.sanyi.payments.model import refund_table

pytestmark = pytest.mark.usefixtures("with_plugins")
TODAY = dt.date.today().isoformat()


def bank(order_id: str, role: str = "operator_user", **overrides):
    data = {"id": order_id, "reference": "HX20261124001", "amount_fen": AMOUNT,
            "received_on": TODAY, **overrides}
    return call_as(role, "sanyi_order_record_bank_transfer", **data)


def stripe_paid_order(app, application_id: str = "app-1") -> tuple[dict, str]:
    order = new_order(application_id)
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    confirm_card(intent_id)
    post_event(app, intent_event(f"evt_{application_id}", "payment_intent.succeeded", intent_id),
               status=200)
    return order, intent_id


def revoke(application_id: str = "app-1", reason: str = "违规使用"):
    refund = refund_for_application(application_id, "bureau_user", reason)
    model.Session.commit()
    return refund


# -- bank transfer ----------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["operator_user", "sysadmin"])
def test_bank_transfer_recorded_by_the_operator_pays(pay_world, role):
    order = new_order()
    paid = bank(order["id"], role)
    assert (paid["status"], paid["method"], paid["payment_ref"]) == ("paid", "bank_transfer",
                                                                     "HX20261124001")
    assert pay_world["applications"].paid == [("app-1", role, "HX20261124001")]
    shown = call_as("merchant_user", "sanyi_order_show", id=order["id"])
    assert [e["type"] for e in shown["events"]] == ["bank_transfer.received"]
    actions = [t["action"] for t in shown["trace"]]
    assert actions == ["sanyi_order_create", "sanyi_order_record_bank_transfer", "sanyi_order_paid"]
    receipt = shown["trace"][1]["after"]
    assert receipt == {"reference": "HX20261124001", "amount_fen": AMOUNT, "received_on": TODAY,
                       "recorded_by": role}
    with pytest.raises(tk.ValidationError) as err:  # never twice
        bank(order["id"], reference="HX-2")
    assert "status" in err.value.error_dict
    assert audit.count(action="sanyi_order_paid", object_id=order["id"]) == 1


@pytest.mark.parametrize("role", ["merchant_user", "wj_editor", "bureau_user", "merchant_two"])
def test_bank_transfer_refused_to_others(pay_world, role):
    order = new_order()
    with pytest.raises(tk.NotAuthorized):
        bank(order["id"], role)
    assert order_row(order["id"])["status"] == "awaiting_payment"


@pytest.mark.parametrize("overrides, field", [
    ({"amount_fen": AMOUNT - 1}, "amount_fen"),
    ({"amount_fen": AMOUNT + 100}, "amount_fen"),
    ({"amount_fen": "6500.00"}, "amount_fen"),
    ({"amount_fen": 6500.0}, "amount_fen"),
    ({"amount_fen": -AMOUNT}, "amount_fen"),
    ({"reference": ""}, "reference"),
    ({"reference": "x" * 201}, "reference"),
    ({"received_on": ""}, "received_on"),
    ({"received_on": "2026-13-01"}, "received_on"),
    ({"received_on": (clock.today() + dt.timedelta(days=1)).isoformat()}, "received_on"),
])
def test_bank_transfer_bad_input_names_the_field(pay_world, overrides, field):
    order = new_order()
    with pytest.raises(tk.ValidationError) as err:
        bank(order["id"], **overrides)
    assert field in err.value.error_dict and " / " in err.value.error_dict[field][0]
    assert order_row(order["id"])["status"] == "awaiting_payment"
    assert audit.count(object_id=order["id"]) == 1  # only its creation


def test_bank_transfer_wrong_amount_is_409_over_the_api(pay_world, app):
    order = new_order()
    token = factories.APIToken(user="operator_user")["token"]
    res = app.post("/api/action/sanyi_order_record_bank_transfer", headers={"Authorization": token},
                   json={"id": order["id"], "reference": "HX-1", "amount_fen": 100,
                         "received_on": TODAY})
    assert res.status_code == 409
    error = res.json["error"]
    assert "amount_fen" in error and "6500.00" in error["amount_fen"][0]
    merchant = factories.APIToken(user="merchant_user")["token"]
    res = app.post("/api/action/sanyi_order_record_bank_transfer",
                   headers={"Authorization": merchant},
                   json={"id": order["id"], "reference": "HX-1", "amount_fen": AMOUNT,
                         "received_on": TODAY})
    assert res.status_code == 403


def test_bank_transfer_cancels_the_open_intent(pay_world):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    bank(order["id"])
    assert client().v1.payment_intents.retrieve(intent_id).status == "canceled"


def test_bank_transfer_refused_while_a_card_payment_succeeded(pay_world):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    confirm_card(intent_id)  # the webhook has not arrived yet
    with pytest.raises(tk.ValidationError) as err:
        bank(order["id"])
    assert "status" in err.value.error_dict
    assert order_row(order["id"])["status"] == "awaiting_payment"


# -- refunds on revocation --------------------------------------------------------------------
def test_revoking_a_stripe_paid_order_refunds_through_stripe(pay_world, app):
    order, intent_id = stripe_paid_order(app)
    refund = revoke()
    assert refund["method"] == "stripe" and refund["status"] == "done"
    assert refund["amount_fen"] == AMOUNT and refund["kind"] == "revocation"
    at_stripe = client().v1.refunds.retrieve(refund["stripe_refund_id"])
    assert at_stripe.amount == AMOUNT and at_stripe.status == "succeeded"
    assert client().v1.refunds.list(params={"payment_intent": intent_id}).data[0].id == \
        refund["stripe_refund_id"]
    assert order_row(order["id"])["status"] == "refunded"
    again = revoke()  # idempotent: the same refund, no second Stripe refund
    assert again["id"] == refund["id"]
    assert len(client().v1.refunds.list(params={"payment_intent": intent_id}).data) == 1
    # late events: Stripe's refund notice, a replayed success: nothing changes
    charge = {"id": "ch_1", "object": "charge", "payment_intent": intent_id, "refunded": True}
    assert post_event(app, event("evt_refunded", "charge.refunded", charge),
                      status=200).json["outcome"] == "refund_already_done"
    late = intent_event("evt_late_success", "payment_intent.succeeded", intent_id)
    assert post_event(app, late, status=200).json["outcome"] == "already_paid"
    assert order_row(order["id"])["status"] == "refunded"
    assert len(call_as("operator_user", "sanyi_refund_list", order_id=order["id"])["results"]) == 1


def test_a_pending_stripe_refund_is_completed_by_webhook(pay_world, app, monkeypatch):
    order, intent_id = stripe_paid_order(app)
    monkeypatch.setattr(gateway, "create_refund", lambda *a, **k: SimpleNamespace(
        id="re_pending_1", status="pending", amount=AMOUNT))
    refund = revoke()
    assert refund["status"] == "pending" and refund["stripe_refund_id"] == "re_pending_1"
    charge = {"id": "ch_1", "object": "charge", "payment_intent": intent_id, "refunded": True}
    evt = event("evt_charge_refunded", "charge.refunded", charge)
    assert post_event(app, evt, status=200).json["outcome"] == "refund_done"
    assert post_event(app, evt, status=200).json["outcome"] == "duplicate"
    done = call_as("merchant_user", "sanyi_refund_list")["results"][0]
    assert done["status"] == "done" and done["completed_by"] == "stripe"


def test_a_failed_stripe_refund_is_recorded(pay_world, app, monkeypatch):
    order, intent_id = stripe_paid_order(app)
    monkeypatch.setattr(gateway, "create_refund", lambda *a, **k: SimpleNamespace(
        id="re_pending_2", status="pending", amount=AMOUNT))
    revoke()
    failed = {"id": "re_pending_2", "object": "refund", "payment_intent": intent_id,
              "status": "failed"}
    assert post_event(app, event("evt_refund_failed", "refund.updated", failed),
                      status=200).json["outcome"] == "refund_failed"
    assert call_as("operator_user", "sanyi_refund_list", status="failed")["results"][0]["order_id"] == \
        order["id"]


def test_revoking_a_bank_transfer_order_leaves_a_pending_refund_for_the_operator(pay_world):
    order = new_order()
    bank(order["id"])
    refund = revoke()
    assert (refund["method"], refund["status"], refund["stripe_refund_id"]) == (
        "bank_transfer", "pending", None)
    assert refund["payment_ref"] == "HX20261124001" and refund["reason"] == "违规使用"
    assert [r["id"] for r in call_as("operator_user", "sanyi_refund_list", status="pending")["results"]] == \
        [refund["id"]]
    with pytest.raises(tk.NotAuthorized):
        call_as("merchant_user", "sanyi_refund_complete", id=refund["id"], reference="TK-1")
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_refund_complete", id=refund["id"], reference="")
    assert "reference" in err.value.error_dict
    done = call_as("operator_user", "sanyi_refund_complete", id=refund["id"], reference="TK-1")
    assert (done["status"], done["reference"], done["completed_by"]) == ("done", "TK-1",
                                                                        "operator_user")
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_refund_complete", id=refund["id"], reference="TK-2")
    assert "status" in err.value.error_dict
    trace = [t["action"] for t in call_as("bureau_user", "sanyi_order_show", id=order["id"])["trace"]]
    assert trace[-3:] == ["sanyi_order_refund", "sanyi_refund_create", "sanyi_refund_complete"]


def test_a_stripe_refund_cannot_be_completed_by_hand(pay_world, app, monkeypatch):
    stripe_paid_order(app)
    monkeypatch.setattr(gateway, "create_refund", lambda *a, **k: SimpleNamespace(
        id="re_pending_3", status="pending", amount=AMOUNT))
    refund = revoke()
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_refund_complete", id=refund["id"], reference="TK-1")
    assert "method" in err.value.error_dict


def test_revoking_an_unpaid_order_cancels_it_and_its_intent(pay_world):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    assert revoke() is None
    assert order_row(order["id"])["status"] == "cancelled"
    assert client().v1.payment_intents.retrieve(intent_id).status == "canceled"
    with pytest.raises(tk.ValidationError):
        call_as("merchant_user", "sanyi_order_pay", id=order["id"])
    assert revoke() is None  # again: nothing to refund


def test_revocation_needs_a_reason(pay_world):
    new_order()
    with pytest.raises(tk.ValidationError) as err:
        refund_for_application("app-1", "bureau_user", " ")
    assert "reason" in err.value.error_dict


def test_money_arriving_after_cancellation_is_refunded(pay_world, app):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    confirm_card(intent_id)       # paid at Stripe, the webhook still on its way ...
    assert revoke() is None       # ... when the bureau revokes: the order is cancelled
    res = post_event(app, intent_event("evt_after_cancel", "payment_intent.succeeded", intent_id),
                     status=200)
    assert res.json["outcome"] == "surplus_refunded"
    assert order_row(order["id"])["status"] == "cancelled"
    refund = call_as("operator_user", "sanyi_refund_list", order_id=order["id"])["results"][0]
    assert (refund["kind"], refund["method"], refund["status"]) == ("surplus", "stripe", "done")
    assert client().v1.refunds.retrieve(refund["stripe_refund_id"]).amount == AMOUNT
    assert pay_world["applications"].paid == []


def test_a_second_payment_of_a_paid_order_is_refunded(pay_world, app):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    confirm_card(intent_id)
    # the operator had recorded a bank transfer before Stripe confirmed (forced here)
    model.Session.execute(sa.text("UPDATE sanyi_order SET status='paid', method='bank_transfer', "
                                  "payment_ref='HX-9', paid_at=now() WHERE id=:id"),
                          {"id": order["id"]})
    model.Session.commit()
    res = post_event(app, intent_event("evt_second", "payment_intent.succeeded", intent_id),
                     status=200)
    assert res.json["outcome"] == "surplus_refunded"
    row = order_row(order["id"])
    assert (row["status"], row["payment_ref"]) == ("paid", "HX-9")
    stored = model.Session.execute(sa.select(refund_table.c.payment_ref, refund_table.c.status)
                                   ).all()
    assert [tuple(r) for r in stored] == [(intent_id, "done")]


def test_an_application_that_no_longer_awaits_payment_gets_its_money_back(pay_world, app):
    from ckanext.sanyi.domain.approval_model import TransitionRefused
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    confirm_card(intent_id)
    pay_world["applications"].fail = TransitionRefused("state", "申请已撤回", "withdrawn")
    res = post_event(app, intent_event("evt_refused", "payment_intent.succeeded", intent_id),
                     status=200)
    assert res.json["outcome"] == "paid_then_refunded"
    assert order_row(order["id"])["status"] == "refunded"
    refund = call_as("operator_user", "sanyi_refund_list", order_id=order["id"])["results"][0]
    assert (refund["kind"], refund["status"]) == ("surplus", "done")
    actions = [t["action"] for t in call_as("bureau_user", "sanyi_order_show", id=order["id"])["trace"]]
    assert "sanyi_application_refused_payment" in actions


def test_without_a_listener_the_order_is_just_marked_paid(pay_world):
    signals.order_paid.disconnect(subscriptions.order_paid)
    try:
        assert not signals.order_paid.receivers
        order = new_order()
        assert bank(order["id"])["status"] == "paid"
    finally:
        signals.order_paid.connect(subscriptions.order_paid)


def test_lists_are_filtered_by_role(pay_world):
    mine = new_order("app-1")
    theirs = new_order("app-2", merchant="merchant_two")
    bank(mine["id"])
    bank(theirs["id"], reference="HX-2")
    revoke("app-1")
    revoke("app-2")

    def ids(role, action, **data):
        return sorted(r["id"] if action == "sanyi_order_list" else r["order_id"]
                      for r in call_as(role, action, **data)["results"])

    everything = sorted([mine["id"], theirs["id"]])
    for action in ("sanyi_order_list", "sanyi_refund_list"):
        assert ids("merchant_user", action) == [mine["id"]]
        assert ids("merchant_two", action) == [theirs["id"]]
        assert ids("wj_editor", action) == []
        for staff in ("operator_user", "bureau_user", "sysadmin"):
            assert ids(staff, action) == everything
    assert ids("operator_user", "sanyi_order_list", status="refunded") == everything
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_order_list", status="lost")
    assert "status" in err.value.error_dict
    assert json.dumps(call_as("operator_user", "sanyi_refund_list")["results"])  # JSON-safe
