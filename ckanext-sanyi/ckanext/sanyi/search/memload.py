"""Building and refreshing the in-memory search index (``memindex``) from PostgreSQL.

* **Build**: one REPEATABLE READ transaction reads every index row's visibility and key
  columns, sort timestamps and facet ids (grouped per facet value by the database), and the
  snapshot (its ``xmin`` and the transactions it saw). 2-3 s at 100,000 rows. Postings of ``tsv``/``rank_tsv`` are read
  per lexeme on first use (``TablePostings``).
* **Refresh**, before every search it answers: the statement triggers of migration 0015
  record each index write's rows with the writing transaction's id in
  ``sanyi_search_change``. A refresh reads, in one snapshot, that snapshot's ``xmin`` and the
  rows recorded by transactions at or after the previous refresh's ``xmin``: every
  transaction below an ``xmin`` had ended when it was taken, so nothing is missed, and a
  change seen twice is applied twice harmlessly (the document's current row is read); changes
  of transactions the build's snapshot already saw are skipped. Records older than a day
  are pruned (at builds, and hourly by each process). Changed
  documents go to the overlay; past ``REBUILD_AFTER`` of them they are merged into the built
  arrays (``MemoryIndex.merged``: no table read, every posting kept). After a TRUNCATE, a
  reset database or ``MAX_IDLE`` seconds unused, the index is built again (from
  ``BACKGROUND_FROM`` documents in a thread, SQL answering meanwhile).

Index ids order the slots by their code points (``COLLATE "C"``), as Python compares them;
the SQL sorts by the database collation, so the index is only used where the two agree (a
C collation, or index ids that are lowercase hex digests, as CKAN's are).
"""
from __future__ import annotations

import logging
import os
import re
import threading
import time
import weakref
from typing import Any

import numpy as np
from sqlalchemy import text

from .compiler import _lexeme
from .memindex import (
    _NULL_TIME,
    Built,
    DocData,
    MemoryIndex,
    rank_contribs,
    rank_shares,
)

log = logging.getLogger(__name__)

TABLE = "sanyi_search_doc"
CHANGES = "sanyi_search_change"
REBUILD_AFTER = 250       # changed documents: each search evaluates them one by one
MAX_IDLE = 6 * 3600.0     # seconds: change records are kept a day (memload.prune)
PRUNE_EVERY = 3600.0      # seconds between prunes by a process that does not build
BACKGROUND_FROM = 20000   # documents: larger indexes are built in a thread (2-3 s at 100,000)
_WEIGHT_CODE = {"A": 3, "B": 2, "C": 1, "D": 0}
_HEX = re.compile(r"^[0-9a-f]+$")
_US = "CAST(extract(epoch FROM {c}) * 1000000 AS bigint)"
# the single-valued columns a document is tested on, then labels and the sort timestamps
_DOC_NAMES = ("index_id", "id", "name", "site_id", "state", "capacity", "dataset_type",
              "entity_type")
_DOC_COLUMNS = (", ".join(_DOC_NAMES) + ", labels, " + _US.format(c="metadata_modified")
                + ", " + _US.format(c="metadata_created"))
# the two vectors postings are read from: fixed column names, never a caller's text
_VECTORS = {"tsv": "d.tsv", "rank_tsv": "d.rank_tsv"}
_XMIN = "CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS text) AS bigint)"
_IDENTITY = (f"pg_relation_filenode(CAST('{TABLE}' AS regclass)), "
             f"(SELECT datcollate FROM pg_database WHERE datname = current_database())")


def _encode(positions: Any, weights: Any) -> list[int]:
    return [int(p) | (_WEIGHT_CODE.get(w, 0) << 14)
            for p, w in zip(positions or [], weights or [], strict=False)]


def _time(v: Any) -> int:
    return _NULL_TIME if v is None else int(v)


