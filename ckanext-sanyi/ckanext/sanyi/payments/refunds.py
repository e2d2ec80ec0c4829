"""Refunds: on revocation of a paid application, and of money that arrives for an order that
is already paid or closed (a surplus payment).

A payment paid through Stripe is refunded through Stripe (``Refund.create`` on its
PaymentIntent); the refund is done when Stripe says so (at once, or by webhook). A bank
transfer is refunded by the operator, outside the platform: the refund stays pending until
the operator records it done. At most one refund per payment (method, payment_ref); nothing
is deleted. Like ``orders``, nothing here commits.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
import stripe

from ..common import audit, roles
from ..common.money import amount_fields
from ..common.schema import parsed, validated
from . import gateway
from .model import (
    APPLICATION_FEE,
    AWAITING,
    BANK_TRANSFER,
    CANCELLED,
    OPEN,
    PAID,
    REFUNDED,
    STRIPE,
    order_table,
    refund_table,
)
from .orders import bank_reference, cancel_open_intent, invalid, iso, now

__all__ = ["refund_for_application", "refund_paid_order", "surplus_refund", "complete_refund",
           "stripe_refund_row", "settle_decision", "settle", "refund_dict", "list_refunds",
           "refunds_of_order", "REVOCATION", "SURPLUS"]

REVOCATION, SURPLUS = "revocation", "surplus"
PENDING, DONE, FAILED = "pending", "done", "failed"
_STRIPE_STATUS = {"succeeded": DONE, "failed": FAILED, "canceled": FAILED}


def refund_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"], "order_id": row["order_id"], "application_id": row["application_id"],
        **amount_fields(row["amount_fen"]),
        "currency": row["currency"], "method": row["method"], "payment_ref": row["payment_ref"],
        "kind": row["kind"], "reason": row["reason"], "status": row["status"],
        "stripe_refund_id": row["stripe_refund_id"], "reference": row["reference"],
        "created": iso(row["created"]), "created_by": row["created_by"],
        "completed_at": iso(row["completed_at"]), "completed_by": row["completed_by"]}


def _get(refund_id: Any, lock: bool = False) -> Any:
    stmt = sa.select(refund_table).where(refund_table.c.id == str(refund_id or ""))
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise tk.ObjectNotFound("未找到该退款 / Refund not found")
    return row


def _set_status(refund_id: str, status: str, actor: str, **values: Any) -> Any:
    if status != PENDING:
        values.update(completed_at=now(), completed_by=actor)
    model.Session.execute(refund_table.update().where(refund_table.c.id == refund_id)
                          .values(status=status, **values))
    return _get(refund_id)


def _create(order: Any, *, method: str, payment_ref: str, amount_fen: int, kind: str,
            reason: str, actor: str) -> Any:
    refund_id = str(uuid.uuid4())
    model.Session.execute(refund_table.insert().values(
        id=refund_id, order_id=order["id"], application_id=order["application_id"],
        amount_fen=amount_fen, currency=order["currency"], method=method,
        payment_ref=payment_ref, kind=kind, reason=reason, status=PENDING, created_by=actor))
    audit.record(actor, "sanyi_refund_create", "payment", order["id"], after={
        "refund": refund_id, "kind": kind, "method": method, "payment_ref": payment_ref,
        "amount_fen": amount_fen, "reason": reason})
    if method == STRIPE:
        return _refund_at_stripe(_get(refund_id), actor)
    return _get(refund_id)


def _refund_at_stripe(row: Any, actor: str) -> Any:
    try:
        refund = gateway.create_refund(
            row["payment_ref"], int(row["amount_fen"]),
            {"order_id": row["order_id"], "refund_id": row["id"]},
            idempotency_key=f"sanyi-refund-{row['method']}-{row['payment_ref']}")
    except gateway.NotConfigured:
        invalid("refund", "未配置在线支付，无法退款", "online payment is not configured; cannot refund")
    except stripe.StripeError as err:
        raise tk.ValidationError({"refund": [gateway.error_text(err)]}) from None
    status = _STRIPE_STATUS.get(refund.status or "", PENDING)
    audit.record(actor, "stripe_refund_create", "payment", row["order_id"], after={
        "refund": row["id"], "stripe_refund_id": refund.id, "stripe_status": refund.status,
        "amount_fen": refund.amount})
    return _set_status(row["id"], status, "stripe" if status != PENDING else actor,
                       stripe_refund_id=refund.id)


def refund_for_application(application_id: str, actor: str, reason: str) -> dict[str, Any] | None:
    """The bureau revokes the application: refund its paid order (an unpaid one is cancelled).
    Monthly statements of calls already made are not the application's fee: they stay.

    Returns the refund, or None when nothing had been paid. Idempotent: a second call returns
    the refund already recorded.
    """
    reason = str(reason or "").strip()
    if not reason:
        invalid("reason", "必填项", "Missing value")
    stmt = (sa.select(order_table).where(order_table.c.application_id == str(application_id),
                                         order_table.c.kind == APPLICATION_FEE,
                                         order_table.c.status.in_(OPEN)).with_for_update())
    order = model.Session.execute(stmt).mappings().first()
    if order is None:
        done = model.Session.execute(
            sa.select(refund_table).where(refund_table.c.application_id == str(application_id),
                                          refund_table.c.kind == REVOCATION)
            .order_by(refund_table.c.created.desc())).mappings().first()
        return refund_dict(done) if done else None
    if order["status"] == AWAITING:
        cancel_open_intent(order, actor)
        model.Session.execute(order_table.update().where(order_table.c.id == order["id"])
                              .values(status=CANCELLED, updated=now()))
        audit.record(actor, "sanyi_order_cancel", "order", order["id"],
                     before={"status": AWAITING}, after={"status": CANCELLED, "reason": reason})
        return None
    return refund_paid_order(order, REVOCATION, reason, actor)


def refund_paid_order(order: Any, kind: str, reason: str, actor: str) -> dict[str, Any]:
    """paid → refunded, with a refund of its payment (the order row locked by the caller)."""
    model.Session.execute(order_table.update().where(order_table.c.id == order["id"])
                          .values(status=REFUNDED, updated=now()))
    audit.record(actor, "sanyi_order_refund", "order", order["id"], before={"status": PAID},
                 after={"status": REFUNDED, "kind": kind, "reason": reason})
    row = _create(order, method=order["method"], payment_ref=order["payment_ref"],
                  amount_fen=int(order["amount_fen"]), kind=kind, reason=reason, actor=actor)
    return refund_dict(row)


def surplus_refund(order: Any, intent_id: str, amount_fen: int, actor: str,
                   reason: str) -> dict[str, Any]:
    """Refund a Stripe payment that arrived for an order already paid or closed."""
    existing = model.Session.execute(sa.select(refund_table).where(
        refund_table.c.method == STRIPE, refund_table.c.payment_ref == intent_id)
    ).mappings().first()
    if existing is not None:
        return refund_dict(existing)
    return refund_dict(_create(order, method=STRIPE, payment_ref=intent_id,
                               amount_fen=amount_fen, kind=SURPLUS, reason=reason, actor=actor))


def stripe_refund_row(*, intent_id: str | None = None,
                      stripe_refund_id: str | None = None) -> Any:
    """The Stripe refund (by Stripe's refund id, or by the PaymentIntent it refunds), locked."""
    cond = (refund_table.c.stripe_refund_id == stripe_refund_id) if stripe_refund_id else \
        sa.and_(refund_table.c.method == STRIPE, refund_table.c.payment_ref == (intent_id or ""))
    return model.Session.execute(sa.select(refund_table).where(cond).with_for_update()
                                 ).mappings().first()


def settle_decision(row: Any, stripe_status: str) -> str | None:
    """What a Stripe report of ``stripe_status`` does to a pending refund (None: nothing)."""
    status = _STRIPE_STATUS.get(stripe_status, PENDING)
    return status if row is not None and row["status"] == PENDING and status != PENDING else None


def settle(row: Any, status: str, actor: str) -> None:
    _set_status(row["id"], status, "stripe")
    audit.record(actor, "sanyi_refund_settled", "payment", row["order_id"], before={
        "refund": row["id"], "status": PENDING}, after={"refund": row["id"], "status": status})


def complete_refund(refund_id: str, actor: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The operator has returned a bank transfer: pending → done, with the bank's reference."""
    reference = validated(data, {"reference": [parsed(bank_reference)]})["reference"]
    row = _get(refund_id, lock=True)
    if row["method"] != BANK_TRANSFER:
        invalid("method", "在线支付的退款由 Stripe 完成",
                "refunds of online payments complete through Stripe")
    if row["status"] != PENDING:
        invalid("status", f"退款状态为“{row['status']}”，不能再次完成",
                f"the refund is {row['status']}; it cannot be completed again")
    done = _set_status(row["id"], DONE, actor, reference=reference)
    audit.record(actor, "sanyi_refund_complete", "payment", row["order_id"],
                 before={"refund": row["id"], "status": PENDING},
                 after={"refund": row["id"], "status": DONE, "reference": reference})
    return refund_dict(done)


def refunds_of_order(order_id: str) -> list[dict[str, Any]]:
    stmt = (sa.select(refund_table).where(refund_table.c.order_id == order_id)
            .order_by(refund_table.c.created))
    return [refund_dict(r) for r in model.Session.execute(stmt).mappings()]


def list_refunds(user: model.User | None, *, status: str | None = None,
                 order_id: str | None = None, limit: int = 100,
                 offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """How many refunds the user may see (staff: all; a merchant: those of their orders) and
    a page of them, newest first."""
    stmt = sa.select(refund_table)
    if user is None or not (roles.is_operator_staff(user) or roles.is_bureau_staff(user)):
        mine = sa.select(order_table.c.id).where(
            order_table.c.merchant == (user.id if user else ""))
        stmt = stmt.where(refund_table.c.order_id.in_(mine))
    if status:
        stmt = stmt.where(refund_table.c.status == status)
    if order_id:
        stmt = stmt.where(refund_table.c.order_id == order_id)
    total = model.Session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar()
    stmt = (stmt.order_by(refund_table.c.created.desc(), refund_table.c.id)
            .limit(limit).offset(offset))
    return int(total or 0), [refund_dict(r) for r in model.Session.execute(stmt).mappings()]
