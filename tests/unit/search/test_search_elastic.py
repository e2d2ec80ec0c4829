"""The Elasticsearch backend without a server: DSL compilation, request bodies, response
mapping and the client calls, checked against a fake client (no Elasticsearch server runs in
this project; nothing here claims the backend was run against one)."""
import pytest

from ckanext.sanyi.search import backend as b
from ckanext.sanyi.search import elastic as es
from ckanext.sanyi.search.connection import build_request
from ckanext.sanyi.search.syntax import QuerySyntaxError, parse


def req(q=None, **params):
    return build_request(q, params)


# --- query DSL -------------------------------------------------------------------------

def test_exact_terms_go_to_the_right_keyword_fields():
    assert es.compile_query(parse("tags:慢病")) == {"term": {"terms": "tags=慢病"}}
    assert es.compile_query(parse("state:active")) == {"term": {"state": "active"}}
    assert es.compile_query(parse('site_id:"default"')) == {"term": {"site_id": "default"}}
    assert es.compile_query(parse('permission_labels:("public" OR "member-x")')) == \
        {"terms": {"labels": ["public", "member-x"]}}
    assert es.compile_query(parse("state:(active OR draft)")) == \
        {"terms": {"state": ["active", "draft"]}}


def test_ckan_visibility_filter_is_a_non_scoring_filter():
    q = es.compile_query(parse("+capacity:public +state:(active OR draft) 高血压"))
    assert q == {"bool": {
        "must": [{"multi_match": {"query": "高血压", "type": "best_fields", "operator": "and",
                                  "fields": ["text_a^10", "text_b^4", "text_c^2", "text_d^1"]}}],
        "filter": [{"term": {"capacity": "public"}},
                   {"terms": {"state": ["active", "draft"]}}]}}


def test_full_text_is_segmented_with_jieba_and_every_word_is_required():
    q = es.compile_query(parse("门诊收费"))
    words = [m["multi_match"]["query"] for m in q["bool"]["must"]]
    assert words == ["门诊", "收费"]
    # a field-restricted text query searches only that weight's field
    q = es.compile_query(parse("title:高血压"))
    assert q["multi_match"]["fields"] == ["text_a^10"]


def test_autocomplete_fields_match_prefixes():
    q = es.compile_query(parse('title_ngram:"高血压"'))
    assert q == {"bool": {"should": [{"prefix": {"text_a": {"value": "高血压", "boost": 10.0}}}],
                          "minimum_should_match": 1}}


def test_not_or_and_nesting():
    q = es.compile_query(parse('+entity_type:package AND +(id:"a" OR name:"a") -tags:x'))
    assert q == {"bool": {
        "filter": [{"term": {"entity_type": "package"}},
                   {"bool": {"should": [{"term": {"id": "a"}}, {"term": {"name": "a"}}],
                             "minimum_should_match": 1}}],
        "must_not": [{"term": {"terms": "tags=x"}}]}}
    assert es.compile_query(parse("NOT tags:x")) == \
        {"bool": {"must_not": [{"term": {"terms": "tags=x"}}]}}


def test_ranges_prefixes_and_existence():
    assert es.compile_query(parse("metadata_modified:[2026-01-01T00:00:00Z TO *]")) == \
        {"range": {"metadata_modified": {"gte": "2026-01-01T00:00:00Z"}}}
    assert es.compile_query(parse("last_updated:{2026-01-01 TO 2026-02-01]")) == \
        {"range": {"terms": {"gt": "last_updated=2026-01-01", "lte": "last_updated=2026-02-01"}}}
    assert es.compile_query(parse("last_updated:[* TO *]")) == \
        {"range": {"terms": {"gte": "last_updated=", "lt": "last_updated>"}}}
    assert es.compile_query(parse("name:gao*")) == {"prefix": {"terms": "name=gao"}}
    assert es.compile_query(parse("res_format:*")) == {"prefix": {"terms": "res_format="}}
    rng = es.compile_query(parse("metadata_modified:[NOW-7DAYS TO NOW]"))["range"]
    assert rng["metadata_modified"]["gte"] < rng["metadata_modified"]["lte"]


