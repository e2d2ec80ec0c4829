"""An order becomes paid: by a Stripe webhook (``events``) or a bank-transfer receipt recorded
by the operator (:func:`record_bank_transfer`). :func:`mark_paid` is the only way.

After marking the order paid it calls ``applications.service.mark_paid`` in the same
transaction (paid → active + entitlement), or for a monthly statement's order the delivery
gateway's billing (signal ``statement_paid``); then ``revenue_received`` (the revenue cap).
If the application refuses the payment because it no longer awaits one (kind ``state``:
withdrawn or expired meanwhile), the money received is refunded at once (Stripe) or left for
the operator to return (bank transfer); any other error rolls the whole payment back, so a
webhook answers 500 and Stripe delivers it again.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import ckan.model as model

from feeengine import PricingError

from ..common import audit, clock, signals
from ..common.money import yuan
from ..common.schema import parsed, validated
from ..pricing import params
from . import refunds
from .model import AWAITING, BANK_TRANSFER, PAID, STATEMENT, order_table
from .orders import (
    bank_reference,
    cancel_open_intent,
    get_row,
    invalid,
    now,
    order_dict,
    record_event,
)

__all__ = ["mark_paid", "record_bank_transfer", "PAID_OUTCOME", "REFUSED_OUTCOME"]

PAID_OUTCOME, REFUSED_OUTCOME = "paid", "paid_then_refunded"


def mark_paid(row: Any, method: str, payment_ref: str, actor: str) -> str:
    """awaiting_payment → paid, then activate the application; the caller holds the row lock.

    Returns ``"paid"``, or ``"paid_then_refunded"`` when the application refused the payment.
    """
    done = model.Session.execute(
        order_table.update()
        .where(order_table.c.id == row["id"], order_table.c.status == AWAITING)
        .values(status=PAID, method=method, payment_ref=payment_ref, paid_at=now(),
                updated=now()))
    if done.rowcount != 1:  # pragma: no cover - callers hold the lock and checked the status
        raise RuntimeError(f"order {row['id']} is not awaiting payment")
    audit.record(actor, "sanyi_order_paid", "order", row["id"],
                 before={"status": AWAITING},
                 after={"status": PAID, "method": method, "payment_ref": payment_ref,
                        "amount_fen": int(row["amount_fen"]), "currency": row["currency"]})
    if row["kind"] == STATEMENT:  # a monthly statement: the application is already active
        answer = signals.answer(signals.statement_paid, row["reference"], order_id=row["id"],
                                actor=actor, payment_ref=payment_ref) or {}
    else:
        answer = signals.answer(signals.order_paid, row["application_id"], actor=actor,
                                payment_ref=payment_ref) or {}
    if answer.get("outcome") == signals.REFUSED:
        audit.record(actor, "sanyi_application_refused_payment", "order", row["id"],
                     after={"application_id": row["application_id"], "error": answer["reason"]})
        refunds.refund_paid_order(
            get_row(row["id"]), refunds.SURPLUS,
            "申请已不再等待付款 / the application no longer awaits payment", actor)
        return REFUSED_OUTCOME
    signals.revenue_received.send(row["id"], amount_fen=int(row["amount_fen"]), actor=actor)
    return PAID_OUTCOME


def _received_on(value: Any) -> dt.date:
    day = params.iso_date(value, "received_on")
    if day > clock.today():
        raise PricingError("received_on", "到账日期不能晚于今天",
                           "the date received cannot be in the future")
    return day


RECEIPT = {"reference": [parsed(bank_reference)], "amount_fen": [parsed(params.fen, "amount_fen")],
           "received_on": [parsed(_received_on)]}


def _receipt(data: Mapping[str, Any]) -> tuple[str, int, dt.date]:
    receipt = validated(data, RECEIPT)
    return receipt["reference"], receipt["amount_fen"], receipt["received_on"]


def record_bank_transfer(order_id: str, actor: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The operator records a bank-transfer receipt (对公转账) of the order's exact amount."""
    reference, amount, received_on = _receipt(data)
    row = get_row(order_id, lock=True)
    if row["status"] != AWAITING:
        invalid("status", f"订单状态为“{row['status']}”，不能再登记到账",
                f"the order is {row['status']}; no payment can be recorded")
    if amount != row["amount_fen"]:
        invalid("amount_fen", f"到账金额 {yuan(amount)} 元与订单金额 {yuan(row['amount_fen'])} 元不符",
                f"the amount received ({yuan(amount)} yuan) differs from the order's "
                f"({yuan(row['amount_fen'])} yuan)")
    if cancel_open_intent(row, actor) in ("succeeded", "processing"):
        invalid("status", "该订单的在线支付已成功或正在处理，请等待其结果",
                "an online payment of this order succeeded or is processing; wait for it")
    receipt = {"reference": reference, "amount_fen": amount,
               "received_on": received_on.isoformat(), "recorded_by": actor}
    record_event(f"bank_transfer:{row['id']}", BANK_TRANSFER, "bank_transfer.received",
                 row["id"], PAID_OUTCOME, receipt)
    audit.record(actor, "sanyi_order_record_bank_transfer", "payment", row["id"], after=receipt)
    mark_paid(row, BANK_TRANSFER, reference, actor)
    return order_dict(get_row(row["id"]))
