"""Fill the data domain with a synthetic 荆门 population (``ckan sanyi domain generate``).

:func:`generate` empties every source table and loads, in one transaction, the market drugs,
the fixed test persons (:mod:`.fixed`) and ``persons - 3`` random persons with their history
(:mod:`.synth`). Rows go in with ``COPY`` chunk by chunk (a writer thread sends one chunk while
the next is generated, so memory stays bounded whatever the size); for a large population the
indexes and primary keys are dropped before and rebuilt after, much faster than maintaining
them row by row.
Each table's load is recorded in ``loads`` with the origin
``generate:persons=N,seed=S,today=YYYY-MM-DD`` and the SHA-256 of its rows as loaded; then the
derived tables are rebuilt (:func:`.derive.refresh`).

Deterministic: the same persons, seed and today give the same rows (:func:`stream` is pure).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from . import derive, fixed, synth
from .rows import Rows
from .sources import SCHEMA, SOURCES
from .tables import loads, table

__all__ = ["generate", "stream", "origin", "current_origin", "last_origins", "is_empty", "Report",
           "CHUNK"]

CHUNK = 5000  # random persons per chunk (part of the seeding: changing it changes the rows)
REBUILD_KEYS_FROM = 100_000  # persons: from there, drop the keys and indexes and rebuild them

Progress = Callable[[int, int], None]


@dataclass
class Report:
    persons: int
    seed: int
    today: dt.date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    sha256: dict[str, str] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds: rows, keys, derived

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    @property
    def origin(self) -> str:
        return origin(self.persons, self.seed, self.today)


def origin(persons: int, seed: int, today: dt.date) -> str:
    """How a generation is recorded in ``loads.origin``."""
    return f"generate:persons={persons},seed={seed},today={today.isoformat()}"


def stream(persons: int, seed: int, today: dt.date) -> Iterator[tuple[int, Rows]]:
    """The domain's rows, chunk by chunk: ``(persons so far, rows of the chunk)``. The first
    chunk holds the market drugs and the fixed persons. Pure."""
    if persons < len(fixed.FIXED_IDS):
        raise ValueError(f"persons must be at least {len(fixed.FIXED_IDS)} (the fixed persons)")
    rows = Rows()
    rows.market_drugs()
    fixed.write(rows, today, seed)
    done = len(fixed.FIXED_IDS)
    yield done, rows
    used = {int(n[:17]) for n in fixed.RESERVED_IDS}
    number = 0
    while done < persons:
        count = min(CHUNK, persons - done)
        rows = Rows()
        synth.chunk(rows, seed=seed, number=number, first_index=done + 1, count=count,
                    today=today, used=used)
        done += count
        number += 1
        yield done, rows


def _drop_keys(conn: sa.engine.Connection) -> None:
    for s in SOURCES:
        for ix in table(s.table).indexes:
            conn.execute(sa.text(f'DROP INDEX IF EXISTS {SCHEMA}."{ix.name}"'))
        conn.execute(sa.text(f'ALTER TABLE {SCHEMA}."{s.table}" '
                             f'DROP CONSTRAINT IF EXISTS "{s.table}_pkey"'))


def _build_keys(conn: sa.engine.Connection, rebuild: bool) -> None:
    """Rebuild what :func:`_drop_keys` dropped (when ``rebuild``) and refresh the planner's
    statistics."""
    conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
    for s in SOURCES:
        if rebuild:
            conn.execute(sa.text(f'ALTER TABLE {SCHEMA}."{s.table}" '
                                 f'ADD CONSTRAINT "{s.table}_pkey" PRIMARY KEY ("{s.key}")'))
            for ix in table(s.table).indexes:
                conn.execute(sa.schema.CreateIndex(ix))
        conn.execute(sa.text(f'ANALYZE {SCHEMA}."{s.table}"'))


class _Writer(threading.Thread):
    """COPYs each chunk it is handed on the connection, while the caller makes the next."""

    def __init__(self, dbapi_conn: object) -> None:
        super().__init__(name="sanyi-domain-copy", daemon=True)
        self.dbapi_conn = dbapi_conn
        self.chunks: queue.Queue[Rows | None] = queue.Queue(maxsize=2)
        self.error: BaseException | None = None
        self.digests = {s.table: hashlib.sha256() for s in SOURCES}
        self.statements = {s.table: f'COPY {SCHEMA}."{s.table}" ({", ".join(s.columns)}) '
                                    "FROM STDIN WITH (FREEZE)" for s in SOURCES}

    def run(self) -> None:
        cur = self.dbapi_conn.cursor()  # type: ignore[attr-defined]
        while True:
            rows = self.chunks.get()
            if rows is None:
                return
            if self.error is not None:
                continue
            try:
                for s in SOURCES:
                    text = rows.text(s.table)
                    if text:
                        self.digests[s.table].update(text.encode())
                        cur.copy_expert(self.statements[s.table], io.StringIO(text),
                                        size=1 << 20)
            except BaseException as exc:  # handed to the caller's thread
                self.error = exc

    def put(self, rows: Rows) -> None:
        if self.error is not None:
            raise self.error
        self.chunks.put(rows)

    def finish(self) -> None:
        self.chunks.put(None)
        self.join()
        if self.error is not None:
            raise self.error


def generate(conn: sa.engine.Connection, *, persons: int, seed: int, today: dt.date,
             progress: Progress | None = None, loaded_by: str = "generate") -> Report:
    """Replace the domain's source rows by a generated population (in ``conn``'s
    transaction; the caller commits). ``progress(done, persons)`` is called per chunk."""
    started = time.perf_counter()
    report = Report(persons, seed, today)
    names = ", ".join(f'{SCHEMA}."{s.table}"' for s in SOURCES)
    conn.execute(sa.text(f"TRUNCATE {names}"))
    rebuild = persons >= REBUILD_KEYS_FROM
    if rebuild:
        _drop_keys(conn)
    writer = _Writer(conn.connection.dbapi_connection)
    writer.start()
    counts = {s.table: 0 for s in SOURCES}
    try:
        for done, rows in stream(persons, seed, today):
            for name, n in rows.count().items():
                counts[name] += n
            writer.put(rows)
            if progress is not None:
                progress(done, persons)
    finally:
        writer.finish()
    report.phases["rows"] = time.perf_counter() - started
    _build_keys(conn, rebuild)
    report.phases["keys"] = time.perf_counter() - started - report.phases["rows"]
    report.rows = counts
    report.sha256 = {t: d.hexdigest() for t, d in writer.digests.items()}
    conn.execute(loads.delete())
    conn.execute(loads.insert(), [
        {"source_table": s.table, "resource": f"{s.unit_title}/{s.resource_title}",
         "origin": report.origin, "sha256": report.sha256[s.table], "rows": counts[s.table],
         "loaded_by": loaded_by} for s in SOURCES])
    derived = time.perf_counter()
    derive.refresh(conn, truncate=True)
    report.phases["derived"] = time.perf_counter() - derived
    report.seconds = time.perf_counter() - started
    return report


def last_origins(conn: sa.engine.Connection) -> dict[str, str]:
    """``{table: origin}`` of the last load recorded for each source table (generated or
    loaded from an extract)."""
    got = conn.execute(sa.select(loads.c.source_table, loads.c.origin).order_by(loads.c.id))
    return {name: where for name, where in got}


def is_empty(conn: sa.engine.Connection) -> bool:
    """No row in any source table."""
    return not any(conn.execute(sa.select(sa.literal(1)).select_from(table(s.table)).limit(1))
                   .first() for s in SOURCES)


def current_origin(conn: sa.engine.Connection) -> str | None:
    """The origin of the generation the domain holds now, or None (empty, loaded from
    extracts, or partly replaced since)."""
    last = last_origins(conn)
    values = {last.get(s.table) for s in SOURCES}
    if len(values) != 1:
        return None
    (value,) = values
    if value is None or not value.startswith("generate:"):
        return None
    if conn.execute(sa.select(sa.func.count()).select_from(table("persons"))).scalar() == 0:
        return None
    return value
