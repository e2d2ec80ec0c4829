"""The Elasticsearch search backend (``ckanext.sanyi.search.backend = elasticsearch``).

Same protocol as ``postgres.PostgresBackend``: the Solr-syntax tree from ``syntax.py`` is
compiled to the Elasticsearch query DSL, facets become ``terms`` aggregations, sort and paging
map to ``sort``/``from``/``size``, writes use the bulk API and deletes ``delete_by_query``.

Documents are the backend-neutral ``PreparedDoc`` (backend.py): jieba has already segmented
the text, so the text fields use the ``whitespace`` analyzer (no Chinese analysis plug-in
needed on the server), one field per relevance weight (A title ... D other text), boosted at
query time as the PostgreSQL ranking weights them.

Everything that builds requests or reads responses is a pure function (``compile_query``,
``search_body``, ``bulk_operations``, ``mapping``, ``read_result``), unit-tested without a
server (tests/unit/test_search_elastic.py). This backend has not been run against a real
Elasticsearch server in this project.

Differences from the PostgreSQL backend: writes are not part of CKAN's database
transaction (a dataset write that rolls back after indexing leaves its new index document
until the next write or rebuild), and ``commit`` refreshes the index.
"""
from __future__ import annotations

import re
from typing import Any

from . import syntax as s
from .backend import (
    ALL_DOCS,
    COLUMN_FIELDS,
    FIELD_WEIGHTS,
    LABELS_FIELD,
    PreparedDoc,
    SearchRequest,
    SearchResult,
    query_words,
    term,
)

# query-time boosts of the weighted text fields (PostgreSQL ts_rank weights 1.0/0.4/0.2/0.1)
TEXT_FIELDS = {"A": "text_a", "B": "text_b", "C": "text_c", "D": "text_d"}
BOOSTS = {"A": 10, "B": 4, "C": 2, "D": 1}
_SORT_FIELDS = {
    "metadata_modified": "metadata_modified", "metadata_created": "metadata_created",
    "title_string": "title_sort", "title": "title_sort", "name": "name", "id": "id",
    "index_id": "index_id",
}
_TIME = ("metadata_created", "metadata_modified")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def mapping() -> dict[str, Any]:
    """Index settings and mappings (created by ``ensure_index``)."""
    text = {"type": "text", "analyzer": "whitespace"}
    return {
        "settings": {"number_of_shards": 1},
        "mappings": {
            "dynamic": False,
            "properties": {
                "index_id": {"type": "keyword"}, "id": {"type": "keyword"},
                "site_id": {"type": "keyword"}, "name": {"type": "keyword"},
                "title": {"type": "keyword", "index": False},
                "title_sort": {"type": "keyword"},
                "metadata_created": {"type": "date"}, "metadata_modified": {"type": "date"},
                "terms": {"type": "keyword"}, "facets": {"type": "keyword"},
                **{f: {"type": "keyword"} for f in COLUMN_FIELDS},
                "labels": {"type": "keyword"},
                **{f: text for f in TEXT_FIELDS.values()},
                "doc": {"type": "object", "enabled": False},
                "data_dict": {"type": "keyword", "index": False, "doc_values": False},
                "validated_data_dict": {"type": "keyword", "index": False, "doc_values": False},
            },
        },
    }


def source(d: PreparedDoc) -> dict[str, Any]:
    """The Elasticsearch document for a prepared CKAN index document."""
    return {
        "index_id": d.index_id, "id": d.id, "site_id": d.site_id, "name": d.name,
        "title": d.title, "title_sort": d.title_sort,
        "metadata_created": _date(d.metadata_created),
        "metadata_modified": _date(d.metadata_modified),
        "terms": d.terms, "facets": d.facets,
        **{k: d.columns.get(k) for k in COLUMN_FIELDS},
        "labels": d.columns.get(LABELS_FIELD) or [],
        **{TEXT_FIELDS[w]: v for w, v in d.weighted_text.items()},
        "doc": d.doc, "data_dict": d.blobs.get("data_dict"),
        "validated_data_dict": d.blobs.get("validated_data_dict"),
    }


def bulk_operations(index: str, docs: list[PreparedDoc]) -> list[dict[str, Any]]:
    """The ``operations`` of one bulk request indexing ``docs`` (id: the CKAN index_id)."""
    ops: list[dict[str, Any]] = []
    for d in docs:
        ops.append({"index": {"_index": index, "_id": d.index_id}})
        ops.append(source(d))
    return ops


def _date(value: str | None) -> str | None:
    return value or None


# ------------------------------------------------------------------------------ queries
def _exact(field_name: str, values: list[str]) -> dict[str, Any]:
    """term/terms query on the right keyword field for a Solr field."""
    if field_name in COLUMN_FIELDS or field_name in ("id", "name", "index_id", "site_id"):
        target, vals = field_name, values
    elif field_name == LABELS_FIELD:
        target, vals = "labels", values
    else:
        target, vals = "terms", [term(field_name, v) for v in values]
    if len(vals) == 1:
        return {"term": {target: vals[0]}}
    return {"terms": {target: vals}}


