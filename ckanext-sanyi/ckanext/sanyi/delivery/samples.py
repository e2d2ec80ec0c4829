"""Desensitized samples (脱敏样例) of the catalog resources backed by the data domain.

For a viewer, a resource and a day the sample is fixed: its marker
(:func:`ckanext.sanyi.domain.watermark.marker`, keyed by :func:`.sample_keys.watermark_key`)
seeds the draw and orders the rows, and is shown in every row's 水印 column. Every view is
recorded in ``sanyi_sample_view`` (append-only), so :func:`trace` answers, for a marker
found in a leaked copy, who viewed which resource when.

**The draw** (:func:`draw`) reads at most a few dozen rows whatever the table's size: it picks
3 × ``limit`` table blocks at random (seeded by the marker) and takes one row from each by a
TID range scan (``ctid`` between two block boundaries; PostgreSQL 14+), so the rows are spread
over the whole table, never clustered in a few pages, and nothing sorts or scans the table.
Tables of at most :data:`SMALL_BLOCKS` pages are read whole and ordered by a digest of the
key. When the blocks yield too few rows (a table with many emptied pages) the draw falls back
to ``TABLESAMPLE SYSTEM ... REPEATABLE`` and then to the first rows. Of the candidates,
:func:`~ckanext.sanyi.domain.watermark.choose` keeps ``limit`` in the viewer's order.

The rows are masked (:func:`~ckanext.sanyi.domain.watermark.desensitize`) before they leave
this module: raw values of the domain are never returned, stored or logged.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ..common import clock
from ..domain import watermark as wm
from ..domain.errors import DomainError, NotFound
from ..domain.masking import classify_field
from .datadomain import catalog_link, store
from .datadomain.sources import Source
from .datadomain.tables import table as domain_table
from .sample_keys import watermark_key
from .samples_model import sample_view_table as views

__all__ = ["draw", "block_query", "sample", "record_view", "trace", "view_list", "available", "fields_of",
           "SMALL_BLOCKS", "STATEMENT_TIMEOUT_MS"]

SMALL_BLOCKS = 64  # tables up to this many 8 kB pages are read whole
STATEMENT_TIMEOUT_MS = 3000


def _quoted(conn: sa.engine.Connection, table: sa.Table) -> str:
    return conn.dialect.identifier_preparer.format_table(table)


def _n_blocks(conn: sa.engine.Connection, table: sa.Table) -> int:
    return int(conn.execute(sa.text(
        "SELECT pg_relation_size(CAST(:t AS regclass)) / current_setting('block_size')::int"),
        {"t": _quoted(conn, table)}).scalar_one())


def block_query(conn: sa.engine.Connection, table: sa.Table) -> sa.TextClause:
    """One row of each block in ``:blks`` (block numbers): the first live one at or after the
    line in ``:poss``, else the block's first; each read by a TID range scan."""
    cols = ", ".join(f"t.{conn.dialect.identifier_preparer.quote(c.name)}" for c in table.c)
    return sa.text(
        f"SELECT s.* FROM unnest(CAST(:blks AS int[]), CAST(:poss AS int[])) AS b(blk, pos) "
        f"CROSS JOIN LATERAL (SELECT {cols} FROM {_quoted(conn, table)} AS t "
        "WHERE t.ctid >= format('(%s,0)', b.blk)::tid "
        "AND t.ctid < format('(%s,0)', b.blk + 1)::tid "
        "ORDER BY t.ctid < format('(%s,%s)', b.blk, b.pos)::tid, t.ctid LIMIT 1) AS s")


def _from_blocks(conn: sa.engine.Connection, table: sa.Table,
                 picks: list[tuple[int, int]]) -> list[dict[str, Any]]:
    if not picks:
        return []
    rows = conn.execute(block_query(conn, table),
                        {"blks": [b for b, _ in picks], "poss": [p for _, p in picks]})
    return [dict(r) for r in rows.mappings()]


def _tablesample(conn: sa.engine.Connection, table: sa.Table, n_blocks: int, mark: str,
                 count: int) -> list[dict[str, Any]]:
    percent = min(100.0, max(0.01, 100.0 * count / max(1, n_blocks)))
    sampled = sa.tablesample(table, sa.func.system(percent), name="t",
                             seed=sa.literal(wm.seed(mark) % 2**31))
    return [dict(r) for r in conn.execute(sa.select(sampled).limit(count * 20)).mappings()]


def draw(source: Source, mark: str, limit: int = wm.SAMPLE_LIMIT, *,
         url: str | None = None) -> list[dict[str, Any]]:
    """At most ``limit`` raw rows of ``source``'s table (column → value), chosen and ordered
    for ``mark``. Raw: mask them (:func:`sample`) before they go anywhere."""
    table = domain_table(source.table)
    key_of = (lambda r: r[source.key])  # noqa: E731
    with store.connect(url) as conn:
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
        n_blocks = _n_blocks(conn, table)
        if n_blocks <= SMALL_BLOCKS:
            digest = sa.func.md5(sa.func.concat(sa.cast(table.c[source.key], sa.UnicodeText),
                                                sa.literal(mark)))
            rows = [dict(r) for r in conn.execute(
                sa.select(table).order_by(digest).limit(limit * 3)).mappings()]
            return wm.choose(mark, rows, key_of, limit)
        rows = _from_blocks(conn, table, wm.blocks(mark, n_blocks, limit * 3))
        if len({str(key_of(r)) for r in rows}) < limit:
            rows += _tablesample(conn, table, n_blocks, mark, limit * 3)
        if len({str(key_of(r)) for r in rows}) < limit:
            rows += [dict(r) for r in conn.execute(sa.select(table).limit(limit * 3)).mappings()]
        return wm.choose(mark, rows, key_of, limit)


