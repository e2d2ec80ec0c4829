"""The hash chains in the database: where each log's chain starts and ends, and the walk that
verifies it (``ckan sanyi audit verify``).

The chain itself is assigned by the database (migration ``0010_hash_chains``): a BEFORE
INSERT trigger on ``sanyi_audit`` and on ``sanyi_ledger`` locks the log's row of
``sanyi_chain_head`` (until the inserting transaction ends), numbers the row, links it to the
head and hashes it; whoever inserts (CKAN's session, the gateway's own connection, psql) gets
the same chain. The rules are :mod:`ckanext.sanyi.domain.chain`; :func:`verify` recomputes
every hash in Python from the rows as read, streamed through a server-side cursor.

Where a chain legitimately starts: after the last archived range (a signed ``archive``
checkpoint, :mod:`.checkpoints`), else at seq 1 after 64 zeros.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import sqlalchemy as sa
from psycopg2 import sql

from ..domain import chain as rules
from .checkpoint_model import checkpoint_table as ct
from .checkpoint_model import head_table as ht

__all__ = ["TABLES", "head", "start_of", "verify", "Verification", "stored_expectations",
           "read_rows"]

TABLES = {"audit": "sanyi_audit", "ledger": "sanyi_ledger"}
# What the walk reads of each log: the canonical fields, jsonb ones as text (their exact
# numbers), and the stored links. Fixed names, never request text.
_JSONB = {"before", "after", "fields_read"}
_COLUMNS = {log: [name for name, _ in fields] + ["prev_hash", "row_hash"]
            for log, fields in rules.FIELDS.items()}
FETCH = 5000


def _select(log: str, where: str) -> sql.Composed:
    """The walk's statement: the log's columns and table as identifiers, then ``where`` (one
    of :func:`read_rows`'s fixed clauses, its values bound)."""
    cols = sql.SQL(", ").join(
        sql.SQL("{}::text AS {}").format(sql.Identifier(c), sql.Identifier(c)) if c in _JSONB
        else sql.Identifier(c) for c in _COLUMNS[log])
    return (sql.SQL("SELECT {} FROM {} ").format(cols, sql.Identifier(TABLES[log]))
            + sql.SQL(where))


def head(log: str, session: Any = None) -> tuple[int, str]:
    """The log's length and head hash as ``sanyi_chain_head`` keeps them."""
    session = session if session is not None else model.Session
    row = session.execute(sa.select(ht.c.length, ht.c.head_hash).where(ht.c.log == log)).first()
    return (int(row.length), str(row.head_hash)) if row else (0, rules.GENESIS)


def start_of(log: str, session: Any = None) -> tuple[int, str, rules.Break | None]:
    """Where the log's live chain starts: (length, hash) at the end of the last archived
    range, or (0, GENESIS); with a break when the archive checkpoints do not hold (a bad
    signature, ranges not following each other)."""
    session = session if session is not None else model.Session
    rows = session.execute(sa.select(ct).where(ct.c.log == log, ct.c.kind == "archive")
                           .order_by(ct.c.id)).mappings().all()
    length, hash_ = 0, rules.GENESIS
    for row in rows:
        problem = _bad_checkpoint(row)
        if problem or int(row["archived_from"]) != length + 1:
            return length, hash_, rules.Break(
                "start", length + 1, None,
                f"归档检查点 {row['id']} 无效：{problem or '归档范围不连续'}",
                f"archive checkpoint {row['id']} does not hold: {problem or 'its range does not follow the one before'}")
        length, hash_ = int(row["archived_to"]), str(row["head_hash"])
    return length, hash_, None


def _bad_checkpoint(row: Mapping[str, Any]) -> str:
    """Why a stored checkpoint does not hold ('' when it does): its signature under its key,
    and its columns against the statement it signed."""
    statement = str(row["statement"]).encode("utf-8")
    if not rules.verify_signature(str(row["public_key"]), statement, str(row["signature"])):
        return "signature"
    try:
        claim = rules.parse_statement(statement)
    except rules.ChainError as err:
        return str(err)
    if (claim["log"], claim["length"], claim["head"], claim.get("kind")) != \
            (row["log"], row["length"], row["head_hash"], row["kind"]) \
            or rules.sha256_hex(statement) != row["statement_hash"]:
        return "columns differ from the signed statement"
    return ""


def stored_expectations(log: str, session: Any = None) -> tuple[dict[int, str], rules.Break | None]:
    """length → head of every stored checkpoint of the log (checked signatures)."""
    session = session if session is not None else model.Session
    expect: dict[int, str] = {}
    for row in session.execute(sa.select(ct).where(ct.c.log == log).order_by(ct.c.id)).mappings():
        problem = _bad_checkpoint(row)
        if problem:
            return expect, rules.Break("checkpoint", int(row["length"]), None,
                                       f"已存检查点 {row['id']} 无效：{problem}",
                                       f"stored checkpoint {row['id']} does not hold: {problem}")
        expect[int(row["length"])] = str(row["head_hash"])
    return expect, None


@dataclass
class Verification:
    """The result of :func:`verify` for one log."""
    log: str
    start: int
    length: int
    head: str
    rows: int
    checkpoints: int
    seconds: float
    broken: rules.Break | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.broken is None

    def as_dict(self) -> dict[str, Any]:
        return {"log": self.log, "ok": self.ok, "start": self.start, "length": self.length,
                "head": self.head, "rows": self.rows, "checkpoints": self.checkpoints,
                "ms": int(self.seconds * 1000),
                "broken": None if self.broken is None else {
                    "kind": self.broken.kind, "seq": self.broken.seq, "id": self.broken.row_id,
                    "zh": self.broken.zh, "en": self.broken.en}}


def read_rows(log: str, *, after: int, until: int | None = None,
              engine: Any = None) -> Any:
    """The log's rows with ``seq`` > ``after`` (and ≤ ``until``) in ``seq`` order, then the
    rows without a ``seq``, as dicts, through a server-side cursor (a connection of its own,
    read only, rolled back at the end)."""
    engine = engine if engine is not None else model.meta.engine
    raw = engine.raw_connection()
    try:
        raw.set_session(readonly=True)
        for where, params in (
                ("WHERE seq > %(a)s" + (" AND seq <= %(u)s" if until is not None else "")
                 + " ORDER BY seq", {"a": after, "u": until}),
                ("WHERE seq IS NULL ORDER BY id", {})):
            cur = raw.cursor(name=f"sanyi_chain_{log}")
            cur.itersize = FETCH
            cur.execute(_select(log, where), params)
            names = _COLUMNS[log]
            for record in cur:
                yield dict(zip(names, record, strict=True))
            cur.close()
            if until is not None:
                break
    finally:
        raw.rollback()
        raw.set_session(readonly=False)
        raw.close()


def verify(log: str, *, expect: Mapping[int, str] | None = None, stored: bool = True,
           progress: Callable[[int], None] | None = None, session: Any = None,
           engine: Any = None, start: tuple[int, str] | None = None,
           until: int | None = None) -> Verification:
    """Walk the log's chain from where it starts (:func:`start_of`, or ``start``) to its head
    (or ``until``) and report the first break.

    ``expect``: checkpoints (length → head) the chain must pass, e.g. an outsider's saved
    copy; ``stored``: also every checkpoint stored in the database. ``progress(n)`` is
    called every :data:`FETCH` rows.
    """
    began = time.monotonic()
    session = session if session is not None else model.Session
    if start is None:
        s_len, s_hash, s_break = start_of(log, session)
    else:
        (s_len, s_hash), s_break = start, None
    wanted: dict[int, str] = {}
    notes: list[str] = []
    c_break = None
    if stored:
        wanted, c_break = stored_expectations(log, session)
    for length, value in (expect or {}).items():
        if wanted.get(length, value) != value:
            c_break = c_break or rules.Break(
                "checkpoint", length, None, f"第 {length} 行的两个检查点互相矛盾",
                f"two checkpoints at length {length} disagree")
        wanted[length] = value
    earlier = sorted(n for n in wanted if n < s_len)
    if earlier:
        notes.append(f"{len(earlier)} checkpoint(s) before the archived range (seq <= {s_len}) "
                     "are not checked against rows")
        for n in earlier:
            wanted.pop(n)
    if until is not None:
        wanted = {n: h for n, h in wanted.items() if n <= until}
    h_len, h_hash = head(log, session)
    session.commit()  # nothing held while the walk runs on its own connection
    walk = rules.ChainWalk(log, start_length=s_len, start_hash=s_hash, expect=wanted)
    walk.broken = s_break or c_break or walk.broken
    if walk.broken is None:
        rows = read_rows(log, after=s_len, until=until, engine=engine)
        try:
            for n, row in enumerate(rows, 1):
                if walk.feed(row) is not None:
                    break
                if progress is not None and n % FETCH == 0:
                    progress(FETCH)
        finally:
            rows.close()
        if until is None:
            walk.finish(h_len, h_hash)
        else:
            walk.finish()
    return Verification(log=log, start=s_len, length=walk.length, head=walk.head,
                        rows=walk.rows, checkpoints=len(wanted),
                        seconds=time.monotonic() - began, broken=walk.broken, notes=notes)
