"""The connection to the data domain.

The domain is its own database (``ckanext.sanyi.domain.url``), owned by its own role; CKAN's
role may not connect to it, so no CKAN action, page or search can read its rows whatever goes
wrong above. Only this package's code holds the engine. The schema is created by
:func:`ensure_schema` (``ckan sanyi domain init``, run by the set-up script).
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from . import derive
from .sources import SCHEMA
from .tables import metadata

__all__ = ["engine", "connect", "begin", "ensure_schema", "sync_indexes", "configured_url",
           "dispose"]

_lock = threading.Lock()
_engines: dict[tuple[str, bool], sa.engine.Engine] = {}


def configured_url() -> str:
    import ckan.plugins.toolkit as tk
    url = tk.config.get("ckanext.sanyi.domain.url", "") or ""
    if not url:
        raise RuntimeError("ckanext.sanyi.domain.url is not set: the data domain is not configured")
    return str(url)


def engine(url: str | None = None, *, autocommit: bool = False) -> sa.engine.Engine:
    """One pooled engine per URL (the configured one by default). With ``autocommit``, another
    pool, for reads of one statement (the operations'): its connections never open a
    transaction (no BEGIN and ROLLBACK round trips) and are not pinged when checked out (the
    caller retries a statement on a connection found dropped)."""
    url = url or configured_url()
    with _lock:
        eng = _engines.get((url, autocommit))
        if eng is None:
            options = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
            eng = sa.create_engine(url, pool_pre_ping=not autocommit, pool_size=10,
                                   max_overflow=20, **options,
                                   connect_args={"application_name": "sanyi-domain",
                                                 "options": f"-c search_path={SCHEMA}"})
            _engines[(url, autocommit)] = eng
        return eng


def dispose() -> None:
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


@contextlib.contextmanager
def connect(url: str | None = None, *, autocommit: bool = False
            ) -> Iterator[sa.engine.Connection]:
    """A read connection (its transaction rolled back at the end; ``autocommit``: of the pool
    of single-statement reads, see :func:`engine`)."""
    with engine(url, autocommit=autocommit).connect() as conn:
        try:
            yield conn
        finally:
            conn.rollback()


@contextlib.contextmanager
def begin(url: str | None = None) -> Iterator[sa.engine.Connection]:
    """A connection in one transaction, committed on success and rolled back on error."""
    with engine(url).begin() as conn:
        yield conn


def ensure_schema(url: str | None = None) -> dict[str, Any]:
    """Create the schema and every table and index that is missing, drop the domain tables'
    indexes no longer declared (:func:`sync_indexes`) and refresh the derived tables that do
    not follow the last loads (:func:`.derive.ensure`). Idempotent; says what it did."""
    with begin(url) as conn:
        conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        metadata.create_all(conn, checkfirst=True)
        built, dropped = sync_indexes(conn)
        derived = derive.ensure(conn)
    return {"indexes_built": built, "indexes_dropped": dropped, "derived": derived}


def sync_indexes(conn: sa.engine.Connection) -> tuple[list[str], list[str]]:
    """Build the declared indexes a table lacks and drop its ``ix_`` indexes no longer
    declared (a definition that changed has a new name): ``(built, dropped)``."""
    declared = {str(ix.name): ix for t in metadata.tables.values() for ix in t.indexes}
    present = {name: table for name, table in conn.execute(sa.text(
        "SELECT indexname, tablename FROM pg_indexes WHERE schemaname = :s"), {"s": SCHEMA})}
    ours = {t.name for t in metadata.tables.values()}
    dropped = sorted(n for n, t in present.items()
                     if t in ours and n.startswith("ix_") and n not in declared)
    for name in dropped:
        conn.execute(sa.text(f'DROP INDEX IF EXISTS {SCHEMA}."{name}"'))
    built = sorted(n for n in declared if n not in present)
    if built:
        conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    for name in built:
        conn.execute(sa.schema.CreateIndex(declared[name], if_not_exists=True))
    return built, dropped
