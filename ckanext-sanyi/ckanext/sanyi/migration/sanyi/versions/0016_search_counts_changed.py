"""Facet counts: an UPDATE of index rows counts only the rows whose counted values changed.

``sanyi_search_count_update`` (``0012_search_facet_counts``) added the pair counts of every
new row and took away those of every old one. A row whose visibility group and facet ids
are the same before and after (a changed description, a re-indexed dataset) adds and takes
away the same pairs: it is now left out on both sides, so a re-import that changes texts
does no count work for it. Rows are matched by ``index_id`` (the primary key: each row is
left out at most once on each side), which keeps the sums exact whatever the statement.

Revision ID: 0016_search_counts_changed
Revises: 0015_search_change_log
Create Date: 2026-12-04
"""
from alembic import op

revision = "0016_search_counts_changed"
down_revision = "0015_search_change_log"
branch_labels = None
depends_on = None

_GROUP = ("site_id", "state", "capacity", "dataset_type", "entity_type", "labels")
_COLS = ", ".join(_GROUP)


def _changed(rows: str, other: str) -> str:
    """The rows of transition table ``rows`` without a row of ``other`` that has the same
    index id, group and facet ids."""
    mine = ", ".join(f"a.{c}" for c in _GROUP)
    theirs = ", ".join(f"b.{c}" for c in _GROUP)
    return (f"(SELECT {mine}, a.facet_ids FROM {rows} a WHERE NOT EXISTS ("
            f"SELECT 1 FROM {other} b WHERE b.index_id = a.index_id "
            f"AND b.facet_ids = a.facet_ids AND ({mine}) IS NOT DISTINCT FROM ({theirs})))")


def _update_body(new_rows: str, old_rows: str) -> str:
    def delta(sign: str, rows: str) -> str:
        return (f"SELECT {_COLS}, k.id AS key_id, f.id AS facet_id, {sign}1 AS n "
                f"FROM {rows} r, unnest(r.facet_ids) k(id), unnest(r.facet_ids) f(id)")
    return f"""
        INSERT INTO sanyi_search_facet_count AS c ({_COLS}, key_id, facet_id, n)
        SELECT {_COLS}, key_id, facet_id, sum(n) FROM ({delta("+", new_rows)} UNION ALL
            {delta("-", old_rows)}) x
        GROUP BY {_COLS}, key_id, facet_id HAVING sum(n) <> 0
        ORDER BY key_id, facet_id, {_COLS}
        ON CONFLICT ON CONSTRAINT sanyi_search_facet_count_key
        DO UPDATE SET n = c.n + EXCLUDED.n"""


def _replace(body: str) -> None:
    op.execute(f"""
        CREATE OR REPLACE FUNCTION sanyi_search_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN {body}; RETURN NULL; END $$
    """)


def upgrade() -> None:
    _replace(_update_body(_changed("new_rows", "old_rows"), _changed("old_rows", "new_rows")))


def downgrade() -> None:
    _replace(_update_body("new_rows", "old_rows"))
