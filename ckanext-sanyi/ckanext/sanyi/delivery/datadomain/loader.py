"""Loading a data unit's extract into the domain table behind its catalog resource.

``ckan sanyi domain load RESOURCE FILE`` (and ``refresh`` of a unit's foreign table, see
:mod:`.fdw`) come here:

1. :func:`target` finds the catalog resource (package id, name or title) and its source table;
   the columns an extract may carry are the resource's catalog field list (``data_fields``)
   that the table has, plus the key and the required fields (all of the table's fields when
   the catalog lists none).
2. Every row is checked (:mod:`ckanext.sanyi.domain.extract`: types, required fields, the key
   unique within the file) and the good ones are spooled as CSV; any bad row, and nothing is
   written.
3. One transaction in the domain: the rows are COPYed into a temporary staging table, compared
   with the table (rows added, changed, removed), then swapped in: ``replace`` deletes the
   table's rows and inserts the staged ones, ``upsert`` inserts new keys and updates changed
   rows. The load is recorded in ``loads`` and, in CKAN's database, in the audit log; the tables
   derived from it are rebuilt in the same transaction (:func:`.derive.refresh`). When the
   staged rows equal the table's, nothing is written (re-loading the same file is a no-op).

Identifiers in SQL come from :mod:`.sources` only; values travel by COPY or bound parameters.
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from psycopg2 import sql
from sqlalchemy.dialects import postgresql as pg

from ...common import audit, clock, tabular
from ...domain.extract import HeaderError, RowChecker, RowError, Spec, map_header
from . import catalog_link, derive, store, tables
from .sources import SCHEMA, Source

__all__ = ["LoadRefused", "LoadReport", "Target", "target", "specs_for", "load_file",
           "check_rows", "write", "actor_name", "MODES"]

MODES = ("replace", "upsert")
AUDIT_ACTION = "sanyi_domain_load"


class LoadRefused(Exception):
    """The extract as a whole cannot be loaded (unknown resource, unreadable file, wrong
    columns, unknown user): ``zh`` and ``en`` say why. Nothing was written."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass
class Target:
    source: Source
    resource: dict[str, Any]   # id, name, title, unit, unit_title
    specs: list[Spec]


@dataclass
class LoadReport:
    resource: str
    table: str
    origin: str
    mode: str
    rows: int = 0
    sha256: str = ""
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: bool = False
    same_as: dict[str, Any] | None = None   # an earlier load of the same digest
    load_id: int | None = None
    errors: list[RowError] = field(default_factory=list)
    where: tuple[str, str] = ("第 {} 行", "row {}")   # how a bad row's number is shown

    def summary(self) -> str:
        if self.errors:
            return (f"{len(self.errors)} 行有错误，未写入任何数据 / "
                    f"{len(self.errors)} bad rows: nothing was written")
        if self.unchanged:
            zh = en = ""
            if self.same_as:
                zh = f"与载入记录 #{self.same_as['id']}（{self.same_as['loaded_at']}）的文件相同，"
                en = (f"same file as load #{self.same_as['id']} "
                      f"({self.same_as['loaded_at']}); ")
            return (f"{zh}内容与数据域一致，未作任何改动（{self.rows} 行）/ "
                    f"{en}content equals the domain's: nothing changed ({self.rows} rows)")
        return (f"已载入 {self.rows} 行：新增 {self.inserted}，更新 {self.updated}，删除 "
                f"{self.deleted}（载入记录 #{self.load_id}）/ loaded {self.rows} rows: "
                f"{self.inserted} added, {self.updated} changed, {self.deleted} removed "
                f"(load #{self.load_id})")


# -- what is loaded where ----------------------------------------------------------------------

def specs_for(source: Source, data_fields: Sequence[Any] | None) -> list[Spec]:
    """The columns of ``source`` an extract may carry, in the table's order: those the catalog
    field list names (by Chinese field name), the key and the required fields."""
    listed = {str(f.get("field_name") or "").strip() for f in data_fields or []
              if isinstance(f, dict)}
    table = tables.table(source.table)
    specs = []
    for f in source.fields:
        if listed and f.zh not in listed and not f.required and f.column != source.key:
            continue
        col_type = table.c[f.column].type
        specs.append(Spec(f.column, f.zh, f.type, required=f.required or f.column == source.key,
                          key=f.column == source.key, sensitive=f.sensitive,
                          precision=getattr(col_type, "precision", None) or 14,
                          scale=getattr(col_type, "scale", None) or 2))
    return specs


