"""Orders: locked at approval, paid through Stripe or by bank transfer (对公转账), read back.

Nothing here commits: each function writes in the caller's session, so a change and its audit
records are committed (or rolled back) together by the action, the webhook view, or the
applications code that called :func:`create_order`. An order becomes paid only through
``settle.mark_paid``, with its row locked, so two deliveries of a payment never both pay.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from typing import Any, NoReturn

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
import stripe
from sqlalchemy.dialects.postgresql import insert as pg_insert

from feeengine import PricingError

from ..common import audit, clock, roles
from ..common.i18n_text import bi
from ..common.money import amount_fields
from ..common.user import site_user_name as site_actor
from ..pricing import params
from . import gateway
from .model import APPLICATION_FEE, AWAITING, OPEN, STATEMENT, event_table, order_table

__all__ = ["invalid", "bank_reference", "iso", "now", "create_order", "create_statement_order",
           "get_row", "order_dict",
           "list_orders", "events_of", "start_stripe_payment", "record_event", "cancel_open_intent",
           "site_actor"]

CURRENCY = "CNY"
MAX_REFERENCE = 200  # characters of a bank reference
# the partial unique index: one open application-fee order per application
_OPEN_PREDICATE = sa.text("status IN ('awaiting_payment', 'paid') AND kind = 'application'")


def invalid(field: str, zh: str, en: str) -> NoReturn:
    raise tk.ValidationError({field: [bi(zh, en)]})


def bank_reference(value: Any, field: str = "reference") -> str:
    """The bank's reference of a transfer (回单号): required, at most
    :data:`MAX_REFERENCE` characters."""
    reference = params.required({field: value}, field)
    if isinstance(reference, str) and len(reference) > MAX_REFERENCE:
        raise PricingError(field, f"回单号过长（最多 {MAX_REFERENCE} 字）",
                           f"the reference is too long ({MAX_REFERENCE} characters at most)")
    return str(reference)


def now() -> dt.datetime:
    return clock.now_utc()


# -- create ---------------------------------------------------------------------------------
def _refuse_floats(value: Any, path: str = "quote") -> None:
    if isinstance(value, float):
        invalid(path, "金额与数量不得为浮点数", "amounts and quantities must not be floats")
    if isinstance(value, Mapping):
        for k, v in value.items():
            _refuse_floats(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _refuse_floats(v, f"{path}[{i}]")


def _json_safe(value: Any) -> Any:
    """A JSON copy (dates, Decimals → strings); floats are refused before this."""
    return json.loads(json.dumps(value, default=str))


def _locked_amount(quote: Any) -> int:
    if not isinstance(quote, Mapping):
        invalid("quote", "缺少报价", "the quote is missing")
    _refuse_floats(quote)
    amount = quote.get("amount_fen")
    if isinstance(amount, bool) or not isinstance(amount, int):
        invalid("amount_fen", "报价金额须为整数（分）", "the quoted amount must be an integer of fen")
    if amount <= 0:
        invalid("amount_fen", "免费使用无需订单", "free use needs no order")
    if (quote.get("currency") or CURRENCY) != CURRENCY:
        invalid("currency", "只接受人民币（CNY）", "only CNY is accepted")
    return amount


def _application_merchant(application_id: str) -> Any:
    """The applicant (merchant user id) of an application, through its action."""
    try:
        app = tk.get_action("sanyi_application_show")({"ignore_auth": True},
                                                       {"id": application_id})
    except (KeyError, tk.ObjectNotFound, tk.ValidationError):
        return None  # no such application (or no applications feature): an unknown merchant
    return app.get("applicant_id")


def _merchant_user(application_id: str, merchant: Any) -> model.User:
    ref = merchant if merchant else _application_merchant(application_id)
    user = model.User.get(ref) if ref else None
    if user is None or user.state != "active":
        invalid("merchant", f"未找到数商用户：{ref!r}", f"merchant user not found: {ref!r}")
    return user


def _open_row(application_id: str, lock: bool = False) -> Any:
    stmt = sa.select(order_table).where(order_table.c.application_id == application_id,
                                        order_table.c.kind == APPLICATION_FEE,
                                        order_table.c.status.in_(OPEN))
    return model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()


def create_order(application_id: str, quote: dict[str, Any], actor: str,
                 merchant: str | None = None) -> dict[str, Any]:
    """Lock the quoted fee into an order awaiting payment; the open order if there is one.

    ``merchant``: the merchant's user id or name (default: the application's applicant).
    """
    application_id = str(application_id or "").strip()
    if not application_id:
        invalid("application_id", "必填项", "Missing value")
    existing = _open_row(application_id)
    if existing is not None:
        return order_dict(existing)
    amount = _locked_amount(quote)
    user = _merchant_user(application_id, merchant)
    order_id = str(uuid.uuid4())
    stmt = (pg_insert(order_table)
            .values(id=order_id, application_id=application_id, merchant=user.id,
                    amount_fen=amount, currency=CURRENCY, quote=_json_safe(quote),
                    status=AWAITING, created_by=actor)
            .on_conflict_do_nothing(index_elements=["application_id"],
                                    index_where=_OPEN_PREDICATE)
            .returning(*order_table.c))
    row = model.Session.execute(stmt).mappings().first()
    if row is None:  # created meanwhile by a concurrent call
        return order_dict(_open_row(application_id))
    audit.record(actor, "sanyi_order_create", "order", order_id, after={
        "application_id": application_id, "merchant": user.name, "amount_fen": amount,
        "currency": CURRENCY, "status": AWAITING, "quote_version": quote.get("version")})
    return order_dict(row)


def create_statement_order(statement_id: str, application_id: str, quote: dict[str, Any],
                           actor: str, merchant: str) -> dict[str, Any]:
    """The order of a monthly statement (``kind`` statement, ``reference`` its id) for the
    entitlement's application; the open one if the statement already has one."""
    stmt = sa.select(order_table).where(order_table.c.kind == STATEMENT,
                                        order_table.c.reference == statement_id,
                                        order_table.c.status.in_(OPEN))
    existing = model.Session.execute(stmt).mappings().first()
    if existing is not None:
        return order_dict(existing)
    amount = _locked_amount(quote)
    user = _merchant_user(application_id, merchant)
    order_id = str(uuid.uuid4())
    row = model.Session.execute(
        order_table.insert().values(id=order_id, application_id=application_id,
                                    merchant=user.id, amount_fen=amount, currency=CURRENCY,
                                    quote=_json_safe(quote), status=AWAITING, created_by=actor,
                                    kind=STATEMENT, reference=statement_id)
        .returning(*order_table.c)).mappings().one()
    audit.record(actor, "sanyi_order_create", "order", order_id, after={
        "application_id": application_id, "merchant": user.name, "amount_fen": amount,
        "currency": CURRENCY, "status": AWAITING, "kind": STATEMENT, "statement": statement_id})
    return order_dict(row)


