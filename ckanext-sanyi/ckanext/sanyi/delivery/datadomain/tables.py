"""SQLAlchemy definitions of the data domain's tables, built from :mod:`.sources`.

A :class:`~sqlalchemy.MetaData` of its own (schema ``sanyi_domain``), never CKAN's nor the
extension's: these tables live in another database. Besides the source tables, ``loads``
records each extract loaded (resource, file digest, rows), which makes re-loading the same file
a no-op.
"""
from __future__ import annotations

import sqlalchemy as sa

from .sources import SCHEMA, SOURCES, Field, Source

__all__ = ["metadata", "table", "loads", "SQL_TYPES"]

metadata = sa.MetaData(schema=SCHEMA)
TIMESTAMP = sa.DateTime(timezone=True)

SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    "string": sa.UnicodeText(), "code": sa.Unicode(64), "integer": sa.Integer(),
    "decimal": sa.Numeric(14, 2), "date": sa.Date(), "datetime": TIMESTAMP,
}


def _column(source: Source, f: Field) -> sa.Column:
    return sa.Column(f.column, SQL_TYPES[f.type], primary_key=f.column == source.key,
                     nullable=not (f.required or f.column == source.key), comment=f.zh)


def _define(source: Source) -> sa.Table:
    t = sa.Table(source.table, metadata, *(_column(source, f) for f in source.fields),
                 comment=f"{source.zh}（{source.unit_title}·{source.resource_title}）")
    for cols in source.indexes:
        sa.Index(f"ix_{source.table}_{'_'.join(cols)}", *(t.c[c] for c in cols))
    return t


TABLES: dict[str, sa.Table] = {s.table: _define(s) for s in SOURCES}

loads = sa.Table(
    "loads", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source_table", sa.Unicode(64), nullable=False),
    sa.Column("resource", sa.Unicode(100), nullable=False),
    sa.Column("origin", sa.UnicodeText, nullable=False),   # file name or foreign table
    sa.Column("sha256", sa.Unicode(64), nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("loaded_by", sa.UnicodeText, nullable=False),
    sa.Column("loaded_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
)


def table(name: str) -> sa.Table:
    return TABLES[name]
