"""A call's transaction in CKAN's database, in two round trips when the call is granted.

:class:`CallTx` runs on a pool of its own (:func:`engine`: CKAN's database, ``AUTOCOMMIT`` so
that no statement opens a transaction by itself, no ping at checkout) and writes the
transaction's ``BEGIN`` and ``COMMIT`` into its statements:

1. :meth:`CallTx.open`: ``BEGIN`` and one query reading the token, its client and its
   entitlement by the token's hash, taking the entitlement's shared advisory lock of
   :mod:`.quota` in the same statement (the lock the quota reservation needs; taken only
   when the token is known);
2. :meth:`CallTx.commit_row`: the call's ledger row (:mod:`.ledger`) and ``COMMIT``.

Both statements are prepared statements (:mod:`.prepared`): the first call on each pooled
connection prepares them in the text of its first round trip, the later ones only execute
them (PostgreSQL no longer parses and plans them per call). A first round trip that fails
invalidates its connection (what it prepared is unknown).

Before, a granted call cost six (the pool's ping, ``BEGIN``, the token, the savepoint with
the lock, the ledger row, ``COMMIT``). A refused call ends the transaction
(:meth:`CallTx.rollback`, which gives the connection back to the pool) before its refusal is
ledgered through CKAN's session as before, so one thread never holds the lock on one
connection while it waits on another.

The statements go straight to the pooled DBAPI connection (:func:`_execute`: no SQLAlchemy
result machinery on the way; errors raised as SQLAlchemy's ``DBAPIError``). A connection the
server dropped while it sat in the pool is noticed by the first statement: the pool's
connections of before are dropped (the server restarted or terminated them all) and that
statement is sent once more on a new connection (nothing was done on the old one).
"""
from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping
from typing import Any

import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..applications.model import entitlement_table as et
from . import clients, prepared
from .model import ledger_table
from .quota import NAMESPACE

__all__ = ["CallTx", "engine", "token_info", "dispose", "APPLICATION_NAME"]

APPLICATION_NAME = "sanyi-delivery-calls"  # pg_stat_activity's name of the pool's connections

_engines: dict[str, sa.engine.Engine] = {}
_engines_lock = threading.Lock()


def _sql(stmt: Any) -> str:
    return str(stmt.compile(dialect=postgresql.psycopg2.dialect()))


_LOCK = sa.func.pg_advisory_xact_lock_shared(sa.bindparam("ns"), sa.func.hashtext(et.c.id))
_OPEN = "BEGIN; " + _sql(clients._BEARER.add_columns(_LOCK.label("locked")))
_RELOCK = "BEGIN; SELECT pg_advisory_xact_lock_shared(%(ns)s, hashtext(%(ent)s))"
_LEDGER_COLUMNS = ("at", "request_id", "merchant_id", "client_id", "entitlement_id", "product",
                   "operation", "outcome", "error", "units", "input_hash", "fields_read",
                   "resources", "answer_bytes", "latency_ms")
assert set(_LEDGER_COLUMNS) <= set(ledger_table.c.keys())
_INSERT_ROW = (f"INSERT INTO {ledger_table.name} ({', '.join(_LEDGER_COLUMNS)}) VALUES ("
               + ", ".join(f"%({c})s::jsonb" if c == "fields_read" else f"%({c})s"
                           for c in _LEDGER_COLUMNS) + ")")
_INSERT = _INSERT_ROW + "; COMMIT"
# Both statements prepared on each of the pool's connections by its first call (in the
# statement that opens that call's transaction), then only executed (:mod:`.prepared`).
_OPEN_PREPARED = prepared.Prepared(_OPEN[len("BEGIN; "):], prefix="sanyi_call_open")
_INSERT_PREPARED = prepared.Prepared(_INSERT_ROW, prefix="sanyi_call_row")


def engine() -> sa.engine.Engine:
    """The calls' pool on CKAN's database (one per URL and process)."""
    url = str(tk.config.get("sqlalchemy.url", ""))
    found = _engines.get(url)
    if found is None:
        with _engines_lock:
            found = _engines.get(url)
            if found is None:
                found = _engines[url] = sa.create_engine(
                    url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, pool_size=5,
                    max_overflow=15, pool_recycle=3600,
                    connect_args={"application_name": APPLICATION_NAME})
    return found


def dispose() -> None:
    """Close every pooled connection (tests; a process after a fork)."""
    with _engines_lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()


def token_info(row: Mapping[str, Any], now: dt.datetime) -> clients.TokenInfo | None:
    """The live token of ``row`` (as :func:`.clients.authenticate_bearer` with
    ``strict=False``), or None when it is revoked, expired or its client is not active."""
    if row["revoked_at"] is not None or row["status"] != "active" or row["expires_at"] <= now:
        return None
    return clients.TokenInfo(
        client_pk=row["client_pk"], client_id=row["client_id"], client_name=row["name"],
        merchant_id=row["merchant_id"], entitlement_id=row["entitlement_id"],
        application_id=row["application_id"], product_id=row["product_id"],
        product_name=row["product_name"], scopes=frozenset(row["scope"].split()),
        issued_at=row["issued_at"], expires_at=row["expires_at"],
        entitlement_status=row["entitlement_status"], period_start=row["period_start"],
        period_end=row["period_end"], purpose=row["purpose"], use=row["use"],
        data_items=tuple(row["data_items"]), quota=int(row["quota"]),
        quota_unit=row["quota_unit"])


