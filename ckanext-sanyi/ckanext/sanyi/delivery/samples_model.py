"""Tables of data processors (数据加工处理人员) and of the views of desensitized samples
(migration ``0006_data_processors``), on the extension's MetaData in CKAN's database.

* ``sanyi_data_processor``: one row per user. The operator records the verified identity
  (document kind, the number only masked plus a keyed digest that keeps one document to one
  account), the bureau the filing (备案号), the user accepts the confidentiality agreement
  (version, time). Status ``pending`` → ``active`` (all three done) → ``revoked``.
* ``sanyi_sample_view``: every sample shown (who, which resource, when, the marker, how many
  rows). Append-only: a trigger refuses UPDATE and DELETE.
"""
from __future__ import annotations

import sqlalchemy as sa

from ..common.model import TIMESTAMP, metadata

__all__ = ["processor_table", "sample_view_table", "STATUSES"]

STATUSES = ("pending", "active", "revoked")

processor_table = sa.Table(
    "sanyi_data_processor", metadata,
    sa.Column("id", sa.UnicodeText, primary_key=True),
    sa.Column("user_id", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("status", sa.UnicodeText, nullable=False),
    sa.Column("real_name", sa.UnicodeText, nullable=False),
    sa.Column("employer", sa.UnicodeText, nullable=False, default=""),
    sa.Column("document_kind", sa.UnicodeText, nullable=False),
    sa.Column("document_masked", sa.UnicodeText, nullable=False),
    sa.Column("document_digest", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("verified_by", sa.UnicodeText, nullable=False),
    sa.Column("verified_at", TIMESTAMP, nullable=False),
    sa.Column("filing_no", sa.UnicodeText),
    sa.Column("filed_by", sa.UnicodeText),
    sa.Column("filed_at", TIMESTAMP),
    sa.Column("agreement_version", sa.UnicodeText),
    sa.Column("agreement_accepted_at", TIMESTAMP),
    sa.Column("revoked_by", sa.UnicodeText),
    sa.Column("revoked_at", TIMESTAMP),
    sa.Column("revoke_reason", sa.UnicodeText),
    sa.Column("created", TIMESTAMP, nullable=False, server_default=sa.func.clock_timestamp()),
    sa.Column("modified", TIMESTAMP, nullable=False, server_default=sa.func.clock_timestamp()),
)

sample_view_table = sa.Table(
    "sanyi_sample_view", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("user_id", sa.UnicodeText, nullable=False),
    sa.Column("user_name", sa.UnicodeText, nullable=False),
    sa.Column("processor_id", sa.UnicodeText, nullable=False),
    sa.Column("package_id", sa.UnicodeText, nullable=False),
    sa.Column("package_name", sa.UnicodeText, nullable=False),
    sa.Column("source_table", sa.UnicodeText, nullable=False),
    sa.Column("marker", sa.UnicodeText, nullable=False),
    sa.Column("view_date", sa.Date, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("viewed_at", TIMESTAMP, nullable=False, server_default=sa.func.clock_timestamp()),
)
sa.Index("sanyi_sample_view_marker", sample_view_table.c.marker)
sa.Index("sanyi_sample_view_user", sample_view_table.c.user_id, sample_view_table.c.id)
sa.Index("sanyi_sample_view_package", sample_view_table.c.package_id, sample_view_table.c.id)
