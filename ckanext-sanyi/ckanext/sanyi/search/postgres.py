"""The default search backend: PostgreSQL, in the database CKAN already uses.

``sanyi_search_doc`` (migrations 0001, 0003) holds one row per indexed dataset:

* matched through GIN indexes, stored out of line: ``terms`` (``field=value`` strings) for
  exact filters and ``tsv`` (jieba-segmented words, weighted A title > B tags/unit/keywords >
  C description > D other text) for full text;
* read for every matching row, kept small and inline: the visibility columns (state,
  capacity, type, permission ``labels``), ``facet_ids`` (facet values as integer ids, see
  ``FacetDictionary``), ``rank_tsv`` (title and tags: relevance) and the sort columns (with
  b-tree indexes in the order the queries use);
* read for the page of results only, out of line: the stored document and CKAN's serialized
  ``data_dict``/``validated_data_dict``.

Writes go through the caller's session, so an index row commits or rolls back with the
dataset it describes. Every write advances the index generation; results are cached per
process by generation (``ResultCache``), so a repeated search costs a dictionary lookup and
a changed index is never answered from before the change.

A search is one SQL statement; see ``PostgresBackend.compile``. The boolean expression of a
query comes from ``compiler.Compiler``; the result cache is ``cache.ResultCache``.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from . import facet_store, memindex, memload
from . import syntax as s
from .backend import (
    ALL_DOCS,
    COLUMN_FIELDS,
    LABELS_FIELD,
    PreparedDoc,
    SearchRequest,
    SearchResult,
    tsquery_text,
)
from .cache import ResultCache, _freeze
from .compiler import (
    MAX_ROW,
    TABLE,
    Compiler,
    _like_escape,
    _order,
    _ts,
)

log = logging.getLogger(__name__)

_UPSERT = text(f"""
INSERT INTO {TABLE} AS t (index_id, id, site_id, name, title, title_sort, metadata_created,
    metadata_modified, terms, facet_ids, state, capacity, dataset_type, entity_type, labels,
    tsv, rank_tsv, doc, data_dict, validated_data_dict)
SELECT index_id, id, site_id, name, title, title_sort, created, modified, terms, facet_ids,
    state, capacity, dataset_type, entity_type, coalesce(labels, '{{}}'),
    setweight(CAST(ta AS tsvector), 'A') || setweight(CAST(tb AS tsvector), 'B')
    || setweight(CAST(tc AS tsvector), 'C') || setweight(CAST(td AS tsvector), 'D')
    || array_to_tsvector(terms),
    setweight(CAST(ta AS tsvector), 'A') || setweight(CAST(tr AS tsvector), 'B'),
    doc, data_dict, validated_data_dict
FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS x(
    index_id text, id text, site_id text, name text, title text, title_sort text,
    created timestamptz, modified timestamptz, terms text[], facet_ids int[],
    ta text, tb text, tc text, td text, tr text, state text, capacity text,
    dataset_type text, entity_type text, labels text[],
    doc jsonb, data_dict text, validated_data_dict text)
ON CONFLICT (index_id) DO UPDATE SET id = EXCLUDED.id, site_id = EXCLUDED.site_id,
    name = EXCLUDED.name, title = EXCLUDED.title, title_sort = EXCLUDED.title_sort,
    metadata_created = EXCLUDED.metadata_created,
    metadata_modified = EXCLUDED.metadata_modified,
    terms = EXCLUDED.terms, facet_ids = EXCLUDED.facet_ids, state = EXCLUDED.state,
    capacity = EXCLUDED.capacity, dataset_type = EXCLUDED.dataset_type,
    entity_type = EXCLUDED.entity_type, labels = EXCLUDED.labels, tsv = EXCLUDED.tsv,
    rank_tsv = EXCLUDED.rank_tsv, doc = EXCLUDED.doc, data_dict = EXCLUDED.data_dict,
    validated_data_dict = EXCLUDED.validated_data_dict
