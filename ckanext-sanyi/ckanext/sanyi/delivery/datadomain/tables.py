"""SQLAlchemy definitions of the data domain's tables, built from :mod:`.sources`.

A :class:`~sqlalchemy.MetaData` of its own (schema ``sanyi_domain``), never CKAN's nor the
extension's: these tables live in another database. Besides the source tables, ``loads``
records each extract loaded (resource, file digest, rows), which makes re-loading the same file
a no-op; :mod:`.derive` adds the tables derived from the sources.

An index of :mod:`.sources` is named after its table and columns (``ix_persons_id_number``);
a covering or partial one also carries a digest of its ``include`` and ``where``, so that a
changed definition is a new name (:func:`.store.ensure_schema` builds what is missing and
drops what is no longer declared).
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa

from .sources import SCHEMA, SOURCES, Field, Index, Source

__all__ = ["metadata", "table", "loads", "SQL_TYPES", "index_name"]

metadata = sa.MetaData(schema=SCHEMA)
TIMESTAMP = sa.DateTime(timezone=True)

SQL_TYPES: dict[str, sa.types.TypeEngine] = {
    "string": sa.UnicodeText(), "code": sa.Unicode(64), "integer": sa.Integer(),
    "decimal": sa.Numeric(14, 2), "date": sa.Date(), "datetime": TIMESTAMP,
}


def _column(source: Source, f: Field) -> sa.Column:
    return sa.Column(f.column, SQL_TYPES[f.type], primary_key=f.column == source.key,
                     nullable=not (f.required or f.column == source.key), comment=f.zh)


def index_name(table_name: str, ix: Index) -> str:
    name = f"ix_{table_name}_{'_'.join(ix.columns)}"
    if ix.include or ix.where:
        name += "_" + hashlib.sha1(repr((ix.include, ix.where)).encode()).hexdigest()[:6]
    if len(name) > 63:  # PostgreSQL's identifier limit
        raise ValueError(f"index name too long: {name}")
    return name


def _define(source: Source) -> sa.Table:
    t = sa.Table(source.table, metadata, *(_column(source, f) for f in source.fields),
                 comment=f"{source.zh}（{source.unit_title}·{source.resource_title}）")
    for ix in source.index_specs():
        where = sa.and_(*(t.c[c] == sa.literal(v, t.c[c].type) for c, v in ix.where)) \
            if ix.where else None
        sa.Index(index_name(source.table, ix), *(t.c[c] for c in ix.columns),
                 postgresql_include=list(ix.include), postgresql_where=where)
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
