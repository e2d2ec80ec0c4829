"""Hostile search input over HTTP, as an anonymous visitor sends it: nothing a visitor types in
``q``, ``fq``, ``sort``, ``rows``, ``start`` or ``facet.field`` ever alters the SQL or answers 5xx.

Each value either gives the normal result or a 409 whose message is in Chinese and English.
Timing bounds are generous (seconds, not milliseconds): they catch ``pg_sleep`` running, not speed.
"""
from __future__ import annotations

import re
import time

import pytest
from ckan.tests import factories
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

CATALOG = dict(domain="health", delivery_methods=["api"], update_cycle="monthly",
               grade_level="L3", open_attribute="authorized", last_updated="2026-01-05")
SLEEP = "(SELECT chr(120) FROM pg_sleep(1))"
INJECTIONS = [
    {"sort": "-:p4 asc", "fq": f'-name:"||{SLEEP}||"'},
    {"sort": "-:p0 asc", "fq": f'name:"||{SLEEP}||"'},
    {"sort": "metadata_modified desc, -:p1 asc", "q": f'"||{SLEEP}||"'},
    {"sort": "x'||(SELECT pg_sleep(1))||' asc"},
    {"sort": "title_string asc; SELECT pg_sleep(1)"},
    {"sort": "(SELECT 1 FROM pg_sleep(1)) asc"},
    {"q": f"title:'{SLEEP}'"},
    {"fq": f"name:[{SLEEP} TO *]"},
    {"fq": f"metadata_modified:[{SLEEP} TO *]"},
    {"fq": f"res_format:{SLEEP}*"},
    {"q": "' OR 1=1 --", "fq": "capacity:public OR capacity:private"},
    {"fq": "permission_labels:* OR capacity:private"},
]
HOSTILE = [
    {"fq": "metadata_modified:[NOW/DAY-1DAY TO *]"},
    {"fq": "metadata_modified:[2026-13-01T00:00:00Z TO *]"},
    {"fq": "metadata_modified:[garbage TO *]"},
    {"fq": "metadata_created:[NOW-99999999999DAYS TO *]"},
    {"fq": "metadata_created:[NOW+999999999YEARS TO *]"},
    {"q": "(" * 1500 + "x" + ")" * 1500},
    {"q": "NOT " * 1500 + "x"},
    {"q": "-" * 1500 + "x"},
    {"q": "a" * 2100},
    {"q": "高" * 1000},
    {"fq": "name:" + "b" * 3000},
    {"q": "x\x00y"},
    {"sort": "title_string\x00 asc"},
    {"start": str(2**63)},
    {"start": str(2**70), "rows": "10"},
    {"rows": "-1"},
    {"start": "-5"},
    {"start": "abc"},
    {"facet.field": '["\\u0000"]'},
    {"facet.field": '["' + "f" * 5000 + '"]'},
    {"q": "title:[a TO"},
    {"q": '"unterminated'},
    {"fq": "name:(a OR"},
    {"q": "AND OR"},
]


def _search(app, params):
    started = time.monotonic()
    res = app.get("/api/3/action/package_search", query_string=params)
    return res, time.monotonic() - started


@pytest.mark.parametrize("params", [{"q": "\ud800"}, {"fq": "name:\udfff"},
                                    {"sort": "title_string\ud800 asc"},
                                    {"q": ["a", "b"]}, {"fq": {"x": 1}}, {"rows": [1]},
                                    {"start": 2**64}, {"sort": 5}])
def test_json_body_values(app, params):
    """JSON bodies reach the action with values a query string cannot carry."""
    started = time.monotonic()
    res = app.post("/api/3/action/package_search", json=params)
    _assert_refused_or_normal(res, time.monotonic() - started)


def _assert_refused_or_normal(res, elapsed):
    assert res.status_code < 500, res.body[:500]
    assert elapsed < 0.9, f"took {elapsed:.2f} s: the database ran what the caller sent"
    body = res.json
    if res.status_code == 200:
        assert body["success"] is True
        for r in body["result"]["results"]:
            assert r["name"].startswith("hostile-")  # only what an anonymous visitor may see
    else:
        assert res.status_code in (400, 409), res.status_code
        text = str(body["error"])
        # a reason in Chinese and in English
        assert re.search("[\u4e00-\u9fff]", text) and re.search("[A-Za-z]{4}", text), text


