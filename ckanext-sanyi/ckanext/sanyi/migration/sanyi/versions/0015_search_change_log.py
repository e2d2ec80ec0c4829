"""Which index rows each transaction wrote: ``sanyi_search_change``.

One row per index row inserted, updated or deleted by a statement, with the writing
(top-level) transaction's id as a bigint; a TRUNCATE records a row without an index id. The
in-memory search index (``search/memload.py``) reads the rows of transactions at or after
the oldest transaction running when it last looked, and so learns of every change once
committed. Rows older than a day are pruned by the index builds.

Revision ID: 0015_search_change_log
Revises: 0014_human_references
Create Date: 2026-12-04
"""
from alembic import op

revision = "0015_search_change_log"
down_revision = "0014_human_references"
branch_labels = None
depends_on = None

_XID = "CAST(CAST(pg_current_xact_id() AS text) AS bigint)"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE sanyi_search_change (
            xid bigint NOT NULL DEFAULT {_XID},
            index_id text,
            at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute("CREATE INDEX sanyi_search_change_xid ON sanyi_search_change (xid)")
    op.execute("CREATE INDEX sanyi_search_change_at ON sanyi_search_change (at)")
    for event, rows in (("insert", "SELECT index_id FROM new_rows"),
                        ("update", "SELECT index_id FROM new_rows UNION SELECT index_id FROM old_rows"),
                        ("delete", "SELECT index_id FROM old_rows")):
        op.execute(f"""
            CREATE OR REPLACE FUNCTION sanyi_search_change_{event}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO sanyi_search_change (index_id) SELECT DISTINCT index_id FROM ({rows}) r;
            RETURN NULL; END $$
        """)
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_search_change_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO sanyi_search_change (index_id) VALUES (NULL); RETURN NULL; END $$
    """)
    op.execute("""CREATE TRIGGER sanyi_search_doc_change_insert AFTER INSERT ON sanyi_search_doc
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_change_insert()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_change_update AFTER UPDATE ON sanyi_search_doc
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_change_update()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_change_delete AFTER DELETE ON sanyi_search_doc
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_change_delete()""")
    op.execute("""CREATE TRIGGER sanyi_search_doc_change_truncate AFTER TRUNCATE ON sanyi_search_doc
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_change_truncate()""")


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS sanyi_search_doc_change_{event} ON sanyi_search_doc")
        op.execute(f"DROP FUNCTION IF EXISTS sanyi_search_change_{event}()")
    op.execute("DROP TABLE IF EXISTS sanyi_search_change")
