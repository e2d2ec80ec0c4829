"""The PostgreSQL search index tables (migrations ``0001_search_index``,
``0003_search_index_split``, ``0012_search_facet_counts`` and ``0015_search_change_log``) on the extension's MetaData.

The backend (:mod:`.postgres`) writes and reads them with its own SQL (upserts, tsvector
ranking, array operators); these definitions say what the migrations create, so that the
schema test can compare the two and ``clean_db`` can empty every table of the extension.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

from ..common.model import TIMESTAMP, metadata

__all__ = ["search_doc", "facet_value", "facet_count", "change"]

search_doc = sa.Table(
    "sanyi_search_doc", metadata,
    sa.Column("index_id", sa.UnicodeText, primary_key=True),
    sa.Column("id", sa.UnicodeText, nullable=False),
    sa.Column("site_id", sa.UnicodeText, nullable=False),
    sa.Column("name", sa.UnicodeText),
    sa.Column("title", sa.UnicodeText),
    sa.Column("title_sort", sa.UnicodeText),
    sa.Column("metadata_created", TIMESTAMP),
    sa.Column("metadata_modified", TIMESTAMP),
    sa.Column("doc", JSONB, nullable=False),
    sa.Column("data_dict", sa.UnicodeText),
    sa.Column("validated_data_dict", sa.UnicodeText),
    sa.Column("terms", ARRAY(sa.UnicodeText), nullable=False),
    sa.Column("tsv", TSVECTOR, nullable=False),
    sa.Column("state", sa.UnicodeText),
    sa.Column("capacity", sa.UnicodeText),
    sa.Column("dataset_type", sa.UnicodeText),
    sa.Column("entity_type", sa.UnicodeText),
    sa.Column("labels", ARRAY(sa.UnicodeText), nullable=False),
    sa.Column("facet_ids", ARRAY(sa.Integer), nullable=False),
    sa.Column("rank_tsv", TSVECTOR, nullable=False),
)

facet_value = sa.Table(
    "sanyi_search_facet_value", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("term", sa.UnicodeText, nullable=False, unique=True),
)

# facet counts per visibility group, key facet value and facet value (migration 0012,
# search/facet_store.py); maintained by statement triggers on sanyi_search_doc
facet_count = sa.Table(
    "sanyi_search_facet_count", metadata,
    sa.Column("site_id", sa.UnicodeText),
    sa.Column("state", sa.UnicodeText),
    sa.Column("capacity", sa.UnicodeText),
    sa.Column("dataset_type", sa.UnicodeText),
    sa.Column("entity_type", sa.UnicodeText),
    sa.Column("labels", ARRAY(sa.UnicodeText), nullable=False),
    sa.Column("key_id", sa.Integer, nullable=False),
    sa.Column("facet_id", sa.Integer, nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("key_id", "facet_id", "site_id", "state", "capacity", "dataset_type",
                        "entity_type", "labels", name="sanyi_search_facet_count_key",
                        postgresql_nulls_not_distinct=True),
)

# which index rows each transaction wrote (migration 0015, search/memload.py); statement
# triggers on sanyi_search_doc write it
change = sa.Table(
    "sanyi_search_change", metadata,
    sa.Column("xid", sa.BigInteger, nullable=False),
    sa.Column("index_id", sa.UnicodeText),
    sa.Column("at", TIMESTAMP, nullable=False),
)
