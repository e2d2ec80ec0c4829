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

__all__ = ["handle", "MalformedEvent", "check_shape"]

REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated")
MAX_DEPTH = 32  # Stripe's events nest a few levels; deeper is not an event we read
MAX_TEXT = 500  # the ids and types of an event are short


class MalformedEvent(ValueError):
    """A verified body that is not a Stripe event of the shape we read (answered 400)."""


def _depth(value: Any, limit: int) -> int:
    """How deep ``value`` nests, counting no further than ``limit + 1`` (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return level
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, (dict, list)))
    return deepest


def _text(value: Any, what: str, required: bool = False) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or "\x00" in value:
        raise MalformedEvent(f"{what} must be a short non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedEvent(f"{what} is not valid UTF-8 text") from None


def check_shape(event: Any) -> None:
    """Refuse (``MalformedEvent``) what :func:`handle` could not read: an event that is not an
    object, nests too deep, or whose ``id``, ``type``, ``data``, ``data.object``, the
    object's ``id`` / ``metadata`` / ``metadata.order_id`` / ``payment_intent`` /
    ``last_payment_error`` have the wrong type."""
    if not isinstance(event, dict):
        raise MalformedEvent("the event must be a JSON object")
    if _depth(event, MAX_DEPTH) > MAX_DEPTH:
        raise MalformedEvent(f"the event nests deeper than {MAX_DEPTH} levels")
    _text(event.get("id"), "id", required=True)
    _text(event.get("type"), "type", required=True)
    data = event.get("data")
    if data is not None and not isinstance(data, dict):
        raise MalformedEvent("data must be an object")
    obj = (data or {}).get("object")
    if obj is None:
        return
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object must be an object")
    for key in ("id", "payment_intent", "currency", "status"):
        _text(obj.get(key), f"data.object.{key}")
    for key in ("metadata", "last_payment_error"):
        if obj.get(key) is not None and not isinstance(obj[key], dict):
            raise MalformedEvent(f"data.object.{key} must be an object")
    _text((obj.get("metadata") or {}).get("order_id"), "data.object.metadata.order_id")


def handle(event: dict[str, Any], actor: str) -> dict[str, Any]:
    """Process one verified event; ``{"outcome": ..., "order_id": ...}``.
    ``MalformedEvent`` (before anything is written) if it is not of a shape we read."""
    check_shape(event)
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
