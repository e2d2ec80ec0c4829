"""Payments with the real applications module (no fake): approval locks the quote into an
order, a Stripe payment activates the application, revocation refunds it."""
from __future__ import annotations

import pytest

pytest.importorskip("ckanext.sanyi.applications.service")

from applications_support import to_status
from payments_support import (
    call_as,
    client,
    confirm_card,
    intent_event,
    order_row,
    post_event,
)

pytestmark = pytest.mark.usefixtures("with_plugins")
FEE = 450000  # 15000 calls × 0.30 yuan


def pay_by_card(app, order_id: str, event_id: str) -> str:
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order_id)["payment_intent_id"]
    assert confirm_card(intent_id).status == "succeeded"
    post_event(app, intent_event(event_id, "payment_intent.succeeded", intent_id), status=200)
    return intent_id


def test_approval_locks_the_quote_into_the_merchants_order(world, stripe_config):
    application = to_status("awaiting_payment")
    order = call_as("merchant_user", "sanyi_order_show", id=application["order_id"])
    assert order["application_id"] == application["id"] and order["merchant"] == "merchant_user"
    assert order["amount_fen"] == application["quote"]["amount_fen"] == FEE
    assert order["quote"]["lines"] == application["quote"]["lines"]
    with pytest.raises(Exception):  # noqa: B017  (any error: the point is the rollback)
        call_as("merchant_two", "sanyi_order_show", id=application["order_id"])


def test_card_payment_activates_the_application_once(world, stripe_config, app):
    application = to_status("awaiting_payment")
    intent_id = pay_by_card(app, application["order_id"], "evt_app_ok")
    shown = call_as("merchant_user", "sanyi_application_show", id=application["id"])
    assert shown["status"] == "active" and shown["payment_ref"] == intent_id
    assert shown["entitlement"]["status"] == "active"
    again = intent_event("evt_app_dup", "payment_intent.succeeded", intent_id)
    assert post_event(app, again, status=200).json["outcome"] == "already_paid"
    assert call_as("merchant_user", "sanyi_entitlement_list")["count"] == 1


def test_revoking_a_card_paid_application_refunds_through_stripe(world, stripe_config, app):
    application = to_status("awaiting_payment")
    intent_id = pay_by_card(app, application["order_id"], "evt_app_paid")
    entitlement = call_as("merchant_user", "sanyi_application_show",
                          id=application["id"])["entitlement"]
    result = call_as("bureau_user", "sanyi_entitlement_revoke", id=entitlement["id"],
                     reason="违规使用")
    refund = result["refund"]
    assert refund["method"] == "stripe" and refund["status"] == "done"
    assert refund["amount_fen"] == FEE and refund["reason"] == "违规使用"
    assert client().v1.refunds.list(params={"payment_intent": intent_id}).data[0].amount == FEE
    assert order_row(application["order_id"])["status"] == "refunded"


def test_revoking_before_payment_cancels_the_order(world, stripe_config, app):
    application = to_status("awaiting_payment")
    intent_id = call_as("merchant_user", "sanyi_order_pay",
                        id=application["order_id"])["payment_intent_id"]
    result = call_as("bureau_user", "sanyi_entitlement_revoke", application_id=application["id"],
                     reason="申请材料不实")
    assert result["refund"] is None
    assert order_row(application["order_id"])["status"] == "cancelled"
    assert client().v1.payment_intents.retrieve(intent_id).status == "canceled"


def test_bank_transfer_then_revocation_leaves_a_refund_for_the_operator(world, stripe_config):
    application = to_status("active")  # paid by bank transfer through sanyi_order_record_...
    order = call_as("operator_user", "sanyi_order_show", id=application["order_id"])
    assert order["method"] == "bank_transfer" and order["status"] == "paid"
    result = call_as("bureau_user", "sanyi_entitlement_revoke",
                     id=application["entitlement"]["id"], reason="违规使用")
    assert (result["refund"]["method"], result["refund"]["status"]) == ("bank_transfer", "pending")
    done = call_as("operator_user", "sanyi_refund_complete", id=result["refund"]["id"],
                   reference="TK-1")
    assert done["status"] == "done"