def fields_of(source: Source, package: dict[str, Any] | None = None) -> list[tuple[str, bool]]:
    """``(Chinese name, sensitive)`` of each field, in order: sensitive when the source says
    so or the catalog's field list marks it so."""
    marked = {f.get("field_name") for f in (package or {}).get("data_fields") or []
              if isinstance(f, dict) and f.get("sensitive") == "yes"}
    return [(f.zh, f.sensitive or f.zh in marked) for f in source.fields]


def available(package: dict[str, Any] | str) -> dict[str, Any]:
    """Whether a catalog resource has a sample: backed by a domain table that holds rows.
    ``{"backed", "available", "table"}``; a domain that cannot be reached counts as none."""
    source = catalog_link.source_of(package)
    if source is None:
        return {"backed": False, "available": False, "table": None}
    try:
        with store.connect() as conn:
            conn.execute(sa.text("SET LOCAL statement_timeout = 1000"))
            table = domain_table(source.table)
            has_rows = conn.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first()
    except (sa.exc.SQLAlchemyError, RuntimeError):
        has_rows = None
    return {"backed": True, "available": has_rows is not None, "table": source.table}


def sample(user: model.User, package: dict[str, Any], *, processor_id: str,
           today: dt.date | None = None) -> dict[str, Any]:
    """The viewer's sample of a catalog resource (a ``package_show`` dict), recorded as viewed
    in the caller's session (committed with it)."""
    source = catalog_link.source_of(package["id"])
    if source is None:
        raise NotFound("id", "该资源没有来自数据域的脱敏样例",
                       "This resource has no sample from the data domain")
    day = today or clock.today()
    mark = wm.marker(watermark_key(), user.id, package["id"], day)
    fields = fields_of(source, package)
    raw = draw(source, mark)
    by_zh = [{f.zh: r.get(f.column) for f in source.fields} for r in raw]
    rows = wm.sample_rows(by_zh, fields, mark)
    viewed = record_view(user, package, source, processor_id=processor_id, mark=mark, day=day,
                         row_count=len(rows))
    return {"resource": {"id": package["id"], "name": package["name"],
                         "title": package.get("title") or package["name"]},
            "source_table": source.table, "source_title": source.zh,
            "fields": [name for name, _ in fields] + [wm.WATERMARK_FIELD],
            "sensitive_fields": [name for name, s in fields if s or classify_field(name)],
            "rows": rows, "count": len(rows), "limit": wm.SAMPLE_LIMIT, "marker": mark,
            "viewer": {"id": user.id, "name": user.name, "fullname": user.fullname or user.name},
            "view_date": day.isoformat(), "viewed_at": viewed.isoformat(),
            "viewed_at_display": clock.format_datetime(viewed)}


def record_view(user: model.User, package: dict[str, Any], source: Source, *,
                processor_id: str, mark: str, day: dt.date, row_count: int) -> dt.datetime:
    now = clock.now_utc()
    model.Session.execute(views.insert().values(
        user_id=user.id, user_name=user.name, processor_id=processor_id,
        package_id=package["id"], package_name=package["name"], source_table=source.table,
        marker=mark, view_date=day, row_count=row_count, viewed_at=now))
    return now


def _view(row: Any, check: bool = False) -> dict[str, Any]:
    user = model.Session.get(model.User, row["user_id"])
    pkg = model.Session.get(model.Package, row["package_id"])
    out = {"id": row["id"], "user_id": row["user_id"], "user_name": row["user_name"],
           "user_fullname": (user.fullname or user.name) if user else row["user_name"],
           "package_id": row["package_id"], "package_name": row["package_name"],
           "package_title": (pkg.title or pkg.name) if pkg else row["package_name"],
           "source_table": row["source_table"], "marker": row["marker"],
           "view_date": row["view_date"].isoformat(), "row_count": row["row_count"],
           "viewed_at": row["viewed_at"].isoformat(),
           "viewed_at_display": clock.format_datetime(row["viewed_at"])}
    if check:
        out["verified"] = wm.marker(watermark_key(), row["user_id"], row["package_id"],
                                    row["view_date"]) == row["marker"]
    return out


def trace(text: Any) -> dict[str, Any]:
    """Who viewed which resource when under the marker ``text`` (as copied from a leaked
    sample). ``verified`` says the marker recomputes from the view with this site's key."""
    mark = wm.normalize_marker(text)
    if mark is None:
        raise DomainError("marker", "水印标识格式不正确，应形如 SY-1A2B-3C4D-5E6F-7A8B",
                          "Not a sample marker: expected something like SY-1A2B-3C4D-5E6F-7A8B")
    rows = model.Session.execute(sa.select(views).where(views.c.marker == mark)
                                 .order_by(views.c.id)).mappings().all()
    found = [_view(r, check=True) for r in rows]
    return {"marker": mark, "found": bool(found), "views": found}


def view_list(*, user_id: str | None = None, package_id: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Recorded views, newest first, optionally of one user and/or one resource."""
    stmt = sa.select(views)
    count = sa.select(sa.func.count()).select_from(views)
    for column, value in ((views.c.user_id, user_id), (views.c.package_id, package_id)):
        if value:
            stmt, count = stmt.where(column == value), count.where(column == value)
    total = int(model.Session.execute(count).scalar_one())
    rows = model.Session.execute(stmt.order_by(views.c.id.desc()).limit(limit)
                                 .offset(offset)).mappings()
    return total, [_view(r) for r in rows]
