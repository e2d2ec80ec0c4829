"""The default search backend: PostgreSQL, in the database CKAN already uses.

One row per dataset in ``sanyi_search_doc`` (migration 0001). Matching uses GIN indexes:
``terms`` (``field=value`` strings) for exact filters, ``tsv`` (jieba-segmented words,
weighted A title > B tags/unit/keywords > C description > D other text) for full text,
and a trigram index on ``title`` for autocomplete. Writes go through the caller's
session, so an index row commits or rolls back with the dataset it describes.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from sqlalchemy import text

from . import syntax as s
from .backend import PreparedDoc, SearchRequest, SearchResult, term, tsquery_text

TABLE = "sanyi_search_doc"
_SORT_COLUMNS = {
    "metadata_modified": "metadata_modified", "metadata_created": "metadata_created",
    "title_string": "title_sort", "name": "name", "title": "title_sort",
}
_UPSERT = text(f"""
INSERT INTO {TABLE} (index_id, id, site_id, name, title, title_sort, metadata_created,
    metadata_modified, doc, data_dict, validated_data_dict, terms, facets, tsv)
VALUES (:index_id, :id, :site_id, :name, :title, :title_sort, :created, :modified,
    CAST(:doc AS jsonb), :data_dict, :validated_data_dict, CAST(:terms AS text[]),
    CAST(:facets AS text[]),
    setweight(to_tsvector('simple', :ta), 'A') || setweight(to_tsvector('simple', :tb), 'B')
    || setweight(to_tsvector('simple', :tc), 'C') || setweight(to_tsvector('simple', :td), 'D'))
ON CONFLICT (index_id) DO UPDATE SET id = EXCLUDED.id, site_id = EXCLUDED.site_id,
    name = EXCLUDED.name, title = EXCLUDED.title, title_sort = EXCLUDED.title_sort,
    metadata_created = EXCLUDED.metadata_created, metadata_modified = EXCLUDED.metadata_modified,
    doc = EXCLUDED.doc, data_dict = EXCLUDED.data_dict,
    validated_data_dict = EXCLUDED.validated_data_dict, terms = EXCLUDED.terms,
    facets = EXCLUDED.facets, tsv = EXCLUDED.tsv
""")


def _ts(value: str | None) -> str | None:
    if not value:
        return None
    return value[:-1] if value.endswith("Z") else value


class _Compiler:
    """Turn a syntax tree into a SQL boolean expression with bound parameters."""

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def sql(self, node: s.Node) -> str:
        if isinstance(node, s.MatchAll):
            return "TRUE"
        if isinstance(node, s.Term):
            return f"d.terms @> CAST({self.bind([term(node.field, node.value)])} AS text[])"
        if isinstance(node, s.Text):
            return self.text(node)
        if isinstance(node, s.Prefix):
            pattern = term(node.field, _like_escape(node.prefix)) + "%"
            return (f"EXISTS (SELECT 1 FROM unnest(d.terms) t "
                    f"WHERE t LIKE {self.bind(pattern)})")
        if isinstance(node, s.Range):
            return self.range(node)
        if isinstance(node, s.Not):
            return f"NOT ({self.sql(node.child)})"
        if isinstance(node, s.Or):
            terms = [c for c in node.children if isinstance(c, s.Term)]
            if len(terms) == len(node.children):  # field:(a OR b): one array overlap
                values = [term(t.field, t.value) for t in terms]
                return f"d.terms && CAST({self.bind(values)} AS text[])"
            return "(" + " OR ".join(self.sql(c) for c in node.children) + ")"
        if isinstance(node, s.And):
            return "(" + " AND ".join(self.sql(c) for c in node.children) + ")"
        raise TypeError(f"unknown node {node!r}")

    def text(self, node: s.Text) -> str:
        if node.field in ("title_ngram", "name_ngram"):
            column = "d.title" if node.field == "title_ngram" else "d.name"
            return f"{column} ILIKE {self.bind('%' + _like_escape(node.value) + '%')}"
        query = tsquery_text(node.value, node.field)
        if query is None:
            return "TRUE"
        return f"d.tsv @@ to_tsquery('simple', {self.bind(query)})"

    def range(self, node: s.Range) -> str:
        column = _SORT_COLUMNS.get(node.field)
        expr = f"d.{column}" if column else f"(d.doc->>{self.bind(node.field)})"
        parts = []
        for bound, op in ((node.low, ">=" if node.include_low else ">"),
                          (node.high, "<=" if node.include_high else "<")):
            if bound is None:
                continue
            value: Any = _ts(_now(bound)) if column in ("metadata_created",
                                                        "metadata_modified") else bound
            if column in ("metadata_created", "metadata_modified"):
                parts.append(f"{expr} {op} CAST({self.bind(value)} AS timestamptz)")
            else:
                parts.append(f"{expr} {op} {self.bind(value)}")
        return "(" + " AND ".join(parts) + ")" if parts else f"{expr} IS NOT NULL"


def _now(value: str) -> str:
    if value.upper().startswith("NOW"):
        return dt.datetime.utcnow().isoformat()
    return value


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class PostgresBackend:
    """SearchBackend on PostgreSQL; ``session`` returns the SQLAlchemy session to use."""

    def __init__(self, session: Callable[[], Any]):
        self._session = session

    def add(self, docs: list[PreparedDoc]) -> None:
        if not docs:
            return
        rows = [{
            "index_id": d.index_id, "id": d.id, "site_id": d.site_id, "name": d.name,
            "title": d.title, "title_sort": (d.title or "").strip().lower(),
            "created": _ts(d.metadata_created), "modified": _ts(d.metadata_modified),
            "doc": json.dumps(d.doc, ensure_ascii=False),
            "data_dict": d.blobs.get("data_dict"),
            "validated_data_dict": d.blobs.get("validated_data_dict"),
            "terms": d.terms, "facets": d.facets,
            "ta": d.weighted_text["A"], "tb": d.weighted_text["B"],
            "tc": d.weighted_text["C"], "td": d.weighted_text["D"],
        } for d in docs]
        self._session().execute(_UPSERT, rows)

    def delete(self, query: s.Node) -> int:
        c = _Compiler()
        where = c.sql(query)
        result = self._session().execute(text(f"DELETE FROM {TABLE} d WHERE {where}"), c.params)
        return result.rowcount

    def commit(self) -> None:
        self._session().commit()

    def search(self, req: SearchRequest) -> SearchResult:
        c = _Compiler()
        where = c.sql(req.query)
        rank_queries = [q for q in (tsquery_text(v) for v in req.rank_texts) if q]
        if rank_queries:
            score = f"ts_rank(d.tsv, to_tsquery('simple', {c.bind(' & '.join(rank_queries))}))"
        else:
            score = "1.0"
        order = ", ".join(_order(f, desc) for f, desc in req.sort) or "score DESC"
        doc_col = ", d.doc" if "doc->>" in order else ""
        want_facets = bool(req.facet_fields)
        facets_cte = (",\n fc AS (SELECT t, count(*) AS n FROM m, unnest(m.facets) t GROUP BY t)"
                      if want_facets else "")
        facets_sel = ("(SELECT coalesce(json_agg(json_build_array(t, n)), '[]') FROM fc)"
                      if want_facets else "'[]'::json")
        sql = f"""