def _text(node: s.Text) -> dict[str, Any]:
    words = query_words(node.value, node.field)
    if not words:
        return {"match_all": {}}
    weight = FIELD_WEIGHTS.get(node.field or "", "")
    fields = [f"{TEXT_FIELDS[weight]}^{BOOSTS[weight]}"] if weight else \
        [f"{TEXT_FIELDS[w]}^{b}" for w, b in BOOSTS.items()]
    if node.phrase and len(words) > 1:
        # the words in order in the indexed token stream (positions approximate the text's:
        # PostgreSQL's vectors keep the exact ones)
        return {"multi_match": {"query": " ".join(t for t, _ in words), "fields": fields,
                                "type": "phrase"}}
    must = []
    for tok, prefix in words:
        if prefix:
            must.append({"bool": {"should": [
                {"prefix": {f.split("^")[0]: {"value": tok, "boost": float(f.split("^")[1])}}}
                for f in fields], "minimum_should_match": 1}})
        else:
            must.append({"multi_match": {"query": tok, "fields": fields,
                                         "type": "best_fields", "operator": "and"}})
    return must[0] if len(must) == 1 else {"bool": {"must": must}}


def _range(node: s.Range) -> dict[str, Any]:
    from .syntax import solr_date
    bounds: dict[str, Any] = {}
    column = _SORT_FIELDS.get(node.field)
    if column in _TIME:
        for b, key in ((node.low, "gte" if node.include_low else "gt"),
                       (node.high, "lte" if node.include_high else "lt")):
            if b is not None:
                bounds[key] = solr_date(b)
        return {"range": {column: bounds}} if bounds else {"exists": {"field": column}}
    # other fields: a range of their "field=value" terms (string order; ISO dates compare
    # correctly); "field=" .. "field>" spans every value of the field
    prefix = node.field + "="
    lo, hi = (solr_date(b) if b is not None and b.upper().startswith("NOW") else b
              for b in (node.low, node.high))
    low = prefix + lo if lo is not None else prefix
    high = prefix + hi if hi is not None else node.field + ">"
    bounds["gte" if node.include_low or node.low is None else "gt"] = low
    bounds["lte" if node.include_high and node.high is not None else "lt"] = high
    return {"range": {"terms": bounds}}


def compile_query(node: s.Node) -> dict[str, Any]:
    """Compile a syntax tree to an Elasticsearch query. Text is scored (``must``); exact
    terms, prefixes and ranges are filters (no score), as in Solr's dismax + fq."""
    if isinstance(node, s.MatchAll):
        return {"match_all": {}}
    if isinstance(node, s.Term):
        return _exact(node.field, [node.value])
    if isinstance(node, s.Text):
        return _text(node)
    if isinstance(node, s.Prefix):
        if node.prefix == "":
            return {"prefix": {"terms": node.field + "="}}
        return {"prefix": {"terms": term(node.field, node.prefix)}}
    if isinstance(node, s.Range):
        return _range(node)
    if isinstance(node, s.Not):
        return {"bool": {"must_not": [compile_query(node.child)]}}
    if isinstance(node, s.AtLeast):
        return {"bool": {"should": [compile_query(c) for c in node.children],
                         "minimum_should_match": node.k}}
    if isinstance(node, s.Or):
        by_field: dict[str, list[str]] = {}
        should = []
        for c in node.children:
            if isinstance(c, s.Term):
                by_field.setdefault(c.field, []).append(c.value)
            else:
                should.append(compile_query(c))
        should = [_exact(f, v) for f, v in by_field.items()] + should
        if len(should) == 1:
            return should[0]
        return {"bool": {"should": should, "minimum_should_match": 1}}
    if isinstance(node, s.And):
        must, filt, must_not = [], [], []
        for c in node.children:
            if isinstance(c, s.MatchAll):
                continue
            if isinstance(c, s.Not):
                must_not.append(compile_query(c.child))
            elif _scored(c):
                must.append(compile_query(c))
            else:
                filt.append(compile_query(c))
        body: dict[str, Any] = {}
        if must:
            body["must"] = must
        if filt:
            body["filter"] = filt
        if must_not:
            body["must_not"] = must_not
        return {"bool": body} if body else {"match_all": {}}
    raise TypeError(f"unknown node {node!r}")


def _scored(node: s.Node) -> bool:
    if isinstance(node, s.Text):
        return True
    if isinstance(node, (s.And, s.Or, s.AtLeast)):
        return any(_scored(c) for c in node.children)
    return False


def _sort(req: SearchRequest) -> list[Any]:
    out: list[Any] = []
    for field_name, desc in req.sort:
        order = "desc" if desc else "asc"
        if field_name == "score":
            out.append({"_score": {"order": order}})
        elif field_name in _SORT_FIELDS:
            out.append({_SORT_FIELDS[field_name]: {"order": order, "missing": "_last"}})
        else:
            raise s.QuerySyntaxError(f"cannot sort on {field_name!r}")
    out.append({"index_id": {"order": "asc"}})
    return out


