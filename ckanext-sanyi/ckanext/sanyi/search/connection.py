"""A stand-in for the pysolr connection CKAN's search layer talks to.

``ckan.lib.search`` calls ``make_connection()`` and then ``add``/``delete``/``commit``/
``search`` with Solr parameters. This object accepts exactly those calls and answers them
from a ``SearchBackend``, so CKAN's own document building, ``before_dataset_index`` hooks,
permission labels and result handling all keep working unchanged.
"""
from __future__ import annotations

import contextvars
import datetime as dt
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from . import syntax
from .backend import SearchBackend, SearchRequest, prepare

log = logging.getLogger(__name__)

# While set (``batched_writes``), added documents wait here and go to the backend together.
_pending: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "sanyi_search_pending", default=None)


@contextmanager
def batched_writes(backend_getter) -> Iterator[None]:
    """Collect ``add`` calls made inside the block and send them as one batch at its end
    (or before a delete, so a delete never overtakes an earlier add)."""
    if _pending.get() is not None:  # nested: the outer block flushes
        yield
        return
    buf: list = []
    token = _pending.set(buf)
    try:
        yield
        _flush(backend_getter())
    finally:
        _pending.reset(token)


def _flush(backend: SearchBackend) -> None:
    buf = _pending.get()
    if buf:
        docs = list(buf)
        buf.clear()
        backend.add(docs)


@dataclass
class Results:
    """The parts of ``pysolr.Results`` that CKAN reads."""
    docs: list[dict[str, Any]]
    hits: int
    facets: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.docs)

    def __iter__(self):
        return iter(self.docs)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None]
    return [str(value)]


_SORT_FIELD = re.compile(r"^[A-Za-z0-9_]+$")


class SortError(syntax.QuerySyntaxError):
    """A sort on a field that cannot be a field name (CKAN answers it with 409, as Solr)."""


def parse_sort(value: str | None) -> tuple[tuple[str, bool], ...]:
    """'score desc, metadata_modified desc' -> (('score', True), ...).

    A field name is letters, digits and ``_`` only; anything else is refused (as Solr refuses
    a sort on a field it does not know), so no sort value ever reaches a backend unchecked.
    """
    out = []
    for part in syntax.check_text(value or "", "sort").split(","):
        bits = part.split()
        if not bits:
            continue
        if len(bits) > 2 or not _SORT_FIELD.match(bits[0]):
            raise SortError(f"Can't sort by {part.strip()!r}",
                                            f"无法按 {part.strip()!r} 排序")
        if len(bits) < 2:  # as Solr: a sort needs its order
            raise SortError(f"Missing sort order in {part.strip()!r}",
                            f"排序 {part.strip()!r} 缺少方向（asc 或 desc）")
        direction = bits[1].lower()
        if direction not in ("asc", "desc"):
            raise syntax.QuerySyntaxError(f"Unknown sort order {part!r}", f"未知的排序方向 {part!r}")
        out.append((bits[0], direction == "desc"))
    return tuple(out) or (("score", True),)


def _whole(params: dict[str, Any], key: str, default: int) -> int:
    raw = params.get(key, default)
    if raw in (None, ""):
        return default
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise syntax.QuerySyntaxError(f"{key} must be a whole number", f"{key} 须为整数")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise syntax.QuerySyntaxError(f"{key} must be a whole number: {raw!r}",
                                       f"{key} 须为整数：{raw!r}") from None
    if value < 0 and key in ("rows", "start"):
        raise syntax.QuerySyntaxError(f"{key} must not be negative", f"{key} 不能为负数")
    return value


def build_request(q: str | None, params: dict[str, Any]) -> SearchRequest:
    if q is not None and not isinstance(q, str):
        raise syntax.QuerySyntaxError("q must be text", "q 须为文本")
    q_node = syntax.parse(q if q not in (None, "*:*") else None)
    q_node = syntax.min_should_match(q_node, q)
    filters = [syntax.parse(f) for f in _as_list(params.get("fq"))]
    facet_on = str(params.get("facet", "false")).lower() == "true"
    fl = " ".join(_as_list(params.get("fl"))) or "*"  # Solr returns every stored field
    return SearchRequest(
        query=syntax.conjoin([q_node, *filters]),
        rank_texts=tuple(t.value for t in syntax.text_values(q_node) if not t.field
                         or t.field in ("title", "notes", "text")),
        facet_fields=tuple(syntax.check_text(f, "facet.field")
                           for f in _as_list(params.get("facet.field"))) if facet_on else (),
        facet_limit=_whole(params, "facet.limit", 50) or 50,
        facet_mincount=_whole(params, "facet.mincount", 1) or 1,
        sort=parse_sort(params.get("sort")),
        rows=_whole(params, "rows", 10),
        start=_whole(params, "start", 0),
        fields=tuple(f for f in syntax.check_text(fl, "fl").replace(",", " ").split() if f),
    )