WITH m AS MATERIALIZED (
    SELECT d.index_id, d.facets, {score} AS score, d.metadata_modified, d.metadata_created,
           d.title_sort, d.name{doc_col}
    FROM {TABLE} d WHERE {where}),
 page AS (SELECT index_id, score, row_number() OVER () AS pos FROM
          (SELECT index_id, score FROM m ORDER BY {order}, index_id
           LIMIT {c.bind(max(req.rows, 0))} OFFSET {c.bind(max(req.start, 0))}) x){facets_cte}
SELECT (SELECT count(*) FROM m) AS hits,
       (SELECT coalesce(json_agg(json_build_array(index_id, score) ORDER BY pos), '[]')
        FROM page) AS page,
       {facets_sel} AS facets"""
        row = self._session().execute(text(sql), c.params).one()
        page = row.page if isinstance(row.page, list) else json.loads(row.page)
        docs = self._fetch([p[0] for p in page], {p[0]: p[1] for p in page}, req.fields)
        raw = row.facets if isinstance(row.facets, list) else json.loads(row.facets)
        return SearchResult(hits=row.hits, docs=docs,
                            facets=_facet_counts(raw, req))

    def _fetch(self, ids: list[str], scores: dict[str, float],
               fields: tuple[str, ...]) -> list[dict[str, Any]]:
        if not ids:
            return []
        blobs = [b for b in ("data_dict", "validated_data_dict") if b in fields or "*" in fields]
        cols = ", ".join(["index_id", "doc"] + blobs)
        rows = self._session().execute(
            text(f"SELECT {cols} FROM {TABLE} WHERE index_id = ANY(:ids)"), {"ids": ids}).all()
        by_id = {r.index_id: r for r in rows}
        out = []
        for index_id in ids:
            r = by_id.get(index_id)
            if r is None:
                continue
            doc = dict(r.doc)
            for b in blobs:
                doc[b] = getattr(r, b)
            doc["score"] = scores.get(index_id)
            if "*" not in fields:
                doc = {k: v for k, v in doc.items() if k in fields}
            out.append(doc)
        return out


def _order(field_name: str, desc: bool) -> str:
    direction = "DESC NULLS LAST" if desc else "ASC NULLS LAST"
    if field_name == "score":
        return f"score {direction}"
    column = _SORT_COLUMNS.get(field_name)
    if column:
        return f"{column} {direction}"
    safe = field_name.replace("'", "")
    return f"(doc->>'{safe}') {direction}"


def _facet_counts(raw: list[list[Any]], req: SearchRequest) -> dict[str, dict[str, int]]:
    wanted = set(req.facet_fields)
    grouped: dict[str, list[tuple[str, int]]] = {f: [] for f in req.facet_fields}
    for t, n in raw:
        field_name, _, value = t.partition("=")
        if field_name in wanted and n >= req.facet_mincount:
            grouped[field_name].append((value, n))
    out: dict[str, dict[str, int]] = {}
    for field_name, items in grouped.items():
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        if req.facet_limit >= 0:
            items = items[:req.facet_limit]
        out[field_name] = dict(items)
    return out