@pytest.mark.parametrize("params", INJECTIONS, ids=range(len(INJECTIONS)))
def test_injection_does_not_reach_sql(app, params):
    sysadmin = factories.Sysadmin()
    org = factories.Organization(users=[{"name": sysadmin["name"], "capacity": "admin"}])
    factories.Dataset(owner_org=org["id"], name="hostile-public", title="高血压", **CATALOG)
    factories.Dataset(owner_org=org["id"], name="secret-private", title="内部", private=True,
                      **CATALOG)
    res, elapsed = _search(app, params)
    _assert_refused_or_normal(res, elapsed)


def test_unknown_sort_field_is_a_409(app):
    res = app.get("/api/3/action/package_search", query_string={"sort": "-:p4 asc"})
    assert res.status_code == 409
    assert "无法按" in str(res.json["error"]) and "sort by" in str(res.json["error"])


def test_sort_by_stored_field_still_works(app):
    sysadmin = factories.Sysadmin()
    org = factories.Organization(users=[{"name": sysadmin["name"], "capacity": "admin"}])
    for name, cycle in (("hostile-a", "yearly"), ("hostile-b", "daily"), ("hostile-c", "monthly")):
        factories.Dataset(owner_org=org["id"], name=name, **{**CATALOG, "update_cycle": cycle})
    res = app.get("/api/3/action/package_search", query_string={"sort": "update_cycle asc"})
    assert res.status_code == 200
    assert [r["update_cycle"] for r in res.json["result"]["results"]] == \
        ["daily", "monthly", "yearly"]


@pytest.mark.parametrize("params", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_answer_4xx_or_normal(app, params):
    res, elapsed = _search(app, params)
    _assert_refused_or_normal(res, elapsed)


def test_date_math_is_understood(app):
    sysadmin = factories.Sysadmin()
    org = factories.Organization(users=[{"name": sysadmin["name"], "capacity": "admin"}])
    factories.Dataset(owner_org=org["id"], name="hostile-new", **CATALOG)
    for fq, hits in (("metadata_created:[NOW/DAY-1DAY TO *]", 1),
                     ("metadata_created:[* TO NOW/DAY-1DAY]", 0),
                     ("metadata_created:[NOW-1YEAR/MONTH TO NOW+1DAY]", 1)):
        res = app.get("/api/3/action/package_search", query_string={"fq": fq})
        assert res.status_code == 200, (fq, res.body)
        assert res.json["result"]["count"] == hits, fq


def test_huge_start_is_an_empty_page(app):
    res = app.get("/api/3/action/package_search", query_string={"start": str(2**63)})
    assert res.status_code == 200
    assert res.json["result"]["results"] == []


def test_dataset_page_with_huge_page_number_and_the_next_request(app, login):
    factories.User(name="plain_user")
    login(app, "plain_user")
    res = app.get("/dataset/", query_string={"page": "99999999999999999999"})
    assert res.status_code < 500
    # the next request on the same thread and session still works
    assert app.get("/dataset/").status_code == 200
    assert app.get("/").status_code == 200


SOLR_BITS = st.sampled_from(["*", ":", "(", ")", "[", "]", "{", "}", '"', "\\", " TO ", " OR ",
                             " AND ", "NOT ", "-", "+", "!", "^2", "~", "NOW", "/DAY", "'",
                             ";", "--", ":p0", "%", "_", "\x00", "高血压", "🩺", "\ud800"])
HOSTILE_TEXT = st.lists(st.one_of(SOLR_BITS, st.text(max_size=8)), max_size=12).map("".join)
FIELDS = st.sampled_from(["", "name:", "title:", "tags:", "metadata_modified:", "res_format:",
                          "capacity:", "permission_labels:", "text:", "extras_x:"])


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(q=HOSTILE_TEXT, field=FIELDS, fq=HOSTILE_TEXT, sort=HOSTILE_TEXT,
       rows=st.one_of(st.integers(-5, 2**64), HOSTILE_TEXT),
       start=st.one_of(st.integers(-5, 2**64), HOSTILE_TEXT),
       facet=st.lists(HOSTILE_TEXT, max_size=3))
def test_generated_search_input_never_5xx(app, q, field, fq, sort, rows, start, facet):
    import json
    params = {"q": q, "fq": field + fq, "sort": sort, "rows": str(rows), "start": str(start),
              "facet.field": json.dumps(facet)}
    res = app.post("/api/3/action/package_search", json=params)
    assert res.status_code < 500, (params, res.body[:300])
    params = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
              for k, v in params.items()}
    res = app.get("/dataset/", query_string={"q": params["q"], "sort": params["sort"],
                                             "page": params["start"]})
    assert res.status_code < 500, (params, res.body[:300])
