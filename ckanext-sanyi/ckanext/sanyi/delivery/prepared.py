"""Statements of the call path prepared once per database connection (``PREPARE`` /
``EXECUTE``), so that PostgreSQL parses and plans them once per connection, not per call.

A gateway call's statements are the same text every time (the token's row, the ledger row,
the operation's one statement): planning them was most of their cost in PostgreSQL (the
risk assessment's statement, with its 27 bound values, plans in about 0.4 ms and runs in
0.2 ms). :class:`Prepared` holds a statement's text with ``$n`` parameters; it is prepared
on a connection the first time that connection runs it (remembered in the pool's
per-connection ``info``, which lives as long as the DBAPI connection) and then executed as
``EXECUTE name(%(a)s, ...)``: the values still travel as bound parameters (psycopg2 quotes
them), never as SQL text, and PostgreSQL coerces each to the type the statement gave it.

PostgreSQL re-checks a prepared statement against the tables before each use (a table
dropped and created again is planned anew), and a connection that lost its prepared
statements (``DEALLOCATE``, ``DISCARD ALL``) is noticed: the statement is prepared again
(error 26000); a first use whose ``EXECUTE`` failed after its ``PREPARE`` is noticed as well
(error 42P05 the next time: it is prepared).
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects import postgresql

__all__ = ["Prepared", "from_statement", "MISSING", "DUPLICATE"]

MISSING = "26000"  # invalid_sql_statement_name: no such prepared statement
DUPLICATE = "42P05"  # duplicate_prepared_statement
_PARAM = re.compile(r"%\((\w+)\)s")
_INFO_KEY = "sanyi_prepared"


class Prepared:
    """One statement, prepared per connection. ``sql`` uses psycopg2's ``%(name)s``
    parameters; ``defaults`` are values bound at build time (a compiled statement's
    constants), overridden by the values given at each call."""

    def __init__(self, sql: str, defaults: Mapping[str, Any] | None = None,
                 prefix: str = "sanyi") -> None:
        order: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        text = _PARAM.sub(number, sql)
        if "%" in _PARAM.sub("", sql).replace("%%", ""):
            raise ValueError("only %(name)s parameters can be prepared")
        if not order:  # sent without parameters: psycopg2 leaves the text as it is
            text = text.replace("%%", "%")
        self.params: tuple[str, ...] = tuple(order)
        self.name = f"{prefix}_{hashlib.sha1(text.encode('utf-8')).hexdigest()[:16]}"
        self.defaults = dict(defaults or {})
        self.prepare_sql = f"PREPARE {self.name} AS {text}"
        self.execute_sql = f"EXECUTE {self.name}" + (
            "(" + ", ".join(f"%({p})s" for p in order) + ")" if order else "")

    # -- per connection
    @staticmethod
    def _names(info: dict[str, Any]) -> set[str]:
        found = info.get(_INFO_KEY)
        if found is None:
            found = info[_INFO_KEY] = set()
        return found

    def ready_on(self, info: dict[str, Any]) -> bool:
        """Is it prepared on the connection whose pool ``info`` this is?"""
        return self.name in self._names(info)

    def sql_for(self, info: dict[str, Any]) -> str:
        """The text to send on that connection: ``PREPARE ...; EXECUTE ...`` the first time
        (one round trip still), ``EXECUTE ...`` after. Call :meth:`sent` once it ran."""
        return self.execute_sql if self.ready_on(info) else \
            f"{self.prepare_sql}; {self.execute_sql}"

    def sent(self, info: dict[str, Any]) -> None:
        """The statement ran on that connection: it is prepared there now."""
        self._names(info).add(self.name)

    def forget(self, info: dict[str, Any]) -> None:
        """The connection does not hold it (any more): prepare it again next time."""
        self._names(info).discard(self.name)

    def values(self, given: Mapping[str, Any]) -> dict[str, Any] | None:
        """Every parameter's value, ``given`` over the defaults (None: it has none)."""
        if not self.params:
            return None
        merged = {**self.defaults, **given}
        missing = [p for p in self.params if p not in merged]
        if missing:
            raise KeyError(f"{self.name}: no value for {', '.join(missing)}")
        return {p: merged[p] for p in self.params}

    # -- on a SQLAlchemy Connection
    def execute(self, conn: Any, given: Mapping[str, Any]) -> Any:
        """Run on a SQLAlchemy ``Connection`` (``exec_driver_sql``: its events, its errors,
        in whatever transaction it is in); answers the result. On a connection in autocommit
        mode a statement the connection lost is prepared again at once; in a transaction
        (aborted by the error) the error is raised and the next use prepares it."""
        import sqlalchemy as sa

        info = conn.connection.info
        params = self.values(given)
        for attempt in (1, 2):
            try:
                result = conn.exec_driver_sql(self.sql_for(info), params)
            except sa.exc.DBAPIError as err:
                code = getattr(err.orig, "pgcode", None)
                if code not in (MISSING, DUPLICATE):
                    raise
                # lost it (DISCARD ALL) / a failed first use had prepared it after all
                (self.forget if code == MISSING else self.sent)(info)
                if attempt == 2 or not conn.connection.dbapi_connection.autocommit:
                    raise
                continue
            self.sent(info)
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def one(self, conn: Any, given: Mapping[str, Any]) -> Any:
        """The one row (attributes named as the statement's columns) of :meth:`execute`."""
        return self.execute(conn, given).one()


def from_statement(stmt: Any, prefix: str = "sanyi") -> Prepared:
    """A :class:`Prepared` of a SQLAlchemy Core statement, compiled once for psycopg2; the
    values bound in the statement (constants) become its defaults. Statements whose text
    depends on their values (``IN`` lists expanded at run time) cannot be prepared."""
    compiled = stmt.compile(dialect=postgresql.psycopg2.dialect())
    sql = str(compiled)
    if "POSTCOMPILE" in sql:
        raise ValueError("a statement with expanding parameters cannot be prepared")
    defaults = {k: v for k, v in compiled.params.items() if v is not None}
    return Prepared(sql, defaults, prefix)
