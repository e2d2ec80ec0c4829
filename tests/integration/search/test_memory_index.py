"""Searches answered by the in-memory index (search/memindex.py) equal the SQL's answers.

Over HTTP (``/api/3/action/package_search``), as an anonymous visitor, as a logged-in user with
no role and as a unit's editor (who also sees the unit's private resources), in Chinese and
English: full-text words, synonyms, pinyin, phrases, field queries, negations, facet filters,
sorts and pages. Each search runs with the index on (and must be answered by it) and off (one
SQL statement); hits, every facet count and the page (ids, order, scores) must be equal. Then
after datasets are created, updated, made private and deleted (the index learns of them from
the change log: they are answered from its overlay) and after the index table is emptied.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from ckan import model
from ckan.tests import factories, helpers
from sqlalchemy import text

from ckanext.sanyi import search

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "every_size")


@pytest.fixture
def every_size(monkeypatch):
    """The index answers match sets of any size (by default SQL answers the small ones)."""
    monkeypatch.setattr(search.get_backend(), "memory_min_hits", 0)

FACETS = ["organization", "delivery_methods", "update_cycle", "domain", "grade_level", "tags"]
TITLES = [
    ("高血压患者健康管理数据", "Hypertension patient health management data", ["慢病", "医保"]),
    ("门诊收费明细", "Outpatient fee details", ["医保"]),
    ("门诊慢特病收费结算记录", "Outpatient chronic disease settlement", ["慢病"]),
    ("药品零售监测台账", "Drug retail monitoring ledger", ["药品"]),
    ("医疗保障基金结算清单", "Medical security fund settlement list", ["医保"]),
    ("医保目录药品清单", "Insurance catalogue drug list", ["医保", "药品"]),
    ("糖尿病患者随访记录", "Diabetes patient follow-up records", ["慢病"]),
    ("住院病案首页数据", "Inpatient medical record front page", []),
    ("疫苗接种记录", "Vaccination records", ["公共卫生"]),
    ("药品不良反应监测数据", "Adverse drug reaction monitoring", ["药品"]),
    ("Government Expenditure", "Government Expenditure", []),
    ("Government Extra Expenditure", "Government Extra Expenditure", []),
]
CYCLES = ["monthly", "daily", "quarterly", "yearly"]
QUERIES = [
    {"q": "门诊"}, {"q": "医保"}, {"q": "医疗保障"}, {"q": "药品", "facet.field": ["organization"]},
    {"q": "高血压"}, {"q": "高血压 患者"}, {"q": "高血压 患者 不存在的词"}, {"q": '"门诊收费"'}, {"q": "gaoxueya"},
    {"q": "yibao"}, {"q": "醫保"}, {"q": "hypertension"}, {"q": '"Government Expenditure"'},
    {"q": "title:药品"}, {"q": "药品 -tags:医保"}, {"q": "医保", "fq": 'update_cycle:"monthly"'},
    {"q": "医保", "fq": 'domain:"insurance"'},
    {"q": "记录", "sort": "metadata_modified desc", "start": 2, "rows": 3},
    {"q": "数据 OR 记录", "sort": "metadata_created asc"},
    {"q": "慢病", "fq": "-update_cycle:daily"},
    {"q": "医保", "fq": 'organization:"shi-yi-bao-ju" OR organization:"shi-wei-jian-wei"'},
    {"q": "医保", "fq": 'permission_labels:"public"'},
    {"q": "", "fq": "-tags:不存在的标签"},  # every dataset: facets counted per facet value
    {"q": "医保", "fq": 'permission_labels:"public" AND permission_labels:"creator-nobody"'},
]


def _token(user):
    return helpers.call_action("api_token_create", context={"user": user, "ignore_auth": True},
                               user=user, name="memory-test")["token"]


@pytest.fixture
def catalog(app):
    orgs = _orgs()
    made = []
    for i, (title, title_en, tags) in enumerate(TITLES):
        org = orgs["yb"] if i % 3 else orgs["wj"]
        editor = "yb_editor" if i % 3 else "wj_editor"
        made.append(helpers.call_action(
            "package_create", context={"user": editor}, name=f"mem-{i}", title=title,
            title_en=title_en, owner_org=org["id"], domain="insurance" if i % 2 else "health",
            delivery_methods=["api", "file"] if i % 4 else ["table"],
            update_cycle=CYCLES[i % len(CYCLES)], grade_level="L2",
            open_attribute="authorized", last_updated="2026-01-05", private=i % 5 == 4,
            tags=[{"name": t} for t in tags], notes=f"{title}，用于测试 {i}"))
    tokens = {"anonymous": None, "no role": _token("nobody"), "editor": _token("yb_editor")}
    search.get_backend().memory.reset()  # built from the whole catalog at the next search
    return {"orgs": orgs, "made": made, "tokens": tokens}


def _new_dataset(catalog, title):
    """A public dataset ``mem-new`` of the health unit, tagged 医保."""
    return helpers.call_action(
        "package_create", context={"user": "wj_editor"}, name="mem-new", title=title,
        owner_org=catalog["orgs"]["wj"]["id"], domain="health", delivery_methods=["api"],
        update_cycle="monthly", grade_level="L2", open_attribute="authorized",
        last_updated="2026-01-05", tags=[{"name": "医保"}])


def _orgs():
    for name in ("wj_editor", "yb_editor", "nobody"):
        factories.User(name=name)
    return {
        "wj": factories.Organization(name="shi-wei-jian-wei", title="市卫健委",
                                     users=[{"name": "wj_editor", "capacity": "editor"}]),
        "yb": factories.Organization(name="shi-yi-bao-ju", title="市医保局",
                                     users=[{"name": "yb_editor", "capacity": "editor"}]),
    }


def _get(app, token, params, lang):
    q = {"facet.field": json.dumps(params.get("facet.field", FACETS)), "facet.limit": -1,
         "include_private": "true", "rows": params.get("rows", 20)}
    q.update({k: v for k, v in params.items() if k not in ("facet.field", "rows")})
    headers = {"Authorization": token} if token else {}
    res = app.get(f"{lang}/api/3/action/package_search", query_string=q, headers=headers)
    assert res.status_code == 200, res.body
    body = res.json["result"]
    return (body["count"],
            {k: {i["name"]: i["count"] for i in v["items"]} for k, v in body["search_facets"].items()},
            [(r["name"], r.get("score")) for r in body["results"]])


@pytest.fixture
def answered(monkeypatch):
    backend = search.get_backend()
    seen: list[bool] = []
    real = backend._from_memory

    def spy(session, req):
        got = real(session, req)
        seen.append(got is not None)
        return got
    monkeypatch.setattr(backend, "_from_memory", spy)
    return seen


def _compare(app, tokens, answered, queries=QUERIES):
    backend = search.get_backend()
    results = {}
    for who, token in tokens.items():
        for params in queries:
            lang = "/en" if len(results) % 2 else ""
            backend.cache.clear()
            answered.clear()
            mine = _get(app, token, params, lang)
            assert answered and all(answered), (who, params, "not answered by the index")
            backend.memory_index = False
            backend.cache.clear()
            try:
                sql = _get(app, token, params, lang)
            finally:
                backend.memory_index = True
                backend.cache.clear()
            assert mine == sql, (who, params, mine, sql)
            results[(who, json.dumps(params, ensure_ascii=False))] = mine
    return results


def test_the_index_answers_as_sql_does(app, catalog, answered):
    results = _compare(app, catalog["tokens"], answered)
    hits = {k: v[0] for k, v in results.items()}
    # the queries mean something: words, synonyms, pinyin, phrases and visibility all differ
    assert hits[("anonymous", '{"q": "医保"}')] >= 3
    assert hits[("anonymous", '{"q": "hypertension"}')] == 1
    assert hits[("anonymous", '{"q": "\\"Government Expenditure\\""}')] == 1
    assert hits[("anonymous", '{"q": "gaoxueya"}')] == hits[("anonymous", '{"q": "高血压"}')] == 1
    assert hits[("editor", '{"q": "医保"}')] > hits[("anonymous", '{"q": "医保"}')]
    assert hits[("anonymous", '{"q": "高血压 患者 不存在的词"}')] >= 1  # minimum-should-match


def test_changes_reach_the_index_and_it_still_answers_as_sql_does(app, catalog, answered):
    backend = search.get_backend()
    _compare(app, catalog["tokens"], answered, QUERIES[:4])
    made = catalog["made"]
    ix = backend.memory.index
    assert ix is not None and ix.n == len(made) and not ix.overlay
    helpers.call_action("package_patch", context={"user": "yb_editor"}, id=made[1]["id"],
                        title="门诊收费结算明细（更新）", tags=[{"name": "药品"}])
    helpers.call_action("package_delete", context={"user": "yb_editor"}, id=made[2]["id"])
    helpers.call_action("package_patch", context={"user": "yb_editor"}, id=made[5]["id"],
                        private=True)
    _new_dataset(catalog, "门诊药品新增数据")
    results = _compare(app, catalog["tokens"], answered)
    # the same index answered, with the changed datasets from its overlay
    assert backend.memory.index is ix
    assert {"mem-1", "mem-5", "mem-new"} <= {d.columns["name"] for d in ix.overlay.values()}
    assert "mem-2" not in {d.columns["name"] for d in ix.overlay.values()}
    names = [n for n, _ in results[("anonymous", '{"q": "门诊"}')][2]]
    assert "mem-new" in names and "mem-2" not in names and "mem-1" in names
    assert "mem-5" not in [n for n, _ in results[("anonymous", '{"q": "医保"}')][2]]
    assert "mem-5" in [n for n, _ in results[("editor", '{"q": "医保"}')][2]]


def test_a_write_in_another_transaction_is_seen_by_the_next_search(app, catalog, answered):
    backend = search.get_backend()
    _compare(app, catalog["tokens"], answered, QUERIES[:1])
    # another process's write: the index row changed in a transaction of its own
    with model.Session.get_bind().connect() as conn:
        conn.execute(text("DELETE FROM sanyi_search_doc WHERE name = 'mem-1'"))
        conn.commit()
    count, _, page = _get(app, None, {"q": "门诊"}, "")
    assert "mem-1" not in [n for n, _ in page]
    backend.memory_index = False
    backend.cache.clear()
    try:
        assert _get(app, None, {"q": "门诊"}, "")[0] == count
    finally:
        backend.memory_index = True


def test_an_emptied_index_is_built_again(app, catalog, answered):
    backend = search.get_backend()
    _compare(app, catalog["tokens"], answered, QUERIES[:1])
    before = backend.memory.index
    model.Session.execute(text("TRUNCATE sanyi_search_doc"))
    model.Session.commit()
    assert _get(app, None, {"q": "门诊"}, "")[0] == 0
    assert backend.memory.index is not before and backend.memory.index.n == 0
    helpers.call_action("package_patch", context={"user": "yb_editor"},
                        id=catalog["made"][1]["id"], notes="再索引")
    assert _get(app, None, {"q": "门诊"}, "")[0] == 1


def test_searches_the_index_cannot_answer_go_to_sql(app, catalog, answered):
    for params in ({"q": "hypert*"}, {"q": "医保", "sort": "title_string asc"},
                   {"q": "metadata_modified:[2020-01-01T00:00:00Z TO *]"}):
        answered.clear()
        count, _, _ = _get(app, None, params, "")
        assert answered == [False], params
        assert count >= 1, params


def test_a_database_error_in_the_index_leaves_the_search_to_sql(app, catalog, answered,
                                                                  monkeypatch):
    from ckanext.sanyi.search import memload
    backend = search.get_backend()
    monkeypatch.setattr(backend, "memory_index", True)
    expected = _get(app, None, {"q": "门诊"}, "")
    assert answered[-1] is True
    monkeypatch.setattr(memload, "CHANGES", "sanyi_no_such_table")  # the refresh fails
    backend.cache.clear()
    answered.clear()
    assert _get(app, None, {"q": "门诊"}, "/en") == expected  # not a 500: SQL answered
    assert answered == [False] and backend.memory_index is False


def test_searches_for_given_ids_or_names_are_read_by_sql(app, catalog, answered):
    made = catalog["made"]
    for fq in (f'id:"{made[0]["id"]}"', 'name:("mem-1" OR "mem-3")'):
        answered.clear()
        count, _, page = _get(app, None, {"q": "", "fq": fq}, "")
        assert answered == [False], fq
        assert count == len(page) >= 1


def test_a_rebuilt_index_keeps_its_postings_and_still_answers_as_sql_does(
        app, catalog, answered, monkeypatch):
    from ckanext.sanyi.search import memload
    backend = search.get_backend()
    _compare(app, catalog["tokens"], answered)  # every query's words read once
    ix = backend.memory.index
    monkeypatch.setattr(memload, "REBUILD_AFTER", 2)
    made = catalog["made"]
    helpers.call_action("package_patch", context={"user": "yb_editor"}, id=made[1]["id"],
                        title="门诊药品收费明细（更新）", tags=[{"name": "慢病"}])
    helpers.call_action("package_delete", context={"user": "yb_editor"}, id=made[4]["id"])
    _new_dataset(catalog, "门诊收费与医保结算新增数据")
    reads = []
    source = backend.memory.source
    for name in ("slots", "positions", "rank"):
        real = getattr(source, name)
        monkeypatch.setattr(source, name, lambda ix_, lx, _r=real, _n=name:
                            reads.append((_n, lx)) or _r(ix_, lx))
    results = _compare(app, catalog["tokens"], answered)
    assert backend.memory.index is not ix and not backend.memory.index.overlay  # rebuilt
    assert reads == []  # every posting was carried over, none read again
    names = [n for n, _ in results[("anonymous", '{"q": "门诊"}')][2]]
    assert "mem-new" in names and "mem-4" not in names


def test_merging_the_changes_gives_what_a_build_from_the_table_gives(app, catalog):
    from ckanext.sanyi.search import memload
    backend = search.get_backend()
    for q in ("门诊", '"门诊收费"', "title:药品", "医保"):  # slots, positions and ranks read
        _get(app, None, {"q": q}, "")
    made = catalog["made"]
    helpers.call_action("package_patch", context={"user": "yb_editor"}, id=made[1]["id"],
                        title="住院病案数据", notes="住院病案", tags=[{"name": "药品"}])
    helpers.call_action("package_delete", context={"user": "yb_editor"}, id=made[2]["id"])
    helpers.call_action("package_patch", context={"user": "yb_editor"}, id=made[5]["id"],
                        private=True)
    _new_dataset(catalog, "门诊收费药品新增数据")
    state = backend.memory
    with state.lock:
        ix = state.current(model.Session())
        assert ix is not None and ix.stale >= 4
        merged = ix.merged()
        with model.Session.get_bind().connect() as conn:
            fresh = memload.build(conn, state.source)[0]
        state.source.session = model.Session()
        assert merged.b.index_ids == fresh.b.index_ids and not merged.overlay
        for name in ("modified", "created"):
            assert (getattr(merged.b, name) == getattr(fresh.b, name)).all()

        def same(x, y):
            return {k: sorted(np.atleast_1d(v).tolist()) for k, v in x.items()} == \
                {k: sorted(np.atleast_1d(v).tolist()) for k, v in y.items()}
        for column in fresh.b.columns:
            assert same(merged.b.columns[column], fresh.b.columns[column]), column
        assert same(merged.b.labels, fresh.b.labels) and same(merged.b.facets, fresh.b.facets)
        assert merged._slots and merged._rank and merged._positions
        for lexeme, slots in merged._slots.items():
            assert slots.tolist() == fresh.lexeme_slots(lexeme).tolist(), lexeme
        for lexeme, (slots, off, pos) in merged._positions.items():
            f = fresh.lexeme_positions(lexeme)
            assert (slots.tolist(), off.tolist(), pos.tolist()) == \
                (f[0].tolist(), f[1].tolist(), f[2].tolist()), lexeme
        for lexeme, (slots, contrib) in merged._rank.items():
            f = fresh.lexeme_rank(lexeme)
            assert (slots.tolist(), contrib.tolist()) == (f[0].tolist(), f[1].tolist()), lexeme
    model.Session.rollback()


def test_a_large_index_is_built_in_the_background_while_sql_answers(
        app, catalog, answered, monkeypatch):
    from ckanext.sanyi.search import memload
    backend = search.get_backend()
    state = backend.memory
    monkeypatch.setattr(memload, "BACKGROUND_FROM", 0)
    model.Session.execute(text("ANALYZE sanyi_search_doc"))  # reltuples: the size estimate
    model.Session.commit()
    state.reset()
    expected = _get(app, None, {"q": "门诊"}, "")
    assert answered == [False]  # no index yet: SQL answered, the build runs in a thread
    state.building.join(timeout=30)
    answered.clear()
    backend.cache.clear()
    assert _get(app, None, {"q": "门诊"}, "") == expected and answered == [True]
    first = state.index
    # past the rebuild threshold: the changes are merged in, no build from the table
    monkeypatch.setattr(memload, "REBUILD_AFTER", 0)
    helpers.call_action("package_patch", context={"user": "yb_editor"},
                        id=catalog["made"][1]["id"], title="住院病案数据", notes="住院病案")
    answered.clear()
    after = _get(app, None, {"q": "门诊"}, "/en")
    assert answered == [True] and after[0] == expected[0] - 1
    assert state.index is not first and not state.index.overlay
    assert not state.building.is_alive()
    backend.memory_index = False
    backend.cache.clear()
    try:
        assert _get(app, None, {"q": "门诊"}, "/en") == after
    finally:
        backend.memory_index = True


def test_a_small_match_set_is_answered_by_sql(app, catalog, answered, monkeypatch):
    backend = search.get_backend()
    monkeypatch.setattr(backend, "memory_min_hits", 1000)
    count, _, page = _get(app, None, {"q": "门诊"}, "")
    assert answered == [False] and count == len(page) >= 2
    monkeypatch.setattr(backend, "memory_min_hits", count)  # as many as it matches: the index
    answered.clear()
    backend.cache.clear()
    assert _get(app, None, {"q": "门诊"}, "") == (count, _, page) and answered == [True]


HOSTILE = ["'); DROP TABLE sanyi_search_doc; --", "门诊' OR '1'='1", "a\\b\\'c", "x & y | !z",
           "门诊 <-> 收费", "'门诊':*A", "医保:* ) ( !", '"门诊"\'"', "\x00门诊", "門診" * 200]


def test_hostile_text_reaches_the_index_only_as_bound_values(app, catalog, answered):
    """Quotes, backslashes and tsquery syntax typed by a visitor (anonymous, no role, in
    Chinese and English) are words to the index as to SQL: the same answer, never a 500, and
    the index table intact."""
    backend = search.get_backend()
    for who in ("anonymous", "no role"):
        token = catalog["tokens"][who]
        for i, q in enumerate(HOSTILE):
            lang = "/en" if i % 2 else ""
            headers = {"Authorization": token} if token else {}
            backend.cache.clear()
            res = app.get(f"{lang}/api/3/action/package_search", query_string={"q": q},
                          headers=headers)
            assert res.status_code in (200, 400, 409), (q, res.status_code)
            if res.status_code != 200:
                continue
            backend.memory_index = False
            backend.cache.clear()
            try:
                sql = app.get(f"{lang}/api/3/action/package_search", query_string={"q": q},
                              headers=headers)
            finally:
                backend.memory_index = True
            assert sql.json["result"]["count"] == res.json["result"]["count"], q
    assert model.Session.execute(text("SELECT count(*) FROM sanyi_search_doc")).scalar() == \
        len(TITLES)
    model.Session.rollback()