def _execute(conn: Any, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    """Send ``sql`` on the pooled DBAPI connection ``conn``; answers the cursor. A DBAPI
    error is raised as SQLAlchemy's ``DBAPIError`` (``connection_invalidated`` when the
    server is gone: the connection is then dropped from the pool)."""
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
    except Exception as err:
        dialect = engine().dialect
        dbapi = dialect.loaded_dbapi
        if not isinstance(err, dbapi.Error):
            raise
        gone = dialect.is_disconnect(err, conn.dbapi_connection, cursor)
        if gone:  # as SQLAlchemy's Connection does: every connection pooled before now goes
            engine().pool._invalidate(conn, err)
        raise sa.exc.DBAPIError.instance(sql, params, err, dbapi.Error,
                                         connection_invalidated=gone) from err
    return cursor


class CallTx:
    """One call's transaction (see the module doc). Not shared between threads."""

    def __init__(self) -> None:
        self._conn: Any = None  # a pooled DBAPI connection (SQLAlchemy's pool)
        self.active = False  # a transaction is open on the connection

    def _first(self, sql: str, params: Mapping[str, Any], *, preparing: bool = False) -> Any:
        """Run the transaction's first statement (``BEGIN; ...``), once more on a new
        connection when the pooled one was dropped by the server. ``preparing``: the
        statement first prepares the call's two statements on a connection that has not
        (:mod:`.prepared`). A connection that lost them (error 26000), or whose first round
        trip failed (what it prepared is unknown), is dropped from the pool."""
        for attempt in (1, 2):
            self._conn = engine().raw_connection()
            info = self._conn.info
            text = sql
            both = (_OPEN_PREPARED, _INSERT_PREPARED)
            if preparing and not all(p.ready_on(info) for p in both):
                text = "".join(f"{p.prepare_sql}; " for p in both) + sql
            try:
                cursor = _execute(self._conn, text, params)
                self.active = True
                if text is not sql:
                    for p in both:
                        p.sent(info)
                return cursor
            except sa.exc.DBAPIError as err:
                lost = getattr(err.orig, "pgcode", None) == prepared.MISSING
                if (lost or text is not sql) and not err.connection_invalidated:
                    self._conn.invalidate()
                self._release()
                if attempt == 2 or not (err.connection_invalidated or lost):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def open(self, hashed_token: str) -> dict[str, Any] | None:
        """``BEGIN`` and the token's row (client, entitlement) by its hash, the
        entitlement's shared lock taken; None for an unknown token."""
        cursor = self._first("BEGIN; " + _OPEN_PREPARED.execute_sql,
                             {"h": hashed_token, "ns": NAMESPACE}, preparing=True)
        row = cursor.fetchone()
        if row is None:
            return None
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def relock(self, entitlement_id: str) -> None:
        """A new transaction holding the entitlement's shared lock (after :meth:`rollback`)."""
        self.rollback()
        self._first(_RELOCK, {"ns": NAMESPACE, "ent": entitlement_id})

    def rollback(self) -> None:
        """End the transaction (the lock released) and give the connection back."""
        if self._conn is None:
            return
        try:
            if self.active:
                _execute(self._conn, "ROLLBACK")
        except sa.exc.DBAPIError:
            self._conn.invalidate()
        finally:
            self._release()

    def commit_row(self, values: Mapping[str, Any]) -> None:
        """Insert the ledger row (``values`` from :func:`.ledger.row`) and commit, in one
        round trip. On an error the server reported, nothing was committed and
        ``DBAPIError.committed`` is False; when the connection was lost it is None (the
        commit may or may not have happened)."""
        assert self._conn is not None and self.active
        params = {c: values.get(c) for c in _LEDGER_COLUMNS}
        params["fields_read"] = json.dumps(list(params["fields_read"] or []),
                                           ensure_ascii=False)
        params["resources"] = list(params["resources"] or [])
        if _INSERT_PREPARED.ready_on(self._conn.info):
            sql, params = _INSERT_PREPARED.execute_sql + "; COMMIT", \
                _INSERT_PREPARED.values(params)
        else:  # a transaction opened by relock(): the connection may not have it
            sql = _INSERT
        try:
            _execute(self._conn, sql, params)
        except sa.exc.DBAPIError as err:
            code = getattr(err.orig, "pgcode", None)
            reported = code is not None
            err.committed = False if reported else None  # type: ignore[attr-defined]
            if code == prepared.MISSING:  # the connection lost its statements: not reused
                self._conn.invalidate()
                self._release()
            elif reported:
                self.rollback()
            else:
                if not err.connection_invalidated:
                    self._conn.invalidate()
                self._release()
            raise
        self.active = False
        self._release()

    def _release(self) -> None:
        conn, self._conn, self.active = self._conn, None, False
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pragma: no cover - the pool invalidates it
                pass
