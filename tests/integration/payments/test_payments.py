"""Orders and Stripe payments against localstripe: locking the fee, paying by card, signed
webhooks (replayed, duplicated, out of order, forged), declined cards, wrong amounts."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
import stripe
from ckan import model
from ckan.plugins import toolkit as tk
from payments_support import (
    AMOUNT,
    CARD_DECLINED,
    QUOTE,
    call_as,
    client,
    confirm_card,
    event,
    intent_event,
    new_order,
    order_row,
    post_event,
    sign,
    wait_for_delivery,
)

from ckanext.sanyi.common import audit
from ckanext.sanyi.payments import create_order, orders
from ckanext.sanyi.payments.model import event_table, order_table

pytestmark = pytest.mark.usefixtures("with_plugins")


def paid_count(order_id: str) -> int:
    return audit.count(action="sanyi_order_paid", object_id=order_id)


def events_of(order_id: str) -> list[tuple[str, str, str]]:
    stmt = (sa.select(event_table.c.event_id, event_table.c.type, event_table.c.outcome)
            .where(event_table.c.order_id == order_id).order_by(event_table.c.id))
    return [tuple(r) for r in model.Session.execute(stmt)]


def paid_total() -> int:
    """What the platform counts as received: the sum over paid orders."""
    stmt = sa.select(sa.func.coalesce(sa.func.sum(order_table.c.amount_fen), 0)).where(
        order_table.c.status == "paid")
    return int(model.Session.execute(stmt).scalar_one())


def pay_by_card(order_id: str) -> str:
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order_id)["payment_intent_id"]
    assert confirm_card(intent_id).status == "succeeded"
    return intent_id


# -- orders -----------------------------------------------------------------------------------
def test_create_order_locks_the_quote_and_is_idempotent(pay_world):
    order = new_order("app-1")
    assert order["status"] == "awaiting_payment" and order["amount_fen"] == AMOUNT
    assert order["amount_yuan"] == "6500.00" and order["currency"] == "CNY"
    assert order["merchant"] == "merchant_user" and order["quote"]["lines"] == QUOTE["lines"]
    again = new_order("app-1", quote=dict(QUOTE, amount_fen=1))  # approval clicked twice
    assert again["id"] == order["id"] and again["amount_fen"] == AMOUNT
    assert len(call_as("operator_user", "sanyi_order_list", application_id="app-1")["results"]) == 1
    trace = audit.list(object_type="order", object_id=order["id"])
    assert [t["action"] for t in trace] == ["sanyi_order_create"]
    assert trace[0]["actor"] == "bureau_user" and trace[0]["after"]["amount_fen"] == AMOUNT


@pytest.mark.parametrize("quote, field", [
    ({"amount_fen": 6500.0, "currency": "CNY"}, "quote.amount_fen"),
    ({"amount_fen": "650000", "currency": "CNY"}, "amount_fen"),
    ({"amount_fen": True, "currency": "CNY"}, "amount_fen"),
    ({"amount_fen": 0, "currency": "CNY", "free": True}, "amount_fen"),
    ({"amount_fen": 100, "currency": "USD"}, "currency"),
    ({"amount_fen": 100, "lines": [{"unit_price": 0.5}]}, "quote.lines[0].unit_price"),
    (None, "quote"),
])
def test_create_order_refuses_bad_quotes(pay_world, quote, field):
    with pytest.raises(tk.ValidationError) as err:
        create_order("app-x", quote, "bureau_user", merchant="merchant_user")
    assert field in err.value.error_dict and " / " in err.value.error_dict[field][0]


def test_create_order_needs_an_existing_merchant(pay_world):
    with pytest.raises(tk.ValidationError) as err:
        create_order("app-x", QUOTE, "bureau_user", merchant="nobody")
    assert "merchant" in err.value.error_dict


def test_database_refuses_unpaying_deleting_and_changing_the_amount(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    post_event(app, intent_event("evt_db_1", "payment_intent.succeeded", intent_id), status=200)
    for sql in ("UPDATE sanyi_order SET status = 'awaiting_payment' WHERE id = :id",
                "UPDATE sanyi_order SET amount_fen = 1 WHERE id = :id",
                "UPDATE sanyi_order SET payment_ref = 'x' WHERE id = :id",
                "DELETE FROM sanyi_order WHERE id = :id",
                "UPDATE sanyi_payment_event SET outcome = 'x' WHERE order_id = :id",
                "DELETE FROM sanyi_payment_event WHERE order_id = :id"):
        with pytest.raises(sa.exc.DBAPIError):
            model.Session.execute(sa.text(sql), {"id": order["id"]})
        model.Session.rollback()
    assert order_row(order["id"])["status"] == "paid"


# -- paying through Stripe --------------------------------------------------------------------
def test_pay_creates_one_payment_intent_in_localstripe(pay_world):
    order = new_order()
    pay = call_as("merchant_user", "sanyi_order_pay", id=order["id"])
    assert pay["client_secret"].startswith(pay["payment_intent_id"] + "_secret_")
    assert pay["publishable_key"] == "pk_test_sanyi" and pay["amount_fen"] == AMOUNT
    assert pay["js_url"].endswith("/js.stripe.com/v3/")
    assert pay["payment_method_types"] == ["card", "alipay", "wechat_pay"]
    intent = client().v1.payment_intents.retrieve(pay["payment_intent_id"])
    assert (intent.amount, intent.currency, intent.status) == (AMOUNT, "cny",
                                                                "requires_payment_method")
    assert intent.metadata["order_id"] == order["id"]
    again = call_as("merchant_user", "sanyi_order_pay", id=order["id"])
    assert again["payment_intent_id"] == pay["payment_intent_id"]
    assert order_row(order["id"])["stripe_payment_intent_id"] == pay["payment_intent_id"]
    assert audit.count(action="sanyi_order_pay", object_id=order["id"]) == 1


def test_pay_replaces_a_cancelled_intent(pay_world):
    order = new_order()
    first = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    client().v1.payment_intents.cancel(first)
    second = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    assert second != first and order_row(order["id"])["stripe_payment_intent_id"] == second


def test_card_payment_and_signed_webhook_pay_exactly_once(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    assert order_row(order["id"])["status"] == "awaiting_payment"  # only the webhook pays
    succeeded = intent_event("evt_ok_1", "payment_intent.succeeded", intent_id)
    res = post_event(app, succeeded, status=200)
    assert res.json == {"received": True, "outcome": "paid", "order_id": order["id"]}
    row = order_row(order["id"])
    assert (row["status"], row["method"], row["payment_ref"]) == ("paid", "stripe", intent_id)
    assert row["paid_at"] is not None
    site = orders.site_actor()
    assert pay_world["applications"].paid == [("app-1", site, intent_id)]

    assert post_event(app, succeeded, status=200).json["outcome"] == "duplicate"  # replayed
    dup = intent_event("evt_ok_2", "payment_intent.succeeded", intent_id)  # same intent again
    assert post_event(app, dup, status=200).json["outcome"] == "already_paid"
    assert paid_count(order["id"]) == 1 and paid_total() == AMOUNT
    assert pay_world["applications"].paid == [("app-1", site, intent_id)]
    assert events_of(order["id"]) == [("evt_ok_1", "payment_intent.succeeded", "paid"),
                                      ("evt_ok_2", "payment_intent.succeeded", "already_paid")]
    with pytest.raises(tk.ValidationError) as err:  # a paid order is not paid again
        call_as("merchant_user", "sanyi_order_pay", id=order["id"])
    assert "status" in err.value.error_dict


@pytest.mark.parametrize("etype, status", [
    ("payment_intent.payment_failed", "requires_payment_method"),
    ("payment_intent.processing", "processing"),
    ("payment_intent.canceled", "canceled"),
    ("payment_intent.requires_action", "requires_action"),
])
def test_late_events_after_success_never_unpay(pay_world, app, etype, status):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    post_event(app, intent_event("evt_a", "payment_intent.succeeded", intent_id), status=200)
    late = intent_event("evt_b", etype, intent_id, status=status)
    late["created"] -= 60  # generated before the success, delivered after it
    assert post_event(app, late, status=200).json["outcome"] == "recorded"
    assert order_row(order["id"])["status"] == "paid" and paid_count(order["id"]) == 1


def test_forged_missing_stale_or_tampered_signatures_are_refused(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    evt = intent_event("evt_forged", "payment_intent.succeeded", intent_id)
    body = json.dumps(evt).encode()
    post_event(app, evt, secret="whsec_wrong", status=400)                  # forged
    post_event(app, evt, signature="", status=400)                          # missing
    post_event(app, evt, signature="t=1,v1=00", status=400)                 # garbage
    post_event(app, body, signature=sign(body, timestamp=int(time.time()) - 3600),
               status=400)                                                  # stale (replay)
    tampered = body.replace(b'"evt_forged"', b'"evt_other"')
    post_event(app, tampered, signature=sign(body), status=400)             # body changed
    post_event(app, b"not json", status=400)                                # signed garbage
    assert order_row(order["id"])["status"] == "awaiting_payment"
    assert events_of(order["id"]) == [] and paid_count(order["id"]) == 0
    assert audit.count(object_type="payment", action="stripe:payment_intent.succeeded") == 0


def test_webhook_refused_without_a_configured_secret(pay_world, app, monkeypatch, ckan_config):
    order = new_order()
    evt = event("evt_nosecret", "payment_intent.succeeded", {"id": "pi_x", "amount": AMOUNT,
                                                              "currency": "cny",
                                                              "metadata": {"order_id": order["id"]}})
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.stripe.webhook_secret", "")
    post_event(app, evt, status=503)
    assert order_row(order["id"])["status"] == "awaiting_payment"


def test_declined_card_leaves_the_order_unpaid_and_can_be_retried(pay_world, app):
    order = new_order()
    intent_id = call_as("merchant_user", "sanyi_order_pay", id=order["id"])["payment_intent_id"]
    with pytest.raises(stripe.CardError) as err:
        confirm_card(intent_id, CARD_DECLINED)
    assert err.value.code == "card_declined"
    failed = intent_event("evt_fail", "payment_intent.payment_failed", intent_id)
    assert failed["data"]["object"]["status"] == "requires_payment_method"
    assert post_event(app, failed, status=200).json["outcome"] == "recorded"
    assert order_row(order["id"])["status"] == "awaiting_payment"
    trace = call_as("merchant_user", "sanyi_order_show", id=order["id"])["trace"]
    failure = [t for t in trace if t["action"] == "stripe:payment_intent.payment_failed"][0]
    assert "declined" in failure["after"]["error"]
    # the page offers the same intent again (Stripe lets it be retried) ...
    again = call_as("merchant_user", "sanyi_order_pay", id=order["id"])
    assert again["payment_intent_id"] == intent_id
    # ... but localstripe cannot re-confirm a failed intent: cancel it, pay with a new one
    client().v1.payment_intents.cancel(intent_id)
    retry = pay_by_card(order["id"])
    assert retry != intent_id
    post_event(app, intent_event("evt_ok", "payment_intent.succeeded", retry), status=200)
    assert order_row(order["id"])["status"] == "paid" and paid_count(order["id"]) == 1


def test_localstripe_signed_delivery_is_accepted(pay_world, app, captured_webhooks):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    body, signature = wait_for_delivery(captured_webhooks, "payment_intent.succeeded", intent_id)
    res = post_event(app, body, signature=signature, status=200)
    assert res.json["outcome"] == "paid" and order_row(order["id"])["status"] == "paid"
    assert post_event(app, body, signature=signature, status=200).json["outcome"] == "duplicate"


def test_success_with_a_wrong_amount_or_currency_never_pays(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    short = intent_event("evt_short", "payment_intent.succeeded", intent_id, amount=100,
                         amount_received=100)
    assert post_event(app, short, status=200).json["outcome"] == "amount_mismatch"
    usd = intent_event("evt_usd", "payment_intent.succeeded", intent_id, currency="usd")
    assert post_event(app, usd, status=200).json["outcome"] == "amount_mismatch"
    assert order_row(order["id"])["status"] == "awaiting_payment"
    assert pay_world["applications"].paid == []


def test_events_for_unknown_intents_and_other_types_are_recorded_only(pay_world, app):
    unknown = event("evt_unknown", "payment_intent.succeeded",
                    {"id": "pi_notours", "amount": AMOUNT, "currency": "cny", "metadata": {}})
    assert post_event(app, unknown, status=200).json["outcome"] == "unknown_order"
    other = event("evt_cust", "customer.created", {"id": "cus_1"})
    assert post_event(app, other, status=200).json["outcome"] == "ignored"
    assert paid_total() == 0


def test_stored_events_keep_no_client_secret(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    post_event(app, intent_event("evt_secret", "payment_intent.succeeded", intent_id), status=200)
    payload = model.Session.execute(sa.select(event_table.c.payload).where(
        event_table.c.event_id == "evt_secret")).scalar_one()
    assert payload["data"]["object"]["id"] == intent_id
    assert "client_secret" not in payload["data"]["object"]


def test_a_failing_activation_rolls_the_payment_back_for_a_retry(pay_world, app):
    order = new_order()
    intent_id = pay_by_card(order["id"])
    evt = intent_event("evt_retry", "payment_intent.succeeded", intent_id)
    pay_world["applications"].fail = RuntimeError("a bug")
    post_event(app, evt, status=500)  # Stripe will deliver it again
    assert order_row(order["id"])["status"] == "awaiting_payment" and events_of(order["id"]) == []
    pay_world["applications"].fail = None
    assert post_event(app, evt, status=200).json["outcome"] == "paid"
    assert order_row(order["id"])["status"] == "paid" and paid_count(order["id"]) == 1