def target(ref: str) -> Target:
    """The catalog resource ``ref`` (package id, name or title) and its source table, or
    :class:`LoadRefused`."""
    ref = (ref or "").strip()
    linked = catalog_link.resources()
    hits = [t for t, r in linked.items() if ref in (r["id"], r["name"])]
    if not hits:
        hits = [t for t, r in linked.items() if r["title"] == ref]
    if len(hits) > 1:
        raise LoadRefused(f"有多个资源名为“{ref}”，请用资源的 name 或 id",
                          f"Several resources are titled '{ref}': give its name or id")
    if not hits:
        pkg = model.Package.get(ref) or model.Session.query(model.Package).filter(
            model.Package.title == ref, model.Package.state == "active").first()
        if pkg is not None and pkg.state == "active":
            raise LoadRefused(f"资源“{pkg.title}”（{pkg.name}）没有数据域表，不能载入数据",
                              f"Resource '{pkg.title}' ({pkg.name}) is not backed by a "
                              "data domain table")
        raise LoadRefused(f"未找到资源“{ref}”", f"No catalog resource '{ref}'")
    table = hits[0]
    resource = linked[table]
    source = next(s for s in catalog_link.SOURCES if s.table == table)
    pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": resource["id"]})
    return Target(source, resource, specs_for(source, pkg.get("data_fields")))


def actor_name(user: str | None) -> str:
    """The CKAN account a load is recorded under (default: the site user)."""
    if not user:
        return str(tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"])
    found = model.User.get(user)
    if found is None or found.state != "active":
        raise LoadRefused(f"未知的用户“{user}”", f"Unknown user '{user}'")
    return str(found.name)


# -- checking ----------------------------------------------------------------------------------

@dataclass
class Checked:
    """The checked rows of one extract, spooled as CSV in the order of ``specs``."""
    specs: list[Spec]
    rows: int
    errors: list[RowError]
    spool: IO[str]


def _copy_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value  # None → an unquoted empty field, which COPY reads as NULL


@contextlib.contextmanager
def _bar(total: int | None, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    import click
    with click.progressbar(length=max(total or 0, 1), label="检查 / checking", show_pos=True,
                           file=click.get_text_stream("stderr")) as bar:
        yield bar.update


@contextlib.contextmanager
def check_rows(tgt: Target, header: Sequence[Any], rows: Iterable[tuple[int, Sequence[Any]]],
               *, total: int | None = None, progress: bool = False,
               on_error: Callable[[RowError, Sequence[Any]], None] | None = None
               ) -> Iterator[Checked]:
    """Check every row (numbered by the caller) against ``tgt``'s columns; the good rows are
    spooled for :func:`write`. :class:`LoadRefused` for wrong columns or no data row."""
    try:
        mapped = map_header(header, tgt.specs)
    except HeaderError as e:
        raise LoadRefused(e.zh, e.en) from None
    checker = RowChecker(mapped, tz=clock.local_tz())
    with tempfile.SpooledTemporaryFile(max_size=64 << 20, mode="w+", encoding="utf-8",
                                       newline="") as spool, _bar(total, progress) as step:
        writer = csv.writer(spool)
        for number, values in rows:
            typed = checker.check(number, values)
            if typed is None:
                if on_error is not None:
                    on_error(checker.errors[-1], values)
            elif not checker.errors:  # after a bad row, checking goes on, spooling stops
                writer.writerow([_copy_value(v) for v in typed])
            step(1)
        if checker.rows == 0:
            raise LoadRefused("没有数据行（第 1 行为表头，数据从第 2 行起）",
                              "No data rows (row 1 is the header, data starts on row 2)")
        spool.seek(0)
        yield Checked(checker.specs, checker.rows, checker.errors, spool)


# -- writing -----------------------------------------------------------------------------------

def _stage(source: Source) -> sa.Table:
    columns = [sa.Column(c.name, c.type) for c in tables.table(source.table).columns]
    return sa.Table(f"stage_{source.table}", sa.MetaData(), *columns)


def _count(conn: sa.engine.Connection, stmt: Any) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(stmt.subquery()))
               .scalar_one())


def _diff(conn: sa.engine.Connection, t: sa.Table, stage: sa.Table, key: str,
          columns: list[str]) -> tuple[int, int, int]:
    """(keys only staged, keys only in the table, keys in both with other ``columns``)."""
    tk_, sk = t.c[key], stage.c[key]
    added = _count(conn, sa.select(sk).select_from(stage.outerjoin(t, tk_ == sk))
                   .where(tk_.is_(None)))
    removed = _count(conn, sa.select(tk_).select_from(t.outerjoin(stage, tk_ == sk))
                     .where(sk.is_(None)))
    changed = 0
    if columns:
        changed = _count(conn, sa.select(tk_).select_from(t.join(stage, tk_ == sk)).where(
            sa.tuple_(*(t.c[c] for c in columns))
            .is_distinct_from(sa.tuple_(*(stage.c[c] for c in columns)))))
    return added, removed, changed


