"""Tables of the hash chains (migration ``0010_hash_chains``), on the extension's MetaData.

* ``sanyi_chain_head``: per log (``audit``, ``ledger``) its length and head hash, moved by
  the BEFORE INSERT trigger of the log under the row's lock (:mod:`.chain`).
* ``sanyi_checkpoint``: signed checkpoints of a log (append-only), ``kind = 'archive'`` for
  one recording an archived and deleted range (:mod:`.checkpoints`).
"""
from __future__ import annotations

import sqlalchemy as sa

from ..common.model import TIMESTAMP, metadata

__all__ = ["head_table", "checkpoint_table"]

head_table = sa.Table(
    "sanyi_chain_head", metadata,
    sa.Column("log", sa.UnicodeText, primary_key=True),
    sa.Column("length", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.UnicodeText, nullable=False),
    sa.Column("updated", TIMESTAMP, server_default=sa.func.clock_timestamp(), nullable=False),
)

checkpoint_table = sa.Table(
    "sanyi_checkpoint", metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("log", sa.UnicodeText, nullable=False),
    sa.Column("kind", sa.UnicodeText, nullable=False),
    sa.Column("length", sa.BigInteger, nullable=False),
    sa.Column("head_hash", sa.UnicodeText, nullable=False),
    sa.Column("signed_at", TIMESTAMP, nullable=False),
    sa.Column("previous", sa.UnicodeText, nullable=False),
    sa.Column("archived_from", sa.BigInteger),
    sa.Column("archived_to", sa.BigInteger),
    sa.Column("archived_month", sa.UnicodeText),
    sa.Column("archive_sha256", sa.UnicodeText),
    sa.Column("statement", sa.UnicodeText, nullable=False),
    sa.Column("statement_hash", sa.UnicodeText, nullable=False, unique=True),
    sa.Column("signature", sa.UnicodeText, nullable=False),
    sa.Column("key_id", sa.UnicodeText, nullable=False),
    sa.Column("public_key", sa.UnicodeText, nullable=False),
    sa.Column("created_by", sa.UnicodeText, nullable=False),
)
