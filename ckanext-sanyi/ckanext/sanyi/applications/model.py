"""SQLAlchemy Core tables of merchants, applications, reviews, attachments, entitlements and
notifications (migration ``0004_applications``), on the extension's MetaData
(:mod:`ckanext.sanyi.common.model`), not CKAN's: CKAN's reset helpers never touch them.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ..common.model import metadata

__all__ = ["merchant_table", "application_table", "review_table", "attachment_table",
           "entitlement_table", "notification_table", "licence_table"]

_meta = metadata
_ts = sa.DateTime(timezone=True)


def _now() -> sa.Column:
    return sa.Column("created", _ts, server_default=sa.func.clock_timestamp(), nullable=False)


merchant_table = sa.Table(
    "sanyi_merchant", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("user_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("company_name", sa.UnicodeText, nullable=False),
    sa.Column("credit_code", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("contact_name", sa.UnicodeText, nullable=False),
    sa.Column("contact_phone", sa.UnicodeText, nullable=False),
    sa.Column("contact_email", sa.UnicodeText, nullable=False, default=""),
    sa.Column("enterprise_size", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False, default="pending"),
    sa.Column("verify_comment", sa.UnicodeText, nullable=False, default=""),
    sa.Column("verified_by", sa.UnicodeText),
    sa.Column("verified_at", _ts),
    _now(),
    sa.Column("modified", _ts, server_default=sa.func.clock_timestamp(), nullable=False),
)

application_table = sa.Table(
    "sanyi_application", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    # SQ-2026-000123, assigned by the database on insert (migration 0014_human_references)
    sa.Column("human_ref", sa.UnicodeText, nullable=False, unique=True,
              server_default=sa.FetchedValue()),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("applicant_id", sa.UnicodeText, nullable=False),
    sa.Column("product_id", sa.UnicodeText, nullable=False),
    sa.Column("product_name", sa.UnicodeText, nullable=False),
    sa.Column("product_title", sa.UnicodeText, nullable=False, default=""),
    sa.Column("scenario", sa.UnicodeText, nullable=False),
    sa.Column("use", sa.UnicodeText, nullable=False),
    sa.Column("purpose", sa.UnicodeText, nullable=False),
    sa.Column("data_items", JSONB, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("expected_volume", sa.BigInteger, nullable=False),
    sa.Column("billing_unit", sa.UnicodeText, nullable=False),
    sa.Column("quantity", sa.BigInteger, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("required_units", JSONB, nullable=False),
    sa.Column("unit_decisions", JSONB, nullable=False),
    sa.Column("quote", JSONB),
    sa.Column("order_id", sa.UnicodeText),
    sa.Column("payment_ref", sa.UnicodeText),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    _now(),
    sa.Column("modified", _ts, server_default=sa.func.clock_timestamp(), nullable=False),
    sa.Column("submitted", _ts),
    sa.Column("decided", _ts),
)

review_table = sa.Table(
    "sanyi_application_review", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("actor", sa.UnicodeText, nullable=False),
    sa.Column("role", sa.UnicodeText, nullable=False),
    sa.Column("unit", sa.UnicodeText, nullable=False, default=""),
    sa.Column("decision", sa.UnicodeText, nullable=False),
    sa.Column("comment", sa.UnicodeText, nullable=False, default=""),
    _now(),
)

attachment_table = sa.Table(
    "sanyi_application_attachment", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("application_id", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("name", sa.UnicodeText, nullable=False),
    sa.Column("url", sa.UnicodeText, nullable=False, default=""),
    sa.Column("storage_key", sa.UnicodeText, nullable=False, default=""),
    sa.Column("size", sa.BigInteger),
    sa.Column("mimetype", sa.UnicodeText, nullable=False, default=""),
    sa.Column("state", sa.UnicodeText, nullable=False, default="active"),
    sa.Column("uploaded_by", sa.UnicodeText, nullable=False),
    _now(),
)

# merchants' business licences (migration 0013_merchant_licence)
licence_table = sa.Table(
    "sanyi_merchant_licence", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("name", sa.UnicodeText, nullable=False),
    sa.Column("mimetype", sa.UnicodeText, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.UnicodeText, nullable=False),
    sa.Column("storage_key", sa.UnicodeText, nullable=False),
    sa.Column("state", sa.UnicodeText, nullable=False, default="active"),
    sa.Column("uploaded_by", sa.UnicodeText, nullable=False),
    _now(),
)

entitlement_table = sa.Table(
    "sanyi_entitlement", _meta,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("application_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("merchant_id", sa.UnicodeText, nullable=False),
    sa.Column("product_id", sa.UnicodeText, nullable=False),
    sa.Column("product_name", sa.UnicodeText, nullable=False),
    sa.Column("purpose", sa.UnicodeText, nullable=False),
    sa.Column("use", sa.UnicodeText, nullable=False),
    sa.Column("data_items", JSONB, nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("quota", sa.BigInteger, nullable=False),
    sa.Column("quota_unit", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False),
    _now(),
    sa.Column("modified", _ts, server_default=sa.func.clock_timestamp(), nullable=False),
    sa.Column("ended", _ts),
)

notification_table = sa.Table(
    "sanyi_notification", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.UnicodeText, nullable=False),
    sa.Column("object_type", sa.UnicodeText, nullable=False),
    sa.Column("object_id", sa.UnicodeText, nullable=False),
    sa.Column("subject_zh", sa.UnicodeText, nullable=False),
    sa.Column("subject_en", sa.UnicodeText, nullable=False),
    sa.Column("link", sa.UnicodeText, nullable=False, default=""),
    _now(),
    sa.Column("read_at", _ts),
)