def write(conn: sa.engine.Connection, tgt: Target, checked: Checked, report: LoadReport,
          actor: str) -> None:
    """Stage, compare and swap in ``checked`` within ``conn``'s transaction; record the load
    (``loads``, and the audit log in CKAN's session, not committed). Fills ``report``."""
    source = tgt.source
    t = tables.table(source.table)
    stage = _stage(source)
    cols = [s.column for s in checked.specs]
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        cur.execute(sql.SQL("LOCK TABLE {}.{} IN SHARE ROW EXCLUSIVE MODE").format(
            sql.Identifier(SCHEMA), sql.Identifier(source.table)))
        cur.execute(sql.SQL("CREATE TEMPORARY TABLE {} (LIKE {}.{} INCLUDING DEFAULTS) "
                            "ON COMMIT DROP").format(
            sql.Identifier(stage.name), sql.Identifier(SCHEMA), sql.Identifier(source.table)))
        cur.copy_expert(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            sql.Identifier(stage.name), sql.SQL(", ").join(map(sql.Identifier, cols))),
            checked.spool)
        cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(stage.name)))  # plans of the diff
    others = [c for c in (t.c.keys() if report.mode == "replace" else cols) if c != source.key]
    added, removed, changed = _diff(conn, t, stage, source.key, others)
    if report.mode == "upsert":
        removed = 0
    previous = conn.execute(
        sa.select(tables.loads.c.id, tables.loads.c.loaded_at)
        .where(tables.loads.c.source_table == source.table,
               tables.loads.c.sha256 == report.sha256)
        .order_by(tables.loads.c.id.desc()).limit(1)).mappings().first()
    if previous is not None:
        report.same_as = {"id": previous["id"],
                          "loaded_at": clock.format_datetime(previous["loaded_at"])}
    if not (added or removed or changed):
        report.unchanged = True  # the staging table goes with the transaction
        return
    if report.mode == "replace":
        conn.execute(t.delete())
        conn.execute(t.insert().from_select(list(t.c.keys()), sa.select(*stage.c)))
    else:
        ins = pg.insert(t).from_select(cols, sa.select(*(stage.c[c] for c in cols)))
        updates = [c for c in cols if c != source.key]
        if updates:
            ins = ins.on_conflict_do_update(
                index_elements=[source.key], set_={c: ins.excluded[c] for c in updates},
                where=sa.tuple_(*(t.c[c] for c in updates))
                .is_distinct_from(sa.tuple_(*(ins.excluded[c] for c in updates))))
        else:
            ins = ins.on_conflict_do_nothing(index_elements=[source.key])
        conn.execute(ins)
    report.inserted, report.deleted, report.updated = added, removed, changed
    report.load_id = int(conn.execute(tables.loads.insert().values(
        source_table=source.table, resource=tgt.resource["name"], origin=report.origin,
        sha256=report.sha256, rows=report.rows, loaded_by=actor)
        .returning(tables.loads.c.id)).scalar_one())
    if source.table in derive.INPUTS:
        derive.refresh(conn, [source.table])
    audit.record(actor, AUDIT_ACTION, "domain_table", source.table, after={
        "resource": tgt.resource["name"], "origin": report.origin, "sha256": report.sha256,
        "mode": report.mode, "rows": report.rows, "inserted": added, "updated": changed,
        "deleted": removed, "load_id": report.load_id})


def run(tgt: Target, checked: Checked, report: LoadReport, actor: str,
        conn: sa.engine.Connection | None = None) -> LoadReport:
    """:func:`write` in one domain transaction (``conn``'s, or a new one), then commit the
    audit record; nothing at all when a row was refused."""
    report.rows, report.errors = checked.rows, checked.errors
    if report.errors:
        return report
    try:
        if conn is not None:
            write(conn, tgt, checked, report, actor)
        else:
            with store.begin() as own:
                write(own, tgt, checked, report, actor)
    except BaseException:
        model.Session.rollback()
        raise
    model.Session.commit()
    return report


# -- files -------------------------------------------------------------------------------------

def _numbered(rows: Iterator[list[Any]]) -> Iterator[tuple[int, list[Any]]]:
    for number, values in enumerate(rows, start=2):
        if any(v is not None and str(v).strip() for v in values):
            yield number, values


def load_file(ref: str, path: str, *, mode: str = "replace", user: str | None = None,
              progress: bool = False) -> LoadReport:
    """Check and load the CSV or XLSX extract ``path`` into the table behind ``ref``.

    :class:`LoadRefused` (nothing written) for an unknown resource or user, an unreadable
    file, wrong columns or no data; a report with ``errors`` (nothing written) for bad rows.
    """
    if mode not in MODES:
        raise LoadRefused(f"未知的载入方式“{mode}”（replace 或 upsert）",
                          f"Unknown mode '{mode}' (replace or upsert)")
    tgt = target(ref)
    actor = actor_name(user)
    report = LoadReport(tgt.resource["name"], tgt.source.table, os.path.basename(path), mode)
    try:
        report.sha256 = tabular.sha256(path)
        rows = tabular.rows(path)
        header = next(rows, None)
        if not header or not any(h is not None and str(h).strip() for h in header):
            raise LoadRefused("文件为空（第 1 行应为表头）",
                              "The file is empty (row 1 must be the header)")
        with check_rows(tgt, header, _numbered(rows), total=tabular.length_hint(path),
                        progress=progress) as checked:
            return run(tgt, checked, report, actor)
    except tabular.UnreadableFile as e:
        raise LoadRefused(e.zh, e.en) from None
    except OSError as e:
        raise LoadRefused(f"无法读取文件：{e.strerror}", f"Cannot read the file: {e.strerror}"
                          ) from None
