"""Verified Stripe webhook events → order and refund changes, once per event, never backwards.

For each event: lock the order (or refund) it concerns, decide what it does from the locked
state, append it to ``sanyi_payment_event`` (unique event id: a replayed or duplicated event
stops here), trace it, then apply the decision. So:

* ``payment_intent.succeeded`` pays an order awaiting payment, once; for an order already
  paid by that intent it does nothing; money for an order already paid otherwise (a second
  payment) or closed is refunded (a "surplus" refund); a wrong amount or currency never pays.
* ``payment_intent.payment_failed``, ``processing``, ``canceled``, ... are recorded only: a
  late or out-of-order event never unpays an order (the database refuses it too).
* ``charge.refunded`` and ``refund.*`` complete (or fail) a pending Stripe refund.
"""
from __future__ import annotations

import copy
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ..common import audit
from . import refunds
from .model import AWAITING, CANCELLED, PAID, REFUNDED, STRIPE, order_table
from .orders import record_event
from .settle import mark_paid

__all__ = ["handle"]

REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")


def handle(event: dict[str, Any], actor: str) -> dict[str, Any]:
    """Process one verified event; ``{"outcome": ..., "order_id": ...}``."""
    etype = str(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    if etype.startswith("payment_intent."):
        return _payment_intent(event, etype, obj, actor)
    if etype == "charge.refunded" or etype in REFUND_EVENTS:
        return _refund(event, etype, obj, actor)
    return _finish(event, etype, None, "ignored", {}, actor)


def _stored(event: dict[str, Any]) -> dict[str, Any]:
    """The event as stored: without the PaymentIntent's client secret."""
    kept = copy.deepcopy(event)
    obj = (kept.get("data") or {}).get("object")
    if isinstance(obj, dict):
        obj.pop("client_secret", None)
    return kept


def _finish(event: dict[str, Any], etype: str, order_id: str | None, outcome: str,
            summary: dict[str, Any], actor: str) -> dict[str, Any]:
    """Record the event and trace it; outcome "duplicate" if it was recorded before."""
    if not record_event(str(event["id"]), STRIPE, etype, order_id, outcome, _stored(event)):
        return {"outcome": "duplicate", "order_id": order_id}
    audit.record(actor, f"stripe:{etype}", "payment",
                 order_id or summary.get("payment_intent") or "",
                 after=dict(summary, event=event["id"], outcome=outcome))
    return {"outcome": outcome, "order_id": order_id}


def _order_for(obj: dict[str, Any]) -> Any:
    """The order a PaymentIntent pays (by its metadata, else by its id), locked."""
    order_id = (obj.get("metadata") or {}).get("order_id")
    for cond in ([order_table.c.id == str(order_id)] if order_id else []) + \
            [order_table.c.stripe_payment_intent_id == str(obj.get("id") or "")]:
        row = model.Session.execute(sa.select(order_table).where(cond).with_for_update()
                                    ).mappings().first()
        if row is not None:
            return row
    return None


def _amount(obj: dict[str, Any]) -> int | None:
    value = obj.get("amount_received") or obj.get("amount")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _success_outcome(order: Any, obj: dict[str, Any]) -> str:
    if order is None:
        return "unknown_order"
    if _amount(obj) != order["amount_fen"] or \
            str(obj.get("currency") or "").upper() != order["currency"]:
        return "amount_mismatch"
    if order["status"] == AWAITING:
        return "paid"
    if order["status"] in (PAID, REFUNDED) and order["payment_ref"] == obj.get("id"):
        return "already_paid"
    return "surplus_refunded"  # a second payment, or money for a cancelled order


def _payment_intent(event: dict[str, Any], etype: str, obj: dict[str, Any],
                    actor: str) -> dict[str, Any]:
    order = _order_for(obj)
    outcome = _success_outcome(order, obj) if etype == "payment_intent.succeeded" else "recorded"
    error = obj.get("last_payment_error") or {}
    summary = {"payment_intent": obj.get("id"), "amount_fen": _amount(obj),
               "currency": obj.get("currency"), "stripe_status": obj.get("status"),
               "error": error.get("message"), "error_code": error.get("code") or
               error.get("decline_code")}
    result = _finish(event, etype, order["id"] if order else None, outcome, summary, actor)
    if result["outcome"] == "paid":
        result["outcome"] = mark_paid(order, STRIPE, str(obj["id"]), actor)
    elif result["outcome"] == "surplus_refunded":
        why = ("订单已取消后收到的付款 / payment received after the order was cancelled"
               if order["status"] == CANCELLED else
               "重复付款 / a second payment of an order already paid")
        refunds.surplus_refund(order, str(obj["id"]), int(_amount(obj) or 0),
                               actor, why)
    return result


def _refund(event: dict[str, Any], etype: str, obj: dict[str, Any],
            actor: str) -> dict[str, Any]:
    if etype == "charge.refunded":
        intent_id = obj.get("payment_intent")
        row = refunds.stripe_refund_row(intent_id=intent_id)
        stripe_status = "succeeded" if obj.get("refunded") else "pending"
    else:
        intent_id = obj.get("payment_intent")
        row = refunds.stripe_refund_row(stripe_refund_id=obj.get("id")) or \
            refunds.stripe_refund_row(intent_id=intent_id)
        stripe_status = str(obj.get("status") or "")
    status = refunds.settle_decision(row, stripe_status)
    outcome = "unknown_refund" if row is None else f"refund_{status}" if status else \
        f"refund_already_{row['status']}" if row["status"] != "pending" else "recorded"
    summary = {"payment_intent": intent_id, "stripe_status": stripe_status,
               "refund": row["id"] if row else None}
    result = _finish(event, etype, row["order_id"] if row else None, outcome, summary, actor)
    if status and result["outcome"] != "duplicate":
        refunds.settle(row, status, actor)
    return result
