"""Tables of the delivery gateway in CKAN's database, on the extension's MetaData.

API clients and their tokens (migration ``0007_delivery_api_clients``):

* ``sanyi_api_client``: an OAuth 2.0 client of one entitlement. ``client_id`` is public
  (``sanyi_`` + 24 URL-safe characters, or a fixed demo id); the secret is kept only as a slow
  hash (``secret_hash``, passlib). ``scope``: the scopes the client may ask for, space
  separated. Status ``active`` → ``revoked`` (final); ``rotated``: when the secret was last
  replaced. At most one active client of a name per entitlement.
* ``sanyi_api_token``: an access token issued to a client, stored as the SHA-256 of the token
  (never the token), with the entitlement and scope it was issued for, when it was issued,
  when it expires and when it was revoked (RFC 7009, rotation, revocation of the client).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from ..common.model import TIMESTAMP, metadata

__all__ = ["client_table", "token_table", "CLIENT_STATUSES", "ledger_table", "OUTCOMES",
           "alert_table", "watch_table", "statement_table", "ALERT_KINDS", "ALERT_STATUSES",
           "ALERT_DECISIONS", "STATEMENT_STATUSES"]

CLIENT_STATUSES = ("active", "revoked")

client_table = sa.Table(
    "sanyi_api_client", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("client_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("secret_hash", sa.UnicodeText, nullable=False),
    sa.Column("entitlement_id", sa.UnicodeText, nullable=False),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("name", sa.UnicodeText, nullable=False),
    sa.Column("scope", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
    sa.Column("created", TIMESTAMP, server_default=sa.func.clock_timestamp(), nullable=False),
    sa.Column("rotated", TIMESTAMP),
    sa.Column("revoked_at", TIMESTAMP),
)

token_table = sa.Table(
    "sanyi_api_token", metadata,
    sa.Column("token_hash", sa.UnicodeText, primary_key=True),
    sa.Column("api_client_id", sa.UnicodeText, sa.ForeignKey("sanyi_api_client.id"),
              nullable=False),
    sa.Column("entitlement_id", sa.UnicodeText, nullable=False),
    sa.Column("scope", sa.UnicodeText, nullable=False),
    sa.Column("issued_at", TIMESTAMP, nullable=False),
    sa.Column("expires_at", TIMESTAMP, nullable=False),
    sa.Column("revoked_at", TIMESTAMP),
)

# The data-flow ledger (migration ``0008_delivery_ledger``, :mod:`.ledger`): one row per
# call, granted or refused; append-only, rows younger than three years never deleted.
OUTCOMES = ("granted", "refused")

ledger_table = sa.Table(
    "sanyi_ledger", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("at", TIMESTAMP, server_default=sa.func.clock_timestamp(), nullable=False),
    sa.Column("request_id", sa.UnicodeText, nullable=False),
    sa.Column("merchant_id", sa.UnicodeText),
    sa.Column("client_id", sa.UnicodeText),
    sa.Column("entitlement_id", sa.UnicodeText),
    sa.Column("product", sa.UnicodeText, nullable=False),
    sa.Column("operation", sa.UnicodeText, nullable=False),
    sa.Column("outcome", sa.UnicodeText, nullable=False),
    sa.Column("error", sa.UnicodeText),
    sa.Column("units", sa.Integer, nullable=False),
    sa.Column("input_hash", sa.UnicodeText),
    sa.Column("fields_read", JSONB, nullable=False),
    sa.Column("resources", ARRAY(sa.UnicodeText), nullable=False),
    sa.Column("answer_bytes", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Numeric(12, 3), nullable=False),
    sa.Column("seq", sa.BigInteger, unique=True),
    sa.Column("prev_hash", sa.UnicodeText),
    sa.Column("row_hash", sa.UnicodeText),
)

# Over-scope supervision (migration ``0009_delivery_supervision``, :mod:`.alerts`).
ALERT_KINDS = ("out_of_scope", "data_items_exceeded", "quota_exhausted", "suspended")
ALERT_STATUSES = ("open", "resolved")
ALERT_DECISIONS = ("confirm", "dismiss", "revoke")

# An alert: refusals of one kind for one entitlement, counted while the alert is open (at
# most one open alert per entitlement and kind); resolved by the bureau's decision.
alert_table = sa.Table(
    "sanyi_alert", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("entitlement_id", sa.UnicodeText, nullable=False),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("product", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("first_at", TIMESTAMP, nullable=False),
    sa.Column("last_at", TIMESTAMP, nullable=False),
    sa.Column("last_operation", sa.UnicodeText, nullable=False),
    sa.Column("suspended", sa.Boolean, nullable=False),
    sa.Column("decision", sa.UnicodeText),
    sa.Column("decided_by", sa.UnicodeText),
    sa.Column("decided_at", TIMESTAMP),
    sa.Column("comment", sa.UnicodeText),
)

# Per entitlement, what the suspension rule remembers (one row, locked by each refusal so
# that concurrent refusals are counted one after the other): the times of the latest
# over-scope refusals, when the merchant was first told its quota is exhausted, whether the
# rule has put the entitlement into 暂停待核实 (suspended pending verification), and when the
# bureau confirmed that suspension.
watch_table = sa.Table(
    "sanyi_alert_watch", metadata,
    sa.Column("entitlement_id", sa.UnicodeText, primary_key=True),
    sa.Column("recent", ARRAY(TIMESTAMP), nullable=False),
    sa.Column("quota_told_at", TIMESTAMP),
    sa.Column("suspended_at", TIMESTAMP),
    sa.Column("suspended_alert_id", sa.BigInteger, sa.ForeignKey("sanyi_alert.id")),
    sa.Column("reason", sa.UnicodeText),
    sa.Column("confirmed_at", TIMESTAMP),
    sa.Column("updated", TIMESTAMP, server_default=sa.func.clock_timestamp(), nullable=False),
)

# Monthly statements (:mod:`.billing`): an entitlement billed by its month's granted calls.
STATEMENT_STATUSES = ("awaiting_payment", "paid", "no_charge")

statement_table = sa.Table(
    "sanyi_statement", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("entitlement_id", sa.UnicodeText, nullable=False),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("product_id", sa.UnicodeText, nullable=False),
    sa.Column("product_name", sa.UnicodeText, nullable=False),
    sa.Column("month", sa.UnicodeText, nullable=False),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("quote", JSONB, nullable=False),
    sa.Column("order_id", sa.UnicodeText),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("created", TIMESTAMP, server_default=sa.func.clock_timestamp(), nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
    sa.Column("paid_at", TIMESTAMP),
    sa.UniqueConstraint("entitlement_id", "month"),
)
