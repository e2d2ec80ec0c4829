"""Human references of applications and orders (``SQ-2026-000123``, ``DD-2026-000045``).

The database assigns them on insert (migration ``0014_human_references``): a counter per
prefix and Beijing year in ``sanyi_reference_counter``. Pages show the reference; ids stay in
URLs and the API. :func:`of` reads the references of rows by id, for pages listing ids.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from .model import metadata

__all__ = ["counter_table", "PREFIXES", "of"]

PREFIXES = {"sanyi_application": "SQ", "sanyi_order": "DD"}

counter_table = sa.Table(
    "sanyi_reference_counter", metadata,
    sa.Column("prefix", sa.UnicodeText, primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("last", sa.Integer, nullable=False),
)


def of(table: str, ids: Iterable[str]) -> dict[str, str]:
    """``{id: human_ref}`` of the rows of ``table`` (one of :data:`PREFIXES`) with these ids."""
    import ckan.model as model
    if table not in PREFIXES:
        raise ValueError(table)
    wanted = sorted({str(i) for i in ids if i})
    if not wanted:
        return {}
    t = metadata.tables[table]
    rows = model.Session.execute(sa.select(t.c.id, t.c.human_ref).where(t.c.id.in_(wanted)))
    return {r.id: r.human_ref for r in rows}
