"""A data unit's own database behind a catalog resource, through ``postgres_fdw``.

``ckan sanyi domain attach`` creates, in the domain's database and as the domain's role:

* one foreign server per data unit (``unit_<organisation name>``), pointing at the unit's
  host, port and database;
* a user mapping for the domain role on that server: the read-only account the unit grants;
* a foreign table ``sanyi_foreign.<source table>`` over the unit's table, with one ``text``
  column per field of the catalog field list it carries (found by the unit column's name: the
  Chinese field name or the SQL column name; columns not in the field list are never
  mapped, so never read).

``ckan sanyi domain refresh`` pulls the foreign table's rows into the domain table through the
loader (:mod:`.loader`): the same typed checks, all or nothing, a no-op when nothing changed,
recorded in ``loads`` with origin ``fdw:<server>/<schema>.<table>``.

DDL naming user-given things (server options, the unit's schema, table and column names, the
account and password) is composed with :mod:`psycopg2.sql` (``Identifier``, ``Literal``).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import ckan.model as model
import psycopg2
import sqlalchemy as sa
from psycopg2 import sql

from ...common import audit
from ...domain.extract import HeaderError, RowError, map_header
from . import store
from .loader import LoadRefused, LoadReport, Target, actor_name, check_rows, run, target

__all__ = ["FOREIGN_SCHEMA", "AttachReport", "attach", "refresh", "server_name", "attachment"]

FOREIGN_SCHEMA = "sanyi_foreign"
PROBE_SCHEMA = "sanyi_foreign_probe"


@dataclass
class AttachReport:
    resource: str
    server: str
    foreign_table: str
    origin: str
    columns: dict[str, str] = field(default_factory=dict)   # domain column → unit column
    ignored: list[str] = field(default_factory=list)        # unit columns not in the list
    rows: int = 0

    def summary(self) -> str:
        ignored_zh = f"；未映射的列：{'、'.join(self.ignored)}" if self.ignored else ""
        ignored_en = f"; columns left out: {', '.join(self.ignored)}" if self.ignored else ""
        return (f"已连接 {self.origin} → {self.foreign_table}（{len(self.columns)} 列，"
                f"{self.rows} 行{ignored_zh}）/ attached {self.origin} as {self.foreign_table} "
                f"({len(self.columns)} columns, {self.rows} rows{ignored_en})")


def server_name(unit: str) -> str:
    """The foreign server of a data unit (its organisation name, as an SQL-friendly name)."""
    name = "unit_" + re.sub(r"[^a-z0-9_]", "_", unit.lower())
    if len(name) > 63:
        name = name[:50] + "_" + hashlib.sha1(unit.encode()).hexdigest()[:12]
    return name


def _refused(e: Exception) -> LoadRefused:
    text = str(getattr(e, "orig", None) or e).strip().splitlines()
    reason = text[0] if text else type(e).__name__
    return LoadRefused(f"无法连接或读取单位数据库：{reason}",
                       f"Cannot connect to or read the unit's database: {reason}")


def _exists(cur: Any, query: str, *params: Any) -> bool:
    cur.execute(query, params)
    return cur.fetchone() is not None


def _server(cur: Any, name: str, options: dict[str, str]) -> None:
    """The unit's foreign server with these connection ``options`` (an existing one is
    altered: options set, added or, for ``sslmode``, dropped)."""
    ident = sql.Identifier(name)
    cur.execute("SELECT srvoptions FROM pg_foreign_server WHERE srvname = %s", (name,))
    row = cur.fetchone()
    if row is None:
        cur.execute(sql.SQL("CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw "
                            "OPTIONS ({}, fetch_size '10000')").format(ident, sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(k), sql.Literal(v))
            for k, v in options.items())))
        return
    existing = {o.split("=", 1)[0] for o in row[0] or []}
    changes = [sql.SQL("{} {} {}").format(sql.SQL("SET" if k in existing else "ADD"),
                                          sql.Identifier(k), sql.Literal(v))
               for k, v in options.items()]
    changes += [sql.SQL("DROP {}").format(sql.Identifier(k))
                for k in ("sslmode",) if k in existing and k not in options]
    cur.execute(sql.SQL("ALTER SERVER {} OPTIONS ({})").format(ident, sql.SQL(", ").join(changes)))


def _mapping(cur: Any, server: str, user: str, password: str) -> None:
    """The domain role's account on ``server`` (an earlier one is replaced)."""
    ident = sql.Identifier(server)
    if _exists(cur, "SELECT 1 FROM pg_user_mappings WHERE srvname = %s "
               "AND usename = current_user", server):
        cur.execute(sql.SQL("DROP USER MAPPING FOR CURRENT_USER SERVER {}").format(ident))
    cur.execute(sql.SQL("CREATE USER MAPPING FOR CURRENT_USER SERVER {} "
                        "OPTIONS (user {}, password {})").format(
        ident, sql.Literal(user), sql.Literal(password)))


