"""Which searches the facet-count store answers, and Solr's ways with dates and sort orders
that CKAN's own search tests expect of the connection (pure code, no database)."""
import datetime as dt

import pytest

from ckanext.sanyi.search import facet_store
from ckanext.sanyi.search.backend import DEFAULT_FACET_FIELDS
from ckanext.sanyi.search.compiler import Compiler
from ckanext.sanyi.search.connection import (
    SortError,
    _decode_dates,
    _solr_dates,
    build_request,
    parse_sort,
)

VISIBLE = '+site_id:"default" +state:active +permission_labels:("public" OR "member-x")'


def plan(q="", fq=(), facets=("organization", "tags")):
    req = build_request(q, {"fq": [VISIBLE, *fq], "facet": "true", "facet.field": list(facets)})
    return facet_store.plan(req, lambda f: f in DEFAULT_FACET_FIELDS)


def test_the_store_answers_visibility_and_at_most_one_facet_value():
    assert plan().key == "*"
    assert plan(fq=['update_cycle:"monthly"']).key == "update_cycle=monthly"
    assert plan(fq=["+dataset_type:dataset +capacity:public"]).key == "*"


@pytest.mark.parametrize("q, fq, facets", [
    ("高血压", (), ("organization",)),                       # full text
    ("", ('update_cycle:"monthly"', 'domain:"health"'), ("tags",)),  # two facet values
    ("", ("-state:draft",), ("tags",)),                    # a negation
    ("", ("metadata_modified:[2026-01-01T00:00:00Z TO *]",), ("tags",)),  # a range
    ("", (), ("some_unstored_field",)),                    # a facet counted from the terms
    ("", (), ()),                                          # no facets asked
])
def test_any_other_search_is_counted_from_its_rows(q, fq, facets):
    assert plan(q, fq, facets) is None


def test_the_store_query_binds_every_value():
    p = plan(fq=['update_cycle:"monthly"'])
    c = Compiler()
    sql = facet_store.counts_sql(c, p)
    assert "monthly" not in sql and "member-x" not in sql
    assert "update_cycle=monthly" in c.params.values()
    assert "d.labels &&" in sql and "sanyi_search_facet_count" in sql


def test_dates_are_kept_as_solr_keeps_them():
    doc = {"metadata_modified": "2014-06-10T08:24:12.782257Z",
           "metadata_created": "2014-06-10T08:24:12.780000Z",
           "extras_x_date": "2019-10-10T09:15:00+08:00", "title": "2019-10-10T09:15:00+08:00"}
    out = _solr_dates(doc)
    assert out["metadata_modified"] == "2014-06-10T08:24:12.782Z"
    assert out["metadata_created"] == "2014-06-10T08:24:12.78Z"
    assert out["extras_x_date"] == "2019-10-10T01:15:00Z"
    assert out["title"] == doc["title"]  # not a date field
    decoded = _decode_dates({"d": "2019-10-10T01:15:00Z", "t": "x"})
    assert decoded == {"d": dt.datetime(2019, 10, 10, 1, 15), "t": "x"}
    assert _solr_dates(decoded) == {"d": "2019-10-10T01:15:00Z", "t": "x"}


def test_a_sort_needs_its_order():
    with pytest.raises(SortError):
        parse_sort("metadata_modified")
    assert parse_sort("name asc") == (("name", False),)