# --- search request and response -----------------------------------------------------

def test_search_body_sort_paging_facets_and_fields():
    r = req("医保", fq=['+domain:"insurance"', "+state:active"], rows=21, start=40,
            sort="score desc, metadata_modified desc", facet="true",
            **{"facet.field": ["organization", "update_cycle"], "facet.limit": 5,
               "facet.mincount": 2, "fl": "id validated_data_dict"})
    body = es.search_body(r)
    assert body["from"] == 40 and body["size"] == 21 and body["track_total_hits"] is True
    assert body["sort"] == [{"_score": {"order": "desc"}},
                            {"metadata_modified": {"order": "desc", "missing": "_last"}},
                            {"index_id": {"order": "asc"}}]
    assert body["aggs"]["f:organization"] == {"terms": {
        "field": "terms", "include": "organization=.*", "size": 5, "min_doc_count": 2,
        "order": [{"_count": "desc"}, {"_key": "asc"}]}}
    assert set(body["aggs"]) == {"f:organization", "f:update_cycle"}
    assert body["_source"] == ["index_id", "id", "validated_data_dict"]
    assert body["query"]["bool"]["filter"] == [{"term": {"terms": "domain=insurance"}},
                                               {"term": {"state": "active"}}]


def test_unsortable_field_is_a_query_error():
    with pytest.raises(QuerySyntaxError):
        es.search_body(req("*:*", sort="extras_foo asc"))


def test_facet_include_pattern_is_escaped():
    assert es._facet_include("res_extras_a.b") == r"res_extras_a\.b=.*"


def test_read_result_maps_hits_docs_and_facets():
    r = req("高血压", facet="true", **{"facet.field": ["organization", "tags"],
                                     "facet.limit": 1, "fl": "id validated_data_dict"})
    response = {
        "hits": {"total": {"value": 7, "relation": "eq"}, "hits": [
            {"_id": "ix1", "_score": 3.5, "_source": {
                "index_id": "ix1", "id": "p1", "validated_data_dict": '{"name": "a"}'}}]},
        "aggregations": {
            "f:organization": {"buckets": [{"key": "organization=wj", "doc_count": 5},
                                           {"key": "organization=yb", "doc_count": 2}]},
            "f:tags": {"buckets": []}},
    }
    res = es.read_result(r, response)
    assert res.hits == 7
    assert res.docs == [{"id": "p1", "validated_data_dict": '{"name": "a"}'}]
    assert res.facets == {"organization": {"wj": 5}, "tags": {}}


# --- the backend against a fake client -------------------------------------------------

class FakeIndices:
    def __init__(self, log):
        self.log, self.created = log, False

    def exists(self, index):
        self.log.append(("exists", index))
        return self.created

    def create(self, index, settings, mappings):
        self.log.append(("create", index, mappings["properties"]["text_a"]))
        self.created = True

    def refresh(self, index):
        self.log.append(("refresh", index))


class FakeClient:
    def __init__(self, search_response=None, bulk_response=None):
        self.log = []
        self.indices = FakeIndices(self.log)
        self.search_response = search_response or {"hits": {"total": {"value": 0}, "hits": []}}
        self.bulk_response = bulk_response or {"errors": False, "items": []}

    def bulk(self, operations):
        self.log.append(("bulk", operations))
        return self.bulk_response

    def delete_by_query(self, index, query, refresh, conflicts):
        self.log.append(("delete_by_query", index, query, refresh, conflicts))
        return {"deleted": 2}

    def search(self, index, body):
        self.log.append(("search", index, body))
        return self.search_response


