"""The table of submitted reports (migration ``0011_reports``), on the extension's MetaData.

A row is written once, when the operator submits a report (figures, PDF, their SHA-256 and
the audit record's id); the database refuses any later change but marking it received.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

from ...common.model import TIMESTAMP, metadata

__all__ = ["report_table", "STATUSES"]

STATUSES = ("submitted", "received")

report_table = sa.Table(
    "sanyi_report", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("period", sa.UnicodeText, nullable=False),
    sa.Column("language", sa.UnicodeText, nullable=False),
    sa.Column("figures", JSONB, nullable=False),
    sa.Column("figures_sha256", sa.UnicodeText, nullable=False),
    sa.Column("pdf", BYTEA, nullable=False),
    sa.Column("pdf_sha256", sa.UnicodeText, nullable=False),
    sa.Column("status", sa.UnicodeText, nullable=False, server_default="submitted"),
    sa.Column("submitted_by", sa.UnicodeText, nullable=False),
    sa.Column("submitted_at", TIMESTAMP, nullable=False),
    sa.Column("audit_id", sa.BigInteger),
    sa.Column("received_by", sa.UnicodeText),
    sa.Column("received_at", TIMESTAMP),
    sa.Column("received_comment", sa.UnicodeText),
    sa.UniqueConstraint("kind", "period"),
)