def _unit_columns(cur: Any, server: str, schema: str, table: str) -> list[str]:
    """The unit table's column names, read by importing its definition into a scratch
    schema (dropped with the transaction's end)."""
    cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(PROBE_SCHEMA)))
    cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(PROBE_SCHEMA)))
    cur.execute(sql.SQL("IMPORT FOREIGN SCHEMA {} LIMIT TO ({}) FROM SERVER {} INTO {}").format(
        sql.Identifier(schema), sql.Identifier(table), sql.Identifier(server),
        sql.Identifier(PROBE_SCHEMA)))
    cur.execute("SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                "AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (PROBE_SCHEMA, table))
    names = [r[0] for r in cur.fetchall()]
    cur.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(PROBE_SCHEMA)))
    if not names:
        raise LoadRefused(f"单位数据库中没有表 {schema}.{table}（或该账号看不到它）",
                          f"No table {schema}.{table} in the unit's database "
                          "(or the account cannot see it)")
    return names


def attach(ref: str, *, host: str, port: int, dbname: str, user: str, password: str,
           table: str, schema: str = "public", sslmode: str | None = None,
           actor: str | None = None) -> AttachReport:
    """Point the domain table behind ``ref`` at the unit's ``schema.table``: foreign server,
    user mapping and foreign table (replacing an earlier attachment), checked by counting
    the unit table's rows. :class:`LoadRefused` when the unit's database can't be reached or
    read, or its table lacks a required field."""
    tgt = target(ref)
    who = actor_name(actor)
    srv = server_name(tgt.resource["unit"])
    report = AttachReport(tgt.resource["name"], srv, f"{FOREIGN_SCHEMA}.{tgt.source.table}",
                          f"fdw:{srv}/{schema}.{table}")
    try:
        with store.begin() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur:
                cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    sql.Identifier(FOREIGN_SCHEMA)))
                options = {"host": host, "port": str(port), "dbname": dbname}
                if sslmode:
                    options["sslmode"] = sslmode
                _server(cur, srv, options)
                _mapping(cur, srv, user, password)
                unit_cols = _unit_columns(cur, srv, schema, table)
                try:
                    mapped = map_header(unit_cols, tgt.specs, ignore_unknown=True)
                except HeaderError as e:
                    raise LoadRefused(e.zh, e.en) from None
                pairs = [(s.column, name) for s, name in zip(mapped, unit_cols, strict=True)
                         if s is not None]
                report.columns = dict(pairs)
                report.ignored = [n for s, n in zip(mapped, unit_cols, strict=True) if s is None]
                foreign = sql.Identifier(FOREIGN_SCHEMA, tgt.source.table)
                cur.execute(sql.SQL("DROP FOREIGN TABLE IF EXISTS {}").format(foreign))
                cur.execute(sql.SQL("CREATE FOREIGN TABLE {} ({}) SERVER {} "
                                    "OPTIONS (schema_name {}, table_name {})").format(
                    foreign, sql.SQL(", ").join(
                        sql.SQL("{} text OPTIONS (column_name {})").format(
                            sql.Identifier(col), sql.Literal(name)) for col, name in pairs),
                    sql.Identifier(srv), sql.Literal(schema), sql.Literal(table)))
                cur.execute(sql.SQL("COMMENT ON FOREIGN TABLE {} IS {}").format(
                    foreign, sql.Literal(f"{tgt.resource['title']} ({tgt.resource['name']}) "
                                         f"← {report.origin}")))
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(foreign))
                report.rows = int(cur.fetchone()[0])
            audit.record(who, "sanyi_domain_attach", "domain_table", tgt.source.table, after={
                "resource": tgt.resource["name"], "server": srv, "host": host, "port": port,
                "dbname": dbname, "sslmode": sslmode, "schema": schema, "table": table,
                "user": user,
                "columns": report.columns})
    except (psycopg2.Error, sa.exc.DBAPIError) as e:
        model.Session.rollback()
        raise _refused(e) from None
    except BaseException:
        model.Session.rollback()
        raise
    model.Session.commit()
    return report