# -- read -----------------------------------------------------------------------------------
def get_row(order_id: Any, lock: bool = False) -> Any:
    stmt = sa.select(order_table).where(order_table.c.id == str(order_id or ""))
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise tk.ObjectNotFound(bi("未找到该订单", "Order not found"))
    return row


def iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def order_dict(row: Any) -> dict[str, Any]:
    user = model.User.get(row["merchant"])
    return {
        "id": row["id"], "application_id": row["application_id"],
        "merchant": user.name if user else row["merchant"],
        "merchant_display_name": user.display_name if user else row["merchant"],
        **amount_fields(row["amount_fen"]),
        "currency": row["currency"], "quote": row["quote"], "status": row["status"],
        "method": row["method"], "stripe_payment_intent_id": row["stripe_payment_intent_id"],
        "payment_ref": row["payment_ref"], "paid_at": iso(row["paid_at"]),
        "created": iso(row["created"]), "created_by": row["created_by"],
        "updated": iso(row["updated"]), "kind": row["kind"], "reference": row["reference"],
        "human_ref": row["human_ref"]}


def list_orders(user: model.User | None, *, status: str | None = None,
                application_id: str | None = None, limit: int = 100,
                offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """How many orders the user may see (staff: all; anyone else: their own) and a page of
    them, newest first."""
    stmt = sa.select(order_table)
    if user is None or not (roles.is_operator_staff(user) or roles.is_bureau_staff(user)):
        stmt = stmt.where(order_table.c.merchant == (user.id if user else ""))
    if status:
        stmt = stmt.where(order_table.c.status == status)
    if application_id:
        stmt = stmt.where(order_table.c.application_id == application_id)
    total = model.Session.execute(sa.select(sa.func.count()).select_from(stmt.subquery())).scalar()
    stmt = stmt.order_by(order_table.c.created.desc(), order_table.c.id).limit(limit).offset(offset)
    return int(total or 0), [order_dict(r) for r in model.Session.execute(stmt).mappings()]


def events_of(order_id: str) -> list[dict[str, Any]]:
    """The payment events recorded for an order (without their payloads), oldest first."""
    stmt = (sa.select(event_table.c.event_id, event_table.c.source, event_table.c.type,
                      event_table.c.outcome, event_table.c.received)
            .where(event_table.c.order_id == order_id).order_by(event_table.c.id))
    return [dict(r, received=iso(r["received"])) for r in model.Session.execute(stmt).mappings()]


# -- paying ---------------------------------------------------------------------------------
def _require_awaiting(row: Any) -> None:
    if row["status"] != AWAITING:
        invalid("status", f"订单状态为“{row['status']}”，不能再付款",
                f"the order is {row['status']}; it cannot be paid again")


def _touch(order_id: str, **values: Any) -> None:
    model.Session.execute(order_table.update().where(order_table.c.id == order_id)
                          .values(updated=now(), **values))


def start_stripe_payment(order_id: str, actor: str) -> dict[str, Any]:
    """Create (or reuse) the order's PaymentIntent; what Stripe.js needs to confirm it."""
    row = get_row(order_id, lock=True)
    _require_awaiting(row)
    old = row["stripe_payment_intent_id"]
    try:
        intent = gateway.retrieve_intent(old) if old else None
        if intent is None or intent.status == "canceled":
            key = f"sanyi-order-{row['id']}" + (f"-after-{old}" if old else "")
            intent = gateway.create_intent(dict(row), key)
            _touch(row["id"], stripe_payment_intent_id=intent.id)
            audit.record(actor, "sanyi_order_pay", "payment", row["id"],
                         before={"payment_intent": old} if old else None,
                         after={"payment_intent": intent.id, "amount_fen": row["amount_fen"],
                                "currency": row["currency"],
                                "payment_method_types": gateway.payment_method_types()})
    except gateway.NotConfigured:
        invalid("payment", "未配置在线支付", "online payment is not configured")
    except stripe.StripeError as err:
        raise tk.ValidationError({"payment": [gateway.error_text(err)]}) from None
    return {"order_id": row["id"], "payment_intent_id": intent.id,
            "client_secret": intent.client_secret, "status": intent.status,
            **amount_fields(row["amount_fen"]),
            "currency": row["currency"],
            "payment_method_types": gateway.payment_method_types(),
            "publishable_key": tk.config.get("ckanext.sanyi.stripe.publishable_key"),
            "js_url": tk.config.get("ckanext.sanyi.stripe.js_url")}


def record_event(event_id: str, source: str, type_: str, order_id: str | None, outcome: str,
                 payload: dict[str, Any]) -> bool:
    """Append a payment event; False if that event id was already recorded."""
    stmt = (pg_insert(event_table)
            .values(event_id=event_id, source=source, type=type_, order_id=order_id,
                    outcome=outcome, payload=_json_safe(payload))
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(event_table.c.id))
    return model.Session.execute(stmt).first() is not None


def cancel_open_intent(row: Any, actor: str) -> str | None:
    """Cancel the order's PaymentIntent at Stripe if it can still be paid; its status after.

    Returns None when there is no intent, or Stripe cannot be reached (recorded in the trace).
    """
    intent_id = row["stripe_payment_intent_id"]
    if not intent_id:
        return None
    try:
        intent = gateway.retrieve_intent(intent_id)
        if intent.status in ("requires_payment_method", "requires_confirmation",
                             "requires_action", "requires_capture"):
            intent = gateway.cancel_intent(intent_id)
            audit.record(actor, "stripe_payment_intent_cancel", "payment", row["id"],
                         after={"payment_intent": intent_id, "status": intent.status})
        return intent.status
    except (gateway.NotConfigured, stripe.StripeError) as err:
        audit.record(actor, "stripe_payment_intent_cancel_failed", "payment", row["id"],
                     after={"payment_intent": intent_id, "error": str(err)})
        return None