class TablePostings:
    """``memindex.Postings`` read from the index table through ``session``."""

    def __init__(self) -> None:
        self.session: Any = None

    def _rows(self, column: str, lexeme: str) -> list[Any]:
        return self.session.execute(text(
            f"SELECT d.index_id, u.positions, u.weights FROM {TABLE} d, unnest({_VECTORS[column]}) u "
            f"WHERE d.tsv @@ CAST(:q AS tsquery) AND u.lexeme = :l"),
            {"q": _lexeme(lexeme), "l": lexeme}).all()

    def slots(self, ix: MemoryIndex, lexeme: str) -> np.ndarray:
        ids = self.session.execute(text(
            f"SELECT array_agg(index_id) FROM {TABLE} d WHERE d.tsv @@ CAST(:q AS tsquery)"),
            {"q": _lexeme(lexeme)}).scalar() or []
        got = [ix.slot_of[i] for i in ids if i in ix.slot_of]
        return np.unique(np.array(got, dtype=np.int32))

    def _grouped(self, ix: MemoryIndex, column: str, lexeme: str
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        per: list[tuple[int, list[int]]] = []
        for iid, positions, weights in self._rows(column, lexeme):
            slot = ix.slot_of.get(iid)
            if slot is not None:
                per.append((slot, _encode(positions, weights)))
        per.sort()
        slots = np.array([s for s, _ in per], dtype=np.int32)
        lengths = np.array([len(p) for _, p in per], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        pos = np.array([x for _, p in per for x in p], dtype=np.int64)
        return slots, offsets, pos

    def positions(self, ix: MemoryIndex, lexeme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._grouped(ix, "tsv", lexeme)

    def rank(self, ix: MemoryIndex, lexeme: str) -> tuple[np.ndarray, np.ndarray]:
        slots, offsets, pos = self._grouped(ix, "rank_tsv", lexeme)
        return slots, rank_contribs(offsets, pos)


def build(conn: Any, source: TablePostings) -> tuple[MemoryIndex, int, Any, Any] | None:
    """A new index from ``conn`` (a connection, not the request's session), with the
    snapshot's xmin, which transactions it saw (``_seen_by``) and the table's identity; None
    where the orders would differ."""
    conn = conn.execution_options(isolation_level="REPEATABLE READ")
    with conn.begin():
        conn.execute(text("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'"))
        xmin, snapshot, filenode, collate = conn.execute(text(
            f"SELECT {_XMIN}, CAST(pg_current_snapshot() AS text), {_IDENTITY}")).one()
        rows = conn.execute(text(
            f'SELECT {_DOC_COLUMNS} FROM {TABLE} ORDER BY index_id COLLATE "C"')).all()
        c_like = collate in ("C", "POSIX") or str(collate).startswith("C.")
        if not c_like and not all(_HEX.match(r[0]) for r in rows):
            return None
        facets = conn.execute(text(
            f'WITH ids AS (SELECT facet_ids, (row_number() OVER (ORDER BY index_id COLLATE "C")'
            f' - 1)::int AS slot FROM {TABLE}) SELECT f, string_agg(int4send(slot), \'\' '
            f'ORDER BY slot) FROM ids, unnest(facet_ids) f GROUP BY f')).all()
    with conn.begin():
        prune(conn)
    columns: dict[str, dict[Any, Any]] = {}
    for k, name in enumerate(_DOC_NAMES):
        if name == "index_id":
            continue
        groups: dict[Any, list[int]] = {}
        for slot, r in enumerate(rows):
            groups.setdefault(r[k], []).append(slot)
        columns[name] = {v: (np.array(s, dtype=np.int32) if len(s) > 1 else s[0])
                         for v, s in groups.items()}
    columns["index_id"] = {r[0]: slot for slot, r in enumerate(rows)}
    labels: dict[str, list[int]] = {}
    for slot, r in enumerate(rows):
        for lab in r[8] or ():
            labels.setdefault(lab, []).append(slot)
    built = Built(
        index_ids=[r[0] for r in rows], columns=columns,
        labels={k: np.array(v, dtype=np.int32) for k, v in labels.items()},
        facets={int(f): np.frombuffer(b, ">i4").astype(np.int32) for f, b in facets},
        modified=np.array([_time(r[9]) for r in rows], dtype=np.int64),
        created=np.array([_time(r[10]) for r in rows], dtype=np.int64))
    return MemoryIndex(built, source), xmin, _seen_by(snapshot), filenode


def _seen_by(snapshot: str) -> Any:
    """Whether a transaction id had ended when ``snapshot`` (``xmin:xmax:xip,...``) was
    taken: its writes, if committed, are in what that snapshot read."""
    _, xmax, xip = snapshot.split(":")
    running = {int(x) for x in xip.split(",") if x}
    top = int(xmax)
    return lambda xid: xid < top and xid not in running


_TSV_ENTRY = re.compile(r"'((?:[^'\\]|''|\\.)*)'(?::([0-9A-D,]+))?")
_TSV_UNESCAPE = re.compile(r"''|\\(.)")
_TSV_POS = re.compile(r"(\d+)([A-D]?)")


def parse_tsvector(value: str) -> dict[str, tuple[int, ...]]:
    """A tsvector's text form -> lexeme: positions as ``WordEntryPos`` (weight << 14)."""
    out: dict[str, tuple[int, ...]] = {}
    for m in _TSV_ENTRY.finditer(value or ""):
        lexeme = _TSV_UNESCAPE.sub(lambda x: x.group(1) if x.group(1) else "'", m.group(1))
        out[lexeme] = tuple(int(p) | (_WEIGHT_CODE[w or "D"] << 14)
                            for p, w in _TSV_POS.findall(m.group(2) or ""))
    return out


def read_docs(session: Any, index_ids: list[str]) -> dict[str, DocData | None]:
    """The current version of some documents (None: no longer indexed)."""
    got: dict[str, DocData | None] = {i: None for i in index_ids}
    rows = session.execute(text(
        f"SELECT {_DOC_COLUMNS}, d.facet_ids, CAST(d.tsv AS text), CAST(d.rank_tsv AS text) "
        f"FROM {TABLE} d WHERE d.index_id = ANY(:ids)"), {"ids": index_ids}).all()
    for r in rows:
        got[r[0]] = DocData(
            index_id=r[0], columns={n: r[k] for k, n in enumerate(_DOC_NAMES)},
            labels=frozenset(r[8] or ()), lexemes=parse_tsvector(r[12]),
            rank=rank_shares(parse_tsvector(r[13])),
            facets=frozenset(int(f) for f in r[11] or ()),
            modified=_time(r[9]), created=_time(r[10]))
    return got


class MemoryState:
    """The process's in-memory index and what it has seen of the change log."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # a forked child (the import's workers) must not inherit a lock another thread held
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _new_lock(ref))
        self.pruned = 0.0
        self.building: threading.Thread | None = None
        self.pending: tuple[Any, str] | None = None  # (a background build's result, its url)
        self.epoch = 0  # advanced by reset: a background build started before is dropped
        self.index: MemoryIndex | None = None
        self.source = TablePostings()
        self.key: Any = None        # (database url, table file node)
        self.xmin: int | None = None
        self.applied: set[tuple[int, str]] = set()
        self.used = 0.0
        self.built_saw: Any = lambda xid: False
        self.disabled_for: Any = None  # a database whose collation does not allow it

    def reset(self) -> None:
        """Build anew at the next search (a background build under way is dropped)."""
        with self.lock:
            self.index = None
            self.pending = None
            self.epoch += 1

    def current(self, session: Any) -> MemoryIndex | None:
        """The index, refreshed to ``session``'s snapshot (call with ``lock`` held); None
        while there is none (SQL answers)."""
        url = str(session.get_bind().url)
        now = time.monotonic()
        if self.pending is not None:  # a background build finished
            made, built_for = self.pending
            self.pending = None
            if made is None:
                self.disabled_for = built_for
            elif built_for == url:
                self._install(made, url, now)
        if self.disabled_for == url:
            return None
        if self.index is not None and self.key and self.key[0] == url and \
                now - self.used < MAX_IDLE:
            row = session.execute(text(
                f"SELECT {_XMIN}, pg_relation_filenode(CAST('{TABLE}' AS regclass)), "
                f"(SELECT json_agg(json_build_array(xid, index_id)) FROM {CHANGES} "
                f" WHERE xid >= :x)"), {"x": self.xmin}).one()
            xmin, filenode, changes = row
            if filenode == self.key[1]:
                fresh = [(x, i) for x, i in (changes or [])
                         if (x, i) not in self.applied and not self.built_saw(x)]
                if not any(i is None for _, i in fresh):
                    ids = sorted({i for _, i in fresh})
                    if ids:
                        self.index.apply(read_docs(session, ids))
                    self.applied = {(x, i) for x, i in self.applied | set(fresh) if x >= xmin}
                    self.xmin = xmin
                    self.used = now
                    self.source.session = session
                    if now - self.pruned > PRUNE_EVERY:
                        self.pruned = now
                        with session.get_bind().connect() as conn, conn.begin():
                            prune(conn)
                    if self.index.stale > REBUILD_AFTER:
                        t0 = time.perf_counter()
                        stale = self.index.stale
                        self.index = self.index.merged()
                        log.info("sanyi search: %d changed documents merged into the in-memory "
                                 "index in %.2f s", stale, time.perf_counter() - t0)
                    return self.index
        size = session.execute(text(
            f"SELECT CAST(reltuples AS bigint) FROM pg_class "
            f"WHERE oid = CAST('{TABLE}' AS regclass)")).scalar() or 0
        if size >= BACKGROUND_FROM:
            if self.building is None or not self.building.is_alive():
                self.building = threading.Thread(
                    target=self._build_in_background, name="sanyi-search-memory",
                    args=(session.get_bind(), url, self.epoch), daemon=True)
                self.building.start()
            self.index = None
            return None
        self.index = None
        with session.get_bind().connect() as conn:
            made = self._timed_build(conn)
        if made is None:
            self.disabled_for = url
            return None
        self._install(made, url, now)
        self.source.session = session
        return self.index

    def _timed_build(self, conn: Any) -> tuple[MemoryIndex, int, Any, Any] | None:
        t0 = time.perf_counter()
        made = build(conn, self.source)
        if made is None:
            log.info("sanyi search: in-memory index off (the database's collation orders "
                     "index ids otherwise)")
        else:
            log.info("sanyi search: in-memory index of %d documents built in %.2f s",
                     made[0].n, time.perf_counter() - t0)
        return made

    def _build_in_background(self, engine: Any, url: str, epoch: int) -> None:
        try:
            with engine.connect() as conn:
                made = self._timed_build(conn)
        except Exception:  # noqa: BLE001 - the searches go on with SQL or the old index
            log.exception("sanyi search: building the in-memory index failed")
            return
        with self.lock:
            if epoch == self.epoch:
                self.pending = (made, url)

    def _install(self, made: tuple[MemoryIndex, int, Any, Any], url: str, now: float) -> None:
        self.index, self.xmin, self.built_saw, filenode = made
        self.key = (url, filenode)
        self.applied = set()
        self.used = now
        self.pruned = now


def _new_lock(ref: Any) -> None:
    state = ref()
    if state is not None:
        state.lock = threading.RLock()


def prune(session: Any) -> None:
    """Drop change records older than a day (a process idle longer builds anew)."""
    session.execute(text(f"DELETE FROM {CHANGES} WHERE at < now() - interval '1 day'"))