def attachment(conn: sa.engine.Connection, table: str) -> dict[str, Any] | None:
    """The foreign table of ``table`` (its server, options and columns), if attached."""
    row = conn.execute(sa.text(
        "SELECT s.srvname, ft.ftoptions, c.oid FROM pg_foreign_table ft "
        "JOIN pg_class c ON c.oid = ft.ftrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_foreign_server s ON s.oid = ft.ftserver "
        "WHERE n.nspname = :schema AND c.relname = :table"),
        {"schema": FOREIGN_SCHEMA, "table": table}).first()
    if row is None:
        return None
    options = dict(o.split("=", 1) for o in row[1] or [])
    columns = [r[0] for r in conn.execute(sa.text(
        "SELECT attname FROM pg_attribute WHERE attrelid = :oid AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum"), {"oid": row[2]})]
    return {"server": row[0], "schema": options.get("schema_name", "public"),
            "table": options.get("table_name", table), "columns": columns}


def refresh(ref: str, *, mode: str = "replace", user: str | None = None,
            progress: bool = False) -> LoadReport:
    """Pull the unit's rows through the foreign table into the domain table behind ``ref``,
    as :func:`.loader.load_file` loads a file (rows numbered in key order)."""
    from .loader import MODES
    if mode not in MODES:
        raise LoadRefused(f"未知的载入方式“{mode}”（replace 或 upsert）",
                          f"Unknown mode '{mode}' (replace or upsert)")
    tgt = target(ref)
    actor = actor_name(user)
    try:
        with store.begin() as conn:
            found = attachment(conn, tgt.source.table)
            if found is None:
                raise LoadRefused(
                    f"资源“{tgt.resource['title']}”尚未连接单位数据库（先运行 ckan sanyi domain "
                    "attach）", f"Resource '{tgt.resource['title']}' is not attached to a "
                    "unit's database (run ckan sanyi domain attach first)")
            origin = f"fdw:{found['server']}/{found['schema']}.{found['table']}"
            report = LoadReport(tgt.resource["name"], tgt.source.table, origin, mode,
                                where=("第 {} 条记录（按键排序）", "record {} (in key order)"))
            columns = found["columns"]
            unknown = [c for c in columns if c not in tgt.source.columns]
            if unknown:
                raise LoadRefused(
                    "外部表的列不在数据域表中：" + "、".join(unknown) + "（请重新 attach）",
                    "Columns of the foreign table not in the domain table: "
                    + ", ".join(unknown) + " (attach again)")
            try:
                map_header(columns, tgt.specs)
            except HeaderError as e:
                raise LoadRefused(e.zh + "（字段列表已变，请重新 attach）",
                                  e.en + " (the field list changed: attach again)") from None
            foreign = _foreign_table(tgt, columns)
            key = tgt.source.key
            key_at = columns.index(key)
            key_spec = next(s for s in tgt.specs if s.key)
            total = int(conn.execute(sa.select(sa.func.count()).select_from(foreign))
                        .scalar_one())
            result = conn.execute(sa.select(*foreign.c).order_by(foreign.c[key])
                                  .execution_options(stream_results=True, yield_per=5000))
            digest = hashlib.sha256()

            def numbered() -> Iterator[tuple[int, list[Any]]]:
                for number, row in enumerate(result, start=1):
                    values = list(row)
                    digest.update(json.dumps(values, ensure_ascii=False).encode() + b"\n")
                    yield number, values

            def name_key(error: RowError, values: Any) -> None:
                if not key_spec.sensitive and values[key_at]:
                    v = str(values[key_at])[:40]
                    error.reasons.insert(0, (f"{key_spec.zh}“{v}”", f"{key} '{v}'"))

            with check_rows(tgt, columns, numbered(), total=total,
                            progress=progress, on_error=name_key) as checked:
                result.close()
                report.sha256 = digest.hexdigest()
                return run(tgt, checked, report, actor, conn=conn)
    except (psycopg2.Error, sa.exc.DBAPIError) as e:
        model.Session.rollback()
        raise _refused(e) from None


def _foreign_table(tgt: Target, columns: list[str]) -> sa.Table:
    """The foreign table as SQLAlchemy sees it: ``columns`` in order, names from sources.py."""
    cols = [sa.Column(tgt.source.field(c).column, sa.UnicodeText) for c in columns]
    return sa.Table(tgt.source.table, sa.MetaData(schema=FOREIGN_SCHEMA), *cols)
