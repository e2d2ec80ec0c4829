"""The payment tables (migration ``0005_payments``), on the extension's MetaData (``common/model.py``).

Status values and the rules the database enforces (no deletes, a paid order is never unpaid,
the locked amount never changes) are described in the migration.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ..common.model import metadata

__all__ = ["order_table", "event_table", "refund_table",
           "AWAITING", "PAID", "REFUNDED", "CANCELLED", "OPEN", "STRIPE", "BANK_TRANSFER",
           "APPLICATION_FEE", "STATEMENT"]

AWAITING, PAID, REFUNDED, CANCELLED = "awaiting_payment", "paid", "refunded", "cancelled"
OPEN = (AWAITING, PAID)  # at most one open application-fee order per application
STRIPE, BANK_TRANSFER = "stripe", "bank_transfer"
# What an order pays (``kind``, migration ``0009_delivery_supervision``): the fee locked at an
# application's approval, or a monthly statement of metered calls (``reference`` = its id).
APPLICATION_FEE, STATEMENT = "application", "statement"

_meta = metadata
TS = sa.DateTime(timezone=True)

order_table = sa.Table(
    "sanyi_order", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    # DD-2026-000045, assigned by the database on insert (migration 0014_human_references)
    sa.Column("human_ref", sa.UnicodeText, nullable=False, unique=True,
              server_default=sa.FetchedValue()),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("merchant", sa.UnicodeText, nullable=False),  # the merchant's user id
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.UnicodeText, nullable=False),
    sa.Column("quote", JSONB, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("method", sa.UnicodeText),
    sa.Column("stripe_payment_intent_id", sa.UnicodeText),
    sa.Column("payment_ref", sa.UnicodeText),
    sa.Column("paid_at", TS),
    sa.Column("created", TS, nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
    sa.Column("updated", TS, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False, default=APPLICATION_FEE),
    sa.Column("reference", sa.UnicodeText),
)

event_table = sa.Table(
    "sanyi_payment_event", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("event_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("source", sa.UnicodeText, nullable=False),
    sa.Column("type", sa.UnicodeText, nullable=False),
    sa.Column("order_id", sa.UnicodeText),
    sa.Column("outcome", sa.UnicodeText, nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("received", TS, nullable=False),
)

refund_table = sa.Table(
    "sanyi_refund", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("order_id", sa.UnicodeText, nullable=False),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("currency", sa.UnicodeText, nullable=False),
    sa.Column("method", sa.UnicodeText, nullable=False),
    sa.Column("payment_ref", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),  # revocation | surplus
    sa.Column("reason", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("stripe_refund_id", sa.UnicodeText),
    sa.Column("reference", sa.UnicodeText),
    sa.Column("created", TS, nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
    sa.Column("completed_at", TS),
    sa.Column("completed_by", sa.UnicodeText),
)