class SolrCompatConnection:
    url = "sanyi-search://backend"

    def __init__(self, backend: SearchBackend, facet_fields: Iterable[str],
                 decode_dates: bool = False):
        self.backend = backend
        self.facet_fields = tuple(facet_fields)
        self.decode_dates = decode_dates

    def add(self, docs: list[dict[str, Any]], commit: bool | None = None, **_: Any) -> None:
        prepared = [prepare(_solr_dates(d), self.facet_fields) for d in docs]
        buf = _pending.get()
        if buf is not None:
            buf.extend(prepared)
        else:
            self.backend.add(prepared)

    def delete(self, id: str | None = None, q: str | None = None,
               commit: bool | None = None, **_: Any) -> None:
        if id is not None:
            node: syntax.Node = syntax.Term("id", id)
        elif q is not None:
            node = syntax.parse(q)
        else:
            raise ValueError("delete needs id or q")
        _flush(self.backend)
        self.backend.delete(node)

    def commit(self, **_: Any) -> None:
        self.backend.commit()

    def search(self, q: str | None = None, **params: Any) -> Results:
        from ckan.lib.search.common import SearchError, SearchQueryError
        try:
            request = build_request(q, params)
            result = self.backend.search(request)  # may refuse, e.g. a sort it cannot do
        except SortError as e:
            raise SearchError(_message(e)) from e
        except (syntax.QuerySyntaxError, ValueError) as e:
            raise SearchQueryError(_message(e)) from e
        facet_fields = {f: [x for kv in counts.items() for x in kv]
                        for f, counts in result.facets.items()}
        if self.decode_dates:
            result.docs = [_decode_dates(d) for d in result.docs]
        return Results(docs=result.docs, hits=result.hits,
                       facets={"facet_fields": facet_fields})


# a date as Solr stores and returns it (pysolr.DATETIME_REGEX)
_SOLR_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$")


def _is_date_field(key: str) -> bool:
    return key in ("metadata_created", "metadata_modified") or key.endswith("_date")


_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")


def _solr_dates(doc: dict[str, Any]) -> dict[str, Any]:
    """Dates of Solr date fields as Solr keeps them: in UTC, to the millisecond
    (``2014-06-10T08:24:12.782257Z`` -> ``2014-06-10T08:24:12.782Z``,
    ``2019-10-10T09:15:00+08:00`` -> ``2019-10-10T01:15:00Z``); date and datetime values
    (a document read back with decoded dates) as Solr date strings."""
    out = None
    for key, value in doc.items():
        if isinstance(value, dt.date):  # as pysolr sends dates and datetimes
            if not isinstance(value, dt.datetime):
                value = dt.datetime(value.year, value.month, value.day)
            elif value.tzinfo is not None:
                value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
            value = value.isoformat() + "Z"
            out = out if out is not None else dict(doc)
            out[key] = value
        if not (isinstance(value, str) and _is_date_field(key)):
            continue
        new = value
        if _ISO_OFFSET.match(value):
            utc = dt.datetime.fromisoformat(value).astimezone(dt.timezone.utc)
            new = utc.replace(tzinfo=None).isoformat() + "Z"
        m = _SOLR_DATE.match(new)
        if m and m.group(7) and len(m.group(7)) > 4:
            ms = m.group(7)[1:4].rstrip("0")
            new = new[:m.start(7)] + (f".{ms}" if ms else "") + "Z"
        if new != value:
            out = out if out is not None else dict(doc)
            out[key] = new
    return doc if out is None else out


def _decode_dates(doc: dict[str, Any]) -> dict[str, Any]:
    """Stored date strings as datetimes, as CKAN's ``make_connection(decode_dates=True)``
    decodes Solr's answer (``solr_datetime_decoder``: to the second, naive)."""
    out = dict(doc)
    for key, value in doc.items():
        if isinstance(value, str):
            m = _SOLR_DATE.match(value)
            if m:
                out[key] = dt.datetime(*(int(g) for g in m.groups()[:6]))
    return out


def _message(err: Exception) -> str:
    """A refused query's reason, Chinese first (as every user-facing error here)."""
    en = str(err)
    zh = getattr(err, "zh", None) or en
    return f"搜索条件无效：{zh} / Invalid search: {en}"
