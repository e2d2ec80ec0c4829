"""Pure parts of the PostgreSQL backend and the shared preparation (no database)."""
import datetime as dt

from ckanext.sanyi.search import backend as b
from ckanext.sanyi.search import segment
from ckanext.sanyi.search.cache import ResultCache
from ckanext.sanyi.search.compiler import Compiler
from ckanext.sanyi.search.connection import build_request, parse_sort
from ckanext.sanyi.search.postgres import facet_counts
from ckanext.sanyi.search.syntax import parse, solr_date


def sql(q):
    c = Compiler()
    return c.sql(parse(q)), c.params


def test_visibility_and_type_filters_are_plain_columns():
    where, params = sql('+capacity:public +state:(active OR draft) +site_id:"default" '
                        '+permission_labels:("public" OR "member-x") +dataset_type:dataset')
    assert "d.tsv" not in where and "d.terms" not in where
    assert "d.capacity = :p" in where and "d.dataset_type = :p" in where
    assert "d.state = ANY(" in where and "d.labels && " in where
    assert sorted(params.values(), key=str) == sorted(
        ["public", ["active", "draft"], "default", ["member-x", "public"], "dataset"], key=str)
    # two values of a single-valued column can never both hold
    assert sql("+state:active +state:draft")[0] == "FALSE"
    assert sql('name:"a" OR id:"a"')[0] == "(d.name = :p0 OR d.id = :p1)"


def test_words_and_terms_become_one_tsquery():
    """q and fq together: one GIN scan of tsv, whatever the nesting of AND/OR/NOT."""
    where, params = sql('门诊收费 tags:慢病 domain:health -update_cycle:monthly '
                        'organization:(wj OR yb) +state:active')
    assert where.count("d.tsv @@") == 1 and "d.state = :p0" in where
    assert params["p1"] == ("( '门诊' & '收费' ) & 'tags=慢病' & 'domain=health' & "
                            "!'update_cycle=monthly' & ( 'organization=wj' | 'organization=yb' )")
    assert sql("name_x:ab*")[1]["p0"] == "'name_x=ab':*"
    assert sql("res_format:*")[1]["p0"] == "'res_format=':*"
    assert sql("tags:\"it's\"")[1]["p0"] == "'tags=it''s'"
    # OR with a column field: the column test and the tsquery side by side
    where, params = sql('name_ngram:"x" OR title_ngram:"x" OR name:"x" OR title:"x"')
    assert where == "(d.name = :p0 OR d.tsv @@ CAST(:p1 AS tsquery))"
    assert params["p1"] == "( 'x':*B ) | ( 'x':*A ) | ( 'x':*A )"


def test_full_text_compiles_to_a_jieba_segmented_tsquery():
    where, params = sql("门诊收费")
    assert where == "d.tsv @@ CAST(:p0 AS tsquery)"
    assert params["p0"] == "( '门诊' & '收费' )"
    assert sql("title:高血压")[1]["p0"] == "( '高血压':A )"
    assert sql("x")[1]["p0"] == "( 'x':* )"  # one Latin letter: a prefix
    assert sql("压")[1]["p0"] == "( '压' )"  # one CJK character: indexed as a unigram
    # a word of the synonym file also matches its equivalents (as phrases)
    assert sql("-医保")[1]["p0"] == "!( ( ( '医保' ) | '医疗保障' | '医疗保险' ) )"
    assert sql("，。")[0] == "TRUE" and sql("-，")[0] == "FALSE"


def test_ranges_and_date_math():
    now = dt.datetime(2026, 3, 15, 10, 30)
    assert solr_date("NOW", now) == "2026-03-15T10:30:00"
    assert solr_date("NOW-7DAYS", now) == "2026-03-08T10:30:00"
    assert solr_date("NOW/DAY", now) == "2026-03-15T00:00:00"
    assert solr_date("NOW-1MONTH/DAY", now) == "2026-02-15T00:00:00"
    assert solr_date("2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    where, params = sql("metadata_modified:[2026-01-01T00:00:00Z TO *]")
    assert where == "(d.metadata_modified >= CAST(:p0 AS timestamptz))"
    assert params["p0"] == "2026-01-01T00:00:00"
    where, params = sql("num_resources:[1 TO 5}")
    assert "CAST(substr(t, 15) AS numeric) >= CAST(:p1 AS numeric)" in where
    assert "< CAST(:p2 AS numeric)" in where and params["p1"] == "1"


def test_facet_counts_order_limit_mincount():
    req = build_request("*:*", {"facet": "true", "facet.field": ["tags", "domain"],
                                "facet.limit": 2, "facet.mincount": 2})
    raw = [("*", 9), ("tags=b", 3), ("tags=a", 3), ("tags=c", 5), ("tags=d", 1),
           ("domain=health", 2), ("update_cycle=daily", 7)]
    assert facet_counts(raw, req) == {"tags": {"c": 5, "a": 3}, "domain": {"health": 2}}


def test_sort_parsing():
    assert parse_sort("score desc, metadata_modified desc") == (("score", True),
                                                                ("metadata_modified", True))
    assert parse_sort(None) == (("score", True),)


def test_prepare_splits_a_ckan_document():
    p = b.prepare({"id": "i", "index_id": "x", "site_id": "default", "name": "gxy",
                   "title": "高血压患者健康管理数据", "notes": "门诊随访", "tags": ["慢病"],
                   "organization": "wj", "state": "active", "capacity": "public",
                   "permission_labels": ["public", "member-1"], "index_keywords": "市卫健委 每月",
                   "metadata_modified": "2026-01-01T00:00:00Z", "validated_data_dict": "{}"})
    assert p.facets[0] == b.ALL_DOCS and "organization=wj" in p.facets
    assert "tags=慢病" in p.terms and not any(t.startswith(("title=", "notes=", "index_keywords="))
                                            for t in p.terms)
    assert p.columns == {"state": "active", "capacity": "public", "dataset_type": None,
                         "entity_type": None, "permission_labels": ["member-1", "public"]}
    a = p.weighted_text["A"].split()
    assert {"高血压", "血压", "患者", "高", "压"} <= set(a)  # words, sub-words, unigrams
    assert "随访" in p.weighted_text["C"].split() and "随" not in p.weighted_text["C"].split()
    assert p.rank_text == "慢病 manbing mb"  # with its pinyin and initials
    assert "validated_data_dict" not in p.doc and p.blobs["validated_data_dict"] == "{}"


def test_query_words_found_whatever_the_context_segmentation():
    """Every dictionary word of a query is indexed wherever it occurs in a title."""
    for title, query in [("检验检查结果互认信息", "查结果"), ("门诊收费明细数据", "门诊收费"),
                         ("参保人员缴费记录", "参保人员"), ("药品不良反应监测数据", "不良反应")]:
        indexed = set(segment.index_tokens(title))
        assert set(segment.query_tokens(query)) <= indexed, (title, query)


def test_result_cache_lru_and_ttl(monkeypatch):
    cache = ResultCache(size=2, ttl=10)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)  # evicts b, the least recently used
    assert cache.get("b") is None and cache.get("a") == 1 and cache.get("c") == 3
    import time
    real = time.monotonic
    monkeypatch.setattr(time, "monotonic", lambda: real() + 11)
    assert cache.get("a") is None
    assert ResultCache(size=0).get("x") is None
