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

import sqlalchemy as sa

from .sources import SCHEMA
from .tables import metadata

__all__ = ["engine", "connect", "begin", "ensure_schema", "configured_url", "dispose"]

_lock = threading.Lock()
_engines: dict[str, sa.engine.Engine] = {}


def configured_url() -> str:
    import ckan.plugins.toolkit as tk
    url = tk.config.get("ckanext.sanyi.domain.url") or ""
    if not url:
        raise RuntimeError("ckanext.sanyi.domain.url is not set: the data domain is not configured")
    return str(url)


def engine(url: str | None = None) -> sa.engine.Engine:
    """One pooled engine per URL (the configured one by default)."""
    url = url or configured_url()
    with _lock:
        eng = _engines.get(url)
        if eng is None:
            eng = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                                   connect_args={"application_name": "sanyi-domain",
                                                 "options": f"-c search_path={SCHEMA}"})
            _engines[url] = eng
        return eng


def dispose() -> None:
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


@contextlib.contextmanager
def connect(url: str | None = None) -> Iterator[sa.engine.Connection]:
    """A read connection (its transaction rolled back at the end)."""
    with engine(url).connect() as conn:
        try:
            yield conn
        finally:
            conn.rollback()


@contextlib.contextmanager
def begin(url: str | None = None) -> Iterator[sa.engine.Connection]:
    """A connection in one transaction, committed on success and rolled back on error."""
    with engine(url).begin() as conn:
        yield conn


def ensure_schema(url: str | None = None) -> None:
    """Create the schema and every table and index that is missing (idempotent)."""
    with begin(url) as conn:
        conn.execute(sa.schema.CreateSchema(SCHEMA, if_not_exists=True))
        metadata.create_all(conn, checkfirst=True)