def doc(**extra):
    base = {"id": "p1", "index_id": "ix1", "site_id": "default", "name": "gxy",
            "title": "高血压患者健康管理数据", "notes": "门诊随访", "state": "active",
            "capacity": "public", "dataset_type": "dataset", "entity_type": "package",
            "permission_labels": ["public"], "organization": "wj", "tags": ["慢病"],
            "metadata_modified": "2026-01-02T03:04:05.000001Z",
            "validated_data_dict": '{"name": "gxy"}', "data_dict": "{}"}
    return b.prepare({**base, **extra})


def test_add_creates_the_index_once_and_sends_one_bulk_request():
    client = FakeClient()
    backend = es.ElasticsearchBackend(client, "idx")
    backend.add([doc(), doc(id="p2", index_id="ix2", name="b")])
    backend.add([doc()])
    assert [e[0] for e in client.log] == ["exists", "create", "bulk", "bulk"]
    assert client.log[1][2] == {"type": "text", "analyzer": "whitespace"}
    ops = client.log[2][1]
    assert ops[0] == {"index": {"_index": "idx", "_id": "ix1"}}
    src = ops[1]
    assert src["labels"] == ["public"] and src["state"] == "active"
    assert "tags=慢病" in src["terms"] and "organization=wj" in src["facets"]
    assert "高血压" in src["text_a"].split() and "随访" in src["text_c"].split()
    assert src["validated_data_dict"] == '{"name": "gxy"}'
    assert "validated_data_dict" not in src["doc"]
    assert ops[2] == {"index": {"_index": "idx", "_id": "ix2"}}


def test_bulk_errors_raise():
    client = FakeClient(bulk_response={"errors": True, "items": [
        {"index": {"_id": "ix1", "error": {"type": "mapper_parsing_exception"}}}]})
    with pytest.raises(RuntimeError, match="1 document"):
        es.ElasticsearchBackend(client, "idx").add([doc()])


def test_delete_uses_delete_by_query_with_the_compiled_query():
    client = FakeClient()
    client.indices.created = True
    n = es.ElasticsearchBackend(client, "idx").delete(
        parse('+entity_type:package AND +(id:"p1" OR name:"p1") AND +site_id:"default"'))
    assert n == 2
    name, index, query, refresh, conflicts = client.log[-1]
    assert (name, index, refresh, conflicts) == ("delete_by_query", "idx", True, "proceed")
    assert {"term": {"site_id": "default"}} in query["bool"]["filter"]


def test_search_and_commit_through_the_solr_shim():
    """The same SolrCompatConnection CKAN talks to, on top of the Elasticsearch backend."""
    from ckanext.sanyi.search.connection import SolrCompatConnection
    client = FakeClient(search_response={
        "hits": {"total": {"value": 1}, "hits": [
            {"_id": "ix1", "_score": 2.0, "_source": {"index_id": "ix1", "id": "p1",
                                                       "doc": {"id": "p1", "name": "gxy"}}}]},
        "aggregations": {"f:tags": {"buckets": [{"key": "tags=慢病", "doc_count": 1}]}}})
    client.indices.created = True
    conn = SolrCompatConnection(es.ElasticsearchBackend(client, "idx"), b.DEFAULT_FACET_FIELDS)
    res = conn.search("高血压", fq=["+site_id:\"default\"", "+state:active"], rows=11,
                      fl="id name", facet="true", **{"facet.field": ["tags"]})
    assert res.hits == 1 and res.docs == [{"id": "p1", "name": "gxy"}]
    assert res.facets == {"facet_fields": {"tags": ["慢病", 1]}}
    body = client.log[-1][2]
    assert body["size"] == 11 and body["query"]["bool"]["must"][0]["multi_match"]["query"] == "高血压"
    conn.commit()
    assert client.log[-1] == ("refresh", "idx")


def test_from_config_builds_a_client_without_connecting():
    backend = es.ElasticsearchBackend.from_config({
        "ckanext.sanyi.search.elasticsearch_url": "http://127.0.0.1:59200",
        "ckanext.sanyi.search.elasticsearch_index": "sanyi-test"})
    from elasticsearch import Elasticsearch
    assert isinstance(backend.client, Elasticsearch)
    assert backend.index == "sanyi-test"