def _facet_include(field_name: str) -> str:
    # Lucene regular expression matching "field=<anything>"
    return re.sub(r'([.?+*|{}\[\]()"\\#@&<>~])', r"\\\1", field_name) + "=.*"


def search_body(req: SearchRequest) -> dict[str, Any]:
    """The body of the ``search`` request answering ``req``."""
    body: dict[str, Any] = {
        "query": compile_query(req.query),
        "sort": _sort(req),
        "from": max(req.start, 0),
        "size": max(req.rows, 0),
        "track_total_hits": True,
        "_source": _source_fields(req.fields),
    }
    if req.facet_fields:
        size = req.facet_limit if req.facet_limit >= 0 else 10_000
        body["aggs"] = {
            f"f:{f}": {"terms": {"field": "terms", "include": _facet_include(f),
                                 "size": max(size, 1), "min_doc_count": max(req.facet_mincount, 1),
                                 "order": [{"_count": "desc"}, {"_key": "asc"}]}}
            for f in req.facet_fields
        }
    return body


def _source_fields(fields: tuple[str, ...]) -> list[str]:
    out = ["index_id", "id"]
    if "*" in fields or set(fields) - {"id", "index_id", "score", "data_dict",
                                        "validated_data_dict"}:
        out.append("doc")
    out += [b for b in ("data_dict", "validated_data_dict") if b in fields or "*" in fields]
    return out


def read_result(req: SearchRequest, response: dict[str, Any]) -> SearchResult:
    """Map a search response to a SearchResult (docs in CKAN's index-document shape)."""
    hits = response.get("hits", {})
    total = hits.get("total", 0)
    total = total.get("value", 0) if isinstance(total, dict) else int(total)
    docs = []
    for h in hits.get("hits", []):
        src = h.get("_source", {})
        doc = dict(src.get("doc") or {})
        doc.setdefault("id", src.get("id"))
        doc.setdefault("index_id", src.get("index_id", h.get("_id")))
        for b in ("data_dict", "validated_data_dict"):
            if b in src:
                doc[b] = src[b]
        doc["score"] = h.get("_score")
        if "*" not in req.fields:
            doc = {k: v for k, v in doc.items() if k in req.fields}
        docs.append(doc)
    facets: dict[str, dict[str, int]] = {}
    aggs = response.get("aggregations", {})
    for f in req.facet_fields:
        buckets = aggs.get(f"f:{f}", {}).get("buckets", [])
        items = [(b["key"].partition("=")[2], int(b["doc_count"])) for b in buckets
                 if b["key"] != ALL_DOCS and b["doc_count"] >= req.facet_mincount]
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        if req.facet_limit >= 0:
            items = items[:req.facet_limit]
        facets[f] = dict(items)
    return SearchResult(hits=total, docs=docs, facets=facets)


# ------------------------------------------------------------------------------ backend
class ElasticsearchBackend:
    """SearchBackend on an Elasticsearch server (client: the ``elasticsearch`` package)."""

    def __init__(self, client: Any, index: str):
        self.client = client
        self.index = index
        self._ready = False

    @classmethod
    def from_config(cls, config: Any) -> "ElasticsearchBackend":
        from elasticsearch import Elasticsearch
        url = config.get("ckanext.sanyi.search.elasticsearch_url") or "http://127.0.0.1:9200"
        index = config.get("ckanext.sanyi.search.elasticsearch_index") or "ckan-sanyi"
        return cls(Elasticsearch(url), index)

    def ensure_index(self) -> None:
        if self._ready:
            return
        if not self.client.indices.exists(index=self.index):
            body = mapping()
            self.client.indices.create(index=self.index, settings=body["settings"],
                                       mappings=body["mappings"])
        self._ready = True

    def add(self, docs: list[PreparedDoc]) -> None:
        if not docs:
            return
        self.ensure_index()
        response = self.client.bulk(operations=bulk_operations(self.index, docs))
        if response.get("errors"):
            failed = [item for item in response.get("items", [])
                      if next(iter(item.values())).get("error")]
            raise RuntimeError(f"Elasticsearch bulk indexing failed for {len(failed)} "
                               f"document(s): {failed[:3]}")

    def delete(self, query: s.Node) -> int:
        self.ensure_index()
        response = self.client.delete_by_query(index=self.index, query=compile_query(query),
                                               refresh=True, conflicts="proceed")
        return int(response.get("deleted", 0))

    def commit(self) -> None:
        self.ensure_index()
        self.client.indices.refresh(index=self.index)

    def search(self, req: SearchRequest) -> SearchResult:
        self.ensure_index()
        response = self.client.search(index=self.index, body=search_body(req))
        body = response.body if hasattr(response, "body") else response
        return read_result(req, body)