""")
FACET_VALUES = "sanyi_search_facet_value"
# the identity of the table's contents: its file node changes with a reset database and with
# a TRUNCATE (which may reassign every id), not with inserts
_FACET_OID = f"pg_relation_filenode(CAST('{FACET_VALUES}' AS regclass))"


class FacetDictionary:
    """Facet values ("field=value") <-> the integer ids ``facet_ids`` holds.

    Ids are assigned in their own, immediately committed transaction, so an id never goes
    away with a rolled-back dataset write and this process-wide map stays true. The map is
    dropped when the table's contents are no longer the ones it learnt (the table's file
    node changed: a reset database, or a TRUNCATE that started the ids again).
    """

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._terms: dict[int, str] = {}
        self._oid: int | None = None
        self._lock = threading.Lock()

    def sync(self, oid: int) -> None:
        with self._lock:
            if oid != self._oid:
                self._ids.clear()
                self._terms.clear()
                self._oid = oid

    def _learn(self, rows: Any) -> None:
        with self._lock:
            for i, t in rows:
                self._ids[t] = i
                self._terms[i] = t

    def ids(self, session: Any, terms: set[str]) -> dict[str, int]:
        self.sync(session.execute(text(f"SELECT {_FACET_OID}")).scalar())
        missing = sorted(t for t in terms if t not in self._ids)
        if missing:
            with session.get_bind().connect() as conn:
                conn.execute(text(f"INSERT INTO {FACET_VALUES} (term) "
                                  f"SELECT unnest(CAST(:t AS text[])) ON CONFLICT (term) DO NOTHING"),
                             {"t": missing})
                self._learn(conn.execute(text(f"SELECT id, term FROM {FACET_VALUES} "
                                              f"WHERE term = ANY(:t)"), {"t": missing}))
                conn.commit()
        return {t: self._ids[t] for t in terms}

    def terms(self, session: Any, ids: set[int]) -> dict[int, str]:
        missing = [i for i in ids if i not in self._terms]
        if missing:
            self._learn(session.execute(text(f"SELECT id, term FROM {FACET_VALUES} "
                                             f"WHERE id = ANY(:i)"), {"i": missing}))
        return {i: self._terms[i] for i in ids if i in self._terms}


DIRTY = "sanyi_search_dirty"  # session.info flag: this transaction wrote to the index
# For the rest of the search's transaction: no JIT compilation (it costs 20-100 ms the first
# time a big plan runs, far more than the search) and room to keep a large match set in
# memory. Then the index generation and the facet dictionary's identity.
_SETUP = "SET LOCAL jit = off; SET LOCAL work_mem = '32MB'"
_GENERATION = text(f"{_SETUP}; SELECT last_value, "
                   f"CAST(CAST('sanyi_search_generation' AS regclass) AS oid), {_FACET_OID} "
                   f"FROM sanyi_search_generation")
_NO_JIT = text(_SETUP)


class PostgresBackend:
    """SearchBackend on PostgreSQL; ``session`` returns the SQLAlchemy session to use.

    ``cache_size`` results (0: none) are kept per process for ``cache_ttl`` seconds, keyed by
    the index generation (see ``ResultCache``).
    """

    def __init__(self, session: Callable[[], Any], batch_size: int = 500,
                 cache_size: int = 512, cache_ttl: float = 300.0):
        self._session = session
        self.batch_size = batch_size
        self.cache = ResultCache(cache_size, cache_ttl)
        self.facet_values = FacetDictionary()
        self.memory = memload.MemoryState()

    def listen(self, session_class: Any) -> None:
        """Advance the generation after every commit or rollback of a session that wrote to
        the index (``session_class``: CKAN's scoped ``model.Session``)."""
        from sqlalchemy import event

        def bump(session: Any, transaction: Any) -> None:
            if transaction.parent is not None or not session.info.get(DIRTY):
                return  # a savepoint ended (the outer transaction decides), or no write
            session.info.pop(DIRTY, None)
            try:
                with session.get_bind().connect() as conn:
                    conn.execute(text("SELECT nextval('sanyi_search_generation')"))
                    conn.commit()
            except Exception:  # never fail a commit for this; the cache ttl still bounds it
                self.cache.clear()
        event.listen(session_class, "after_transaction_end", bump)

    def _wrote(self) -> None:
        self._session().info[DIRTY] = True

    # writing -------------------------------------------------------------------------
    def add(self, docs: list[PreparedDoc]) -> None:
        session = self._session()
        for start in range(0, len(docs), self.batch_size):
            chunk = docs[start:start + self.batch_size]
            ids = self.facet_values.ids(session, {t for d in chunk for t in d.facets})
            rows = [_row(d, ids) for d in chunk]
            session.execute(_UPSERT, {"rows": json.dumps(rows, ensure_ascii=False)})
        if docs:
            self._wrote()

    def delete(self, query: s.Node) -> int:
        c = Compiler()
        where = c.sql(query)
        result = self._session().execute(
            text(f"DELETE FROM {TABLE} d WHERE {where} RETURNING 1"), c.params)
        self._wrote()
        return len(result.all())

    def commit(self) -> None:
        self._session().commit()

    # searching -----------------------------------------------------------------------
    stored_facets: frozenset[str] | None = None
    facet_store = True  # answer what it can from sanyi_search_facet_count (False: count rows)
    memory_index = True  # answer what it can from the in-memory index (memindex.py)
    memory_min_hits = 1000  # smaller match sets: SQL reads their rows as fast

    def held_facets(self) -> frozenset[str]:
        """The facet fields whose values ``facet_ids`` holds (and the store counts)."""
        if self.stored_facets is None:
            from .backend import DEFAULT_FACET_FIELDS
            return frozenset(DEFAULT_FACET_FIELDS)
        return self.stored_facets

    def stores_facet(self, field_name: str) -> bool:
        return field_name in self.held_facets()

    def _only_asked(self, c: Compiler, req: SearchRequest) -> str:
        """A filter keeping the facet ids of the requested fields (and the all-documents id
        that counts the hits) when fewer fields are asked than ``facet_ids`` holds: grouping
        is the cost of counting a large match set, and every document has an id per field."""
        held = self.held_facets()
        asked = sorted(held.intersection(req.facet_fields))
        if set(asked) >= held:
            return ""
        like = "".join(f" OR v.term LIKE {c.bind(_like_escape(f) + '=%')}" for f in asked)
        return (f"WHERE u.f IN (SELECT v.id FROM {FACET_VALUES} v "
                f"WHERE v.term = {c.bind(ALL_DOCS)}{like}) ")

    def compile(self, req: SearchRequest) -> tuple[str, dict[str, Any]]:
        """The one SQL statement that answers ``req`` (also used by EXPLAIN in the bench).

        With a full-text condition, the matching rows are read once (a bitmap scan of the
        GIN indexes) into a small materialized set that the count, the facet counts and the
        ranked page all read. Without one, the count and facets are one pass and the page a
        second, separate scan, so that a large result sorted by date takes its first page
        straight from the date index.
        """
        c = Compiler()
        where = c.sql(req.query)
        rank = _rank_query(req)
        score = (f"ts_rank(d.rank_tsv, CAST({c.bind(rank)} AS tsquery))"
                 if rank else "1.0")
        orders = [o for o in (_order(c, f, desc, bool(rank)) for f, desc in req.sort) if o]
        order = ", ".join(orders + ["d.index_id"])
        blobs = _blobs(req)
        stored_cols = "".join(f", st.{b}" for b in blobs)
        stored = _stored(req, c)
        extra = [f for f in req.facet_fields if not self.stores_facet(f)]
        like = " OR ".join(f"t LIKE {c.bind(_like_escape(f) + '=%')}" for f in extra)
        limit, offset = (c.bind(min(max(n, 0), MAX_ROW)) for n in (req.rows, req.start))
        # hits and facet counts from the facet-count store when it can answer (facet_store.py)
        store = facet_store.plan(req, self.stores_facet) if self.facet_store else None
        one_pass = store is None and ("d.tsv @@" in where or bool(rank))
        src = "m d" if one_pass else f"{TABLE} d"
        cond = "TRUE" if one_pass else where
        if store is not None:
            counts = facet_store.counts_sql(c, store)
        elif req.facet_fields:
            # unnest in the select list (one ProjectSet) costs a third less than a lateral
            # function scan per matching row; only the asked fields' ids are grouped
            counts = (f"(SELECT json_agg(json_build_array(f, n)) FROM (SELECT f, count(*) AS n "
                      f"FROM (SELECT unnest(d.facet_ids) AS f FROM {src} WHERE {cond}) u "
                      f"{self._only_asked(c, req)}GROUP BY f) x)")
        else:
            counts = "NULL::json"
        hits = f"(SELECT count(*) FROM {src} WHERE {cond})" if one_pass or not req.facet_fields \
            else "NULL::bigint"
        if extra:  # facet fields not in facet_ids: counted from the terms
            rows = ("(SELECT index_id FROM m)" if one_pass else
                    f"(SELECT d.index_id FROM {TABLE} d WHERE {where})")
            extra_counts = (f"(SELECT json_agg(json_build_array(t, n)) FROM (SELECT t, count(*) AS n"
                            f" FROM (SELECT unnest(e.terms) AS t FROM {TABLE} e "
                            f"WHERE e.index_id IN {rows}) u WHERE ({like}) GROUP BY t) x)")
        else:
            extra_counts = "NULL::json"
        page = f"""(SELECT json_agg(json_build_array(p.index_id, p.score, p.id, {stored}{stored_cols})
                   ORDER BY p.pos)
   FROM (SELECT q.*, row_number() OVER () AS pos
         FROM (SELECT d.index_id, d.id, {'d.score' if one_pass else score} AS score
               FROM {src} WHERE {cond}
               ORDER BY {order} LIMIT {limit} OFFSET {offset}) q) p
   JOIN {TABLE} st ON st.index_id = p.index_id)"""
        head = ""
        if one_pass:
            head = f"""WITH m AS MATERIALIZED (
    SELECT d.index_id, d.id, d.facet_ids, {score} AS score, d.metadata_modified,
           d.metadata_created, d.title_sort, d.name
    FROM {TABLE} d WHERE {where})
"""
        sql = f"""{head}SELECT {hits} AS hits, {counts} AS counts, {extra_counts} AS extra,
  {page} AS page"""
        return sql, c.params

    def search(self, req: SearchRequest) -> SearchResult:
        sql, params = self.compile(req)
        session = self._session()
        gen = session.execute(_GENERATION).one()
        self.facet_values.sync(gen[2])
        key = None
        row = None
        if self.cache.size > 0 and not session.info.get(DIRTY):
            key = (str(session.get_bind().url), gen[1], gen[0], sql, _freeze(params))
            row = self.cache.get(key)
        if row is None and self.memory_index and not session.info.get(DIRTY) and \
                facet_store.plan(req, self.stores_facet) is None:
            row = self._from_memory(session, req)
            if row is not None and key is not None:
                self.cache.put(key, row)
        if row is None:
            r = session.execute(text(sql), params).one()
            counts = _json(r.counts) or []
            names = self.facet_values.terms(session, {f for f, _ in counts})
            raw = [(names[f], n) for f, n in counts if f in names] + \
                [tuple(x) for x in _json(r.extra) or []]
            hits = r.hits
            if hits is None:
                hits = next((n for t, n in raw if t == ALL_DOCS), 0)
            row = (hits, raw, _json(r.page))
            if key is not None:
                self.cache.put(key, row)
        return self._result(req, *row)

    def _from_memory(self, session: Any, req: SearchRequest) -> tuple[Any, Any, Any] | None:
        """``search``'s (hits, facet counts, page) from the in-memory index, or None where it
        cannot answer (memindex.Unsupported, a facet field outside ``facet_ids``, a page row
        gone or scored otherwise than by the database) or SQL reads faster (given ids)."""
        if any(not self.stores_facet(f) for f in req.facet_fields) or \
                memindex.names_documents(req.query):
            return None
        rank_query = _rank_query(req)
        rows, start = (min(max(n, 0), MAX_ROW) for n in (req.rows, req.start))
        try:
            # a savepoint: a failed statement here must not abort the request's transaction
            with self.memory.lock, session.begin_nested():
                ix = self.memory.current(session)
                if ix is None:
                    return None
                where = memindex.evaluate(req.query, Compiler().tsq)
                fids = None
                if req.facet_fields:
                    ids = set(ix.b.facets).union(*(d.facets for d in ix.overlay.values()))
                    names = self.facet_values.terms(session, ids)
                    asked = set(req.facet_fields)
                    fids = {i for i, t in names.items()
                            if t == ALL_DOCS or t.partition("=")[0] in asked}
                ans = ix.answer(where, fids, rank_query, req.sort, start, rows,
                                self.memory_min_hits)
                names = self.facet_values.terms(session, {f for f, _ in ans.facets})
                raw = [(names[f], n) for f, n in ans.facets if f in names]
                page = self._page_rows(session, req, ans.page, rank_query)
        except memindex.Unsupported:
            return None
        except DBAPIError:  # e.g. the change log's migration not applied: SQL answers
            log.exception("sanyi search: in-memory index off in this process")
            self.memory_index = False
            return None
        if page is None:
            return None
        return ans.hits, raw, page

    def _page_rows(self, session: Any, req: SearchRequest, order: list[tuple[str, float]],
                   rank_query: str | None) -> list[list[Any]] | None:
        if not order:
            return []
        c = Compiler()
        blobs = _blobs(req)
        stored = _stored(req, c)
        score = (f"ts_rank(st.rank_tsv, CAST({c.bind(rank_query)} AS tsquery))"
                 if rank_query else "NULL::real")
        ids = c.bind([iid for iid, _ in order])
        got = {r[0]: r for r in session.execute(text(
            f"SELECT st.index_id, {score}, st.id, {stored}"
            f"{''.join(f', st.{b}' for b in blobs)} FROM {TABLE} st "
            f"WHERE st.index_id = ANY(CAST({ids} AS text[]))"), c.params)}
        out = []
        for iid, mine in order:
            r = got.get(iid)
            if r is None:
                return None  # changed since the index was refreshed: SQL answers
            if rank_query:
                if memindex.np.float32(r[1]) != memindex.np.float32(mine):
                    log.warning("sanyi search: in-memory score %r of %s differs from ts_rank %r",
                                mine, iid, r[1])
                    return None
                score_value = r[1]
            else:
                score_value = 1.0
            out.append([r[0], score_value, r[2], r[3], *r[4:]])
        return out

    def _result(self, req: SearchRequest, hits: Any, raw: Any, page: Any) -> SearchResult:
        page = page or []
        blobs = _blobs(req)
        docs = []
        for item in page:
            index_id, score, doc_id, doc = item[0], item[1], item[2], item[3] or {}
            doc = dict(doc)
            doc.setdefault("index_id", index_id)
            doc.setdefault("id", doc_id)
            for name, value in zip(blobs, item[4:], strict=False):
                doc[name] = value
            doc["score"] = score
            if "*" not in req.fields:
                doc = {k: v for k, v in doc.items() if k in req.fields}
            docs.append(doc)
        return SearchResult(hits=hits, docs=docs, facets=facet_counts(raw, req))

    def explain(self, req: SearchRequest, analyze: bool = True) -> list[str]:
        sql, params = self.compile(req)
        session = self._session()
        session.execute(_NO_JIT)
        opts = "ANALYZE, BUFFERS" if analyze else "COSTS"
        return [r[0] for r in session.execute(text(f"EXPLAIN ({opts}) {sql}"), params)]


def _rank_query(req: SearchRequest) -> str | None:
    """The tsquery that ranks ``req``'s results (``ts_rank`` of ``rank_tsv``), if any."""
    rank = [q for q in (tsquery_text(v, None, op="|") for v in req.rank_texts) if q]
    return " | ".join(rank) or None


def _blobs(req: SearchRequest) -> list[str]:
    """The serialized dicts ``req`` asks for (fixed column names)."""
    return [b for b in ("data_dict", "validated_data_dict")
            if b in req.fields or "*" in req.fields]


def _stored(req: SearchRequest, c: Compiler) -> str:
    """The stored document, where ``req`` asks for a field beyond the ids and blobs: all of
    it for ``*``, else only the fields asked for (a bound list, never SQL text)."""
    if "*" in req.fields:
        return "st.doc"
    asked = sorted(set(req.fields) - {"id", "index_id", "score", "data_dict",
                                      "validated_data_dict"})
    if not asked:
        return "NULL::jsonb"
    return (f"(SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(st.doc) e "
            f"WHERE e.key = ANY(CAST({c.bind(asked)} AS text[])))")


def _json(value: Any) -> Any:
    if value is None or isinstance(value, (list, dict)):
        return value
    return json.loads(value)


def _row(d: PreparedDoc, facet_ids: dict[str, int]) -> dict[str, Any]:
    return {
        "index_id": d.index_id, "id": d.id, "site_id": d.site_id, "name": d.name,
        "title": d.title, "title_sort": d.title_sort,
        "created": _ts(d.metadata_created), "modified": _ts(d.metadata_modified),
        "terms": d.terms, "facet_ids": sorted(facet_ids[t] for t in d.facets),
        "tr": d.rank_postings, "labels": d.columns.get(LABELS_FIELD) or [],
        **{k: d.columns.get(k) for k in COLUMN_FIELDS},
        "ta": d.postings["A"], "tb": d.postings["B"],
        "tc": d.postings["C"], "td": d.postings["D"],
        "doc": d.doc, "data_dict": d.blobs.get("data_dict"),
        "validated_data_dict": d.blobs.get("validated_data_dict"),
    }


def facet_counts(raw: list[list[Any]], req: SearchRequest) -> dict[str, dict[str, int]]:
    """[('field=value', n), ...] -> {field: {value: n}} for the requested fields, Solr-style:
    at least ``facet_mincount``, largest first (ties by value), at most ``facet_limit``."""
    wanted = set(req.facet_fields)
    grouped: dict[str, list[tuple[str, int]]] = {f: [] for f in req.facet_fields}
    for t, n in raw:
        field_name, sep, value = t.partition("=")
        if sep and field_name in wanted and n >= req.facet_mincount:
            grouped[field_name].append((value, int(n)))
    out: dict[str, dict[str, int]] = {}
    for field_name, items in grouped.items():
        items.sort(key=lambda kv: (-kv[1], kv[0]))
        if req.facet_limit >= 0:
            items = items[:req.facet_limit]
        out[field_name] = dict(items)
    return out
