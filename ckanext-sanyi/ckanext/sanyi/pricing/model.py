"""The pricing tables (migration ``0002_pricing_audit``), as SQLAlchemy Core tables.

They live on the extension's ``MetaData`` (:mod:`..common.model`), not CKAN's; these tables
are append-only (a trigger refuses UPDATE and DELETE).

``sanyi_price_version``: one row per schedule version (``kind`` 'price' = the operator's actual
price, 'ceiling' = the bureau's 上限收费标准), per product and billing unit, with its
``effective_from``. A new version never replaces a row; a later row with the same product,
kind, unit and date supersedes the earlier one (it is then never in force).

``sanyi_pricing_setting``: bureau settings with history; the current value of a ``(name,
scope)`` is its latest row. Names: ``priority_discount`` (scope ''), ``revenue_shares`` (''),
``revenue_cap`` (scope = period 'YYYY'), ``revenue_billed`` (period), ``product_policy``
(scope = product id).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from ..common.model import metadata

__all__ = ["price_version", "pricing_setting"]

_meta = metadata

price_version = sa.Table(
    "sanyi_price_version", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("product_id", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("unit", sa.UnicodeText, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
    sa.Column("label", sa.UnicodeText, nullable=False),
    sa.Column("schedule", JSONB, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
)

pricing_setting = sa.Table(
    "sanyi_pricing_setting", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("name", sa.UnicodeText, nullable=False),
    sa.Column("scope", sa.UnicodeText, nullable=False),
    sa.Column("value", JSONB, nullable=False),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
)
