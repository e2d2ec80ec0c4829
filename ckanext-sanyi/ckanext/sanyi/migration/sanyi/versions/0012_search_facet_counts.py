"""Facet counts kept with the search index: ``sanyi_search_facet_count``.

One row per visibility group (the index row's site, state, capacity, dataset type, entity type
and permission labels), key facet value and counted facet value: how many index rows of the
group carry both. The key ``*`` (every document, the first id of each ``facet_ids``) holds
the unfiltered catalog's counts; any other key holds the counts of the rows filtered by that
one facet value. A search whose query is visibility conditions and at most one facet value
reads its hit count and facet counts from here (``search/facet_store.py``).

Statement triggers on ``sanyi_search_doc`` (insert, update, delete, truncate; transition
tables) add each statement's changes in the same transaction as the index write, so the
counts commit or roll back with it and stay exact. Rows are ordered before the upsert, so
concurrent writers lock shared count rows in one order.

Revision ID: 0012_search_facet_counts
Revises: 0011_reports
Create Date: 2026-12-02
"""
from alembic import op

revision = "0012_search_facet_counts"
down_revision = "0011_reports"
branch_labels = None
depends_on = None

_GROUP = "site_id, state, capacity, dataset_type, entity_type, labels"


def _delta(sign: str, rows: str) -> str:
    """The pair counts of ``rows`` (a transition table) with ``sign``."""
    return (f"SELECT {_GROUP}, k.id AS key_id, f.id AS facet_id, {sign}1 AS n "
            f"FROM {rows} r, unnest(r.facet_ids) k(id), unnest(r.facet_ids) f(id)")


def _apply(*parts: str) -> str:
    union = " UNION ALL ".join(parts)
    return f"""
        INSERT INTO sanyi_search_facet_count AS c ({_GROUP}, key_id, facet_id, n)
        SELECT {_GROUP}, key_id, facet_id, sum(n) FROM ({union}) x
        GROUP BY {_GROUP}, key_id, facet_id HAVING sum(n) <> 0
        ORDER BY key_id, facet_id, {_GROUP}
        ON CONFLICT ON CONSTRAINT sanyi_search_facet_count_key
        DO UPDATE SET n = c.n + EXCLUDED.n"""


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE sanyi_search_facet_count (
            site_id text, state text, capacity text, dataset_type text, entity_type text,
            labels text[] NOT NULL,
            key_id int NOT NULL,
            facet_id int NOT NULL,
            n bigint NOT NULL,
            CONSTRAINT sanyi_search_facet_count_key UNIQUE NULLS NOT DISTINCT
                (key_id, facet_id, {_GROUP})
        )
    """)
    for event, body in (
            ("insert", _apply(_delta("+", "new_rows"))),
            ("update", _apply(_delta("+", "new_rows"), _delta("-", "old_rows"))),
            ("delete", _apply(_delta("-", "old_rows")))):
        op.execute(f"""
            CREATE OR REPLACE FUNCTION sanyi_search_count_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN {body}; RETURN NULL; END $$
        """)
    # DELETE, not TRUNCATE: the index table may be truncated together with this one
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_search_count_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN DELETE FROM sanyi_search_facet_count; RETURN NULL; END $$
    """)
    op.execute("""CREATE TRIGGER sanyi_search_doc_count_insert AFTER INSERT ON sanyi_search_doc
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_count_insert()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_count_update AFTER UPDATE ON sanyi_search_doc
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_count_update()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_count_delete AFTER DELETE ON sanyi_search_doc
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_count_delete()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_count_truncate AFTER TRUNCATE ON sanyi_search_doc
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_count_truncate()""")
    # the rows already indexed
    op.execute(_apply(_delta("+", "sanyi_search_doc")))


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS sanyi_search_doc_count_{event} ON sanyi_search_doc")
        op.execute(f"DROP FUNCTION IF EXISTS sanyi_search_count_{event}()")
    op.execute("DROP TABLE IF EXISTS sanyi_search_facet_count")
