"""Every path where CKAN 2.12 touches the search engine, answered by PostgreSQL (no Solr).

The list is the one in shared/notes/ckan-2.12-on-these-machines.md ("Where CKAN 2.12 touches
the search engine"): indexing from create/update/delete/purge actions, package_search with
q/fq/facets/sort/paging and visibility, package_autocomplete, organization_list counts,
tag_dictize, the package_show cache, the pages, and the search-index CLI. Plus relevance in
Chinese, index use (EXPLAIN) and the result cache staying exact across writes.
"""
from __future__ import annotations

import json

import pytest
from ckan import model
from ckan.tests import factories, helpers
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index", "no_solr")


@pytest.fixture
def no_solr(monkeypatch):
    """CKAN must never try to reach Solr: any pysolr connection or HTTP call fails the test."""
    import pysolr
    import requests

    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to reach Solr: {args!r} {kwargs!r}")
    monkeypatch.setattr(pysolr, "Solr", refuse)
    real_get = requests.get
    monkeypatch.setattr(requests, "get", lambda url, *a, **kw: refuse(url) if "solr" in str(url)
                        else real_get(url, *a, **kw))


def dataset(org, user=None, **kw):
    data = dict(owner_org=org["id"], title=kw.pop("title", "测试数据"), domain="health",
                delivery_methods=["api", "file"], update_cycle="monthly", grade_level="L2",
                open_attribute="authorized", last_updated="2026-01-05")
    data.update(kw)
    return helpers.call_action("package_create", context={"user": user or sysadmin()}, **data)


def search(user=None, **kw):
    context = {"user": user, "ignore_auth": False} if user else {"user": "", "ignore_auth": False}
    if user is None:
        context["auth_user_obj"] = None
    return helpers.call_action("package_search", context=context, **kw)


def names(result):
    return [r["name"] for r in result["results"]]


def sysadmin():
    """The test's sysadmin (made on first use; the database is reset for every test)."""
    if model.User.get("search-admin") is None:
        factories.Sysadmin(name="search-admin")
    return "search-admin"


# --- indexing follows every write ------------------------------------------------------

def test_dataset_create_patch_delete_purge_are_reflected(sanyi_orgs):
    wj = sanyi_orgs["orgs"]["wj"]
    ds = dataset(wj, "wj_editor", name="mz-sf", title="门诊收费明细数据")
    assert names(search(q="门诊")) == ["mz-sf"]

    helpers.call_action("package_patch", context={"user": "wj_editor"}, id=ds["id"],
                        title="住院费用结算数据", update_cycle="daily")
    assert names(search(q="门诊")) == []
    assert names(search(q="住院")) == ["mz-sf"]
    assert names(search(fq='update_cycle:"daily"')) == ["mz-sf"]
    assert names(search(fq='update_cycle:"monthly"')) == []

    helpers.call_action("package_delete", context={"user": "wj_editor"}, id=ds["id"])
    assert names(search(q="住院")) == []
    assert search()["count"] == 0

    ds2 = dataset(wj, name="to-purge", title="体检记录")
    assert names(search(q="体检")) == ["to-purge"]
    helpers.call_action("dataset_purge", context={"user": sysadmin()}, id=ds2["id"])
    assert names(search(q="体检")) == []
    assert model.Session.execute(text("SELECT count(*) FROM sanyi_search_doc")).scalar() == 0


def test_failed_create_leaves_no_index_row(sanyi_orgs):
    """Index rows are written in CKAN's transaction: a failed create leaves nothing."""
    wj = sanyi_orgs["orgs"]["wj"]
    with pytest.raises(Exception):  # noqa: B017  (any error: the point is the rollback)
        dataset(wj, name="bad", title="坏数据", grade_level="L9")
    model.Session.rollback()
    assert search(q="坏数据")["count"] == 0
    assert model.Session.execute(text("SELECT count(*) FROM sanyi_search_doc")).scalar() == 0


def test_organization_create_patch_delete_purge(sanyi_orgs):
    admin = sysadmin()
    org = helpers.call_action("organization_create", context={"user": admin},
                              name="shi-ji-kong", title="市疾控中心")
    lst = helpers.call_action("organization_list", all_fields=True)
    assert {o["name"]: o["package_count"] for o in lst}["shi-ji-kong"] == 0

    dataset(org, name="jk-1", title="传染病监测数据")
    dataset(org, name="jk-2", title="疫苗接种记录")
    res = search(fq='organization:"shi-ji-kong"', **{"facet.field": ["organization"]})
    assert sorted(names(res)) == ["jk-1", "jk-2"]
    items = res["search_facets"]["organization"]["items"]
    assert [(i["name"], i["display_name"], i["count"]) for i in items] == \
        [("shi-ji-kong", "市疾控中心", 2)]

    # the facet's display name follows the organisation's title
    helpers.call_action("organization_patch", context={"user": admin}, id=org["id"],
                        title="市疾病预防控制中心")
    items = search(**{"facet.field": ["organization"]})["search_facets"]["organization"]["items"]
    assert [i["display_name"] for i in items] == ["市疾病预防控制中心"]

    # CKAN refuses to delete an organisation that still has datasets; emptied, it goes
    with pytest.raises(Exception):  # noqa: B017  (any error: the point is the rollback)
        helpers.call_action("organization_delete", context={"user": admin}, id=org["id"])
    model.Session.rollback()
    for name in ("jk-1", "jk-2"):
        helpers.call_action("package_delete", context={"user": admin}, id=name)
    helpers.call_action("organization_delete", context={"user": admin}, id=org["id"])
    assert "shi-ji-kong" not in helpers.call_action("organization_list")
    helpers.call_action("organization_purge", context={"user": admin}, id=org["id"])
    assert search(fq='organization:"shi-ji-kong"')["count"] == 0


# --- package_search -------------------------------------------------------------------

@pytest.fixture
def catalog(sanyi_orgs, sanyi_db, request):
    """Six datasets of two units (built once while the tests only read: ``sanyi_db.layer``)."""
    return sanyi_db.layer(request, lambda: _catalog(sanyi_orgs))


def _catalog(sanyi_orgs):
    wj, yb = sanyi_orgs["orgs"]["wj"], sanyi_orgs["orgs"]["yb"]
    rows = [
        (wj, "gxy", "高血压患者健康管理数据", "health", "monthly", "L3", ["api"], ["慢病"]),
        (wj, "tnb", "糖尿病患者随访记录", "health", "quarterly", "L3", ["file"], ["慢病"]),
        (wj, "mz", "门诊收费明细数据", "health", "daily", "L2", ["api", "table"], []),
        (yb, "yb-js", "医保结算信息", "insurance", "monthly", "L2", ["api"], ["医保"]),
        (yb, "yb-cb", "参保人员信息", "insurance", "yearly", "L1", ["table"], ["医保"]),
        (yb, "yb-mz", "门诊慢特病待遇认定数据", "insurance", "monthly", "L2", ["file"], []),
    ]
    out = {}
    for org, name, title, domain, cycle, grade, methods, tags in rows:
        out[name] = dataset(org, name=name, title=title, domain=domain, update_cycle=cycle,
                            grade_level=grade, delivery_methods=methods,
                            tags=[{"name": t} for t in tags])
    return out


def test_q_fq_facets_with_counts(catalog):
    facets = ["organization", "delivery_methods", "update_cycle", "domain", "grade_level", "tags"]
    res = search(q="", fq='domain:"insurance"', **{"facet.field": facets})
    assert res["count"] == 3
    f = {k: {i["name"]: i["count"] for i in v["items"]} for k, v in res["search_facets"].items()}
    assert f["organization"] == {"shi-yi-bao-ju": 3}
    assert f["update_cycle"] == {"monthly": 2, "yearly": 1}
    assert f["delivery_methods"] == {"api": 1, "table": 1, "file": 1}
    assert f["domain"] == {"insurance": 3}
    assert f["grade_level"] == {"L2": 2, "L1": 1}
    assert f["tags"] == {"医保": 2}
    # the plugin shows choice labels for the codes
    labels = {i["name"]: i["display_name"] for i in res["search_facets"]["update_cycle"]["items"]}
    assert labels["monthly"] == "每月"

    assert sorted(names(search(fq='tags:"慢病"'))) == ["gxy", "tnb"]
    assert sorted(names(search(fq='+domain:"health" +update_cycle:(daily OR quarterly)'))) == \
        ["mz", "tnb"]
    assert sorted(names(search(q="门诊", fq='-organization:"shi-wei-jian-wei"'))) == ["yb-mz"]
    assert names(search(q="tags:慢病 AND grade_level:L3 -糖尿病")) == ["gxy"]
    # facet.limit and facet.mincount
    res = search(**{"facet.field": ["update_cycle"], "facet.limit": 1})
    assert {i["name"]: i["count"] for i in res["search_facets"]["update_cycle"]["items"]} == \
        {"monthly": 3}
    res = search(**{"facet.field": ["update_cycle"], "facet.mincount": 2})
    assert [i["name"] for i in res["search_facets"]["update_cycle"]["items"]] == ["monthly"]
    # fields whose values are not stored for counting are counted from the terms
    res = search(q="医保", **{"facet.field": ["open_attribute", "dataset_type", "domain"]})
    f = {k: {i["name"]: i["count"] for i in v["items"]} for k, v in res["search_facets"].items()}
    assert f == {"open_attribute": {"authorized": 3}, "dataset_type": {"dataset": 3},
                 "domain": {"insurance": 3}}


def test_sort_and_paging(catalog):
    from pypinyin import Style, lazy_pinyin
    by_title = names(search(sort="title_string asc", rows=10))  # Chinese titles by pinyin
    assert by_title == [n for n, _ in sorted(((n, d["title"]) for n, d in catalog.items()),
                                             key=lambda kv: lazy_pinyin(kv[1], style=Style.TONE3))]
    assert names(search(sort="title_string desc", rows=10)) == by_title[::-1]
    newest = names(search(sort="metadata_modified desc", rows=10))
    assert newest == list(reversed(list(catalog)))  # created in order
    pages = [names(search(sort="metadata_modified desc", rows=2, start=s)) for s in (0, 2, 4, 6)]
    assert pages[0] + pages[1] + pages[2] == newest and pages[3] == []
    assert search(rows=2)["count"] == 6
    assert names(search(sort="name asc", rows=3)) == sorted(catalog)[:3]


def test_bad_query_is_a_400_not_a_500(app, catalog):
    for params in ({"q": '"unterminated'}, {"q": "tags:(a OR"}, {"fq": "title:"},
                   {"q": "x", "sort": "title_string sideways"}):
        resp = app.get("/api/3/action/package_search", query_string=params, status=400)
        assert resp.json["success"] is False
        assert resp.json["error"]["__type"] == "Search Query Error"
    assert app.get("/dataset/", query_string={"q": '"unterminated'}, status=400)


# --- visibility -----------------------------------------------------------------------

def test_private_datasets_visible_to_members_and_sysadmins_only(sanyi_orgs):
    wj = sanyi_orgs["orgs"]["wj"]
    dataset(wj, "wj_editor", name="private-one", title="内部高血压数据", private=True)
    dataset(wj, "wj_editor", name="public-one", title="公开高血压数据")
    assert names(search(q="高血压", include_private=True)) == ["public-one"]  # anonymous
    assert names(search("yb_editor", q="高血压", include_private=True)) == ["public-one"]
    assert names(search("merchant_user", q="高血压", include_private=True)) == ["public-one"]
    assert sorted(names(search("wj_editor", q="高血压", include_private=True))) == \
        ["private-one", "public-one"]
    assert names(search("wj_editor", q="高血压")) == ["public-one"]  # include_private off
    assert sorted(names(search(sysadmin(), q="高血压", include_private=True))) == \
        ["private-one", "public-one"]


@pytest.mark.ckan_config("ckan.search.remove_deleted_packages", False)
def test_drafts_and_deleted_hidden_unless_asked(sanyi_orgs):
    wj = sanyi_orgs["orgs"]["wj"]
    dataset(wj, "wj_editor", name="draft-one", title="草稿体检数据", state="draft")
    gone = dataset(wj, "wj_editor", name="deleted-one", title="已删除体检数据")
    dataset(wj, "wj_editor", name="active-one", title="体检数据")
    helpers.call_action("package_delete", context={"user": "wj_editor"}, id=gone["id"])
    admin = sysadmin()
    assert names(search(admin, q="体检")) == ["active-one"]
    assert sorted(names(search(admin, q="体检", include_drafts=True))) == \
        ["active-one", "draft-one"]
    assert sorted(names(search(admin, q="体检", include_deleted=True))) == \
        ["active-one", "deleted-one"]
    # a draft is visible to its creator with include_drafts, never to others
    assert "draft-one" in names(search("wj_editor", q="体检", include_drafts=True))
    assert "draft-one" not in names(search("yb_editor", q="体检", include_drafts=True))
    assert names(search(q="体检", include_drafts=True)) == ["active-one"]


# --- other actions and dictizers that query the index directly -----------------------

def test_package_autocomplete(catalog):
    res = helpers.call_action("package_autocomplete", q="高血压")
    assert [r["name"] for r in res] == ["gxy"]
    assert res[0]["match_field"] == "title"
    res = helpers.call_action("package_autocomplete", q="yb")
    assert sorted(r["name"] for r in res) == ["yb-cb", "yb-js", "yb-mz"]
    assert helpers.call_action("package_autocomplete", q="不存在的词") == []


def test_organization_list_package_counts(catalog, sanyi_orgs):
    dataset(sanyi_orgs["orgs"]["yb"], name="yb-private", title="内部数据", private=True)
    counts = {o["name"]: o["package_count"]
              for o in helpers.call_action("organization_list", all_fields=True)}
    dataset(sanyi_orgs["orgs"]["yb"], name="yb-draft", title="草稿数据", state="draft")
    counts = {o["name"]: o["package_count"]
              for o in helpers.call_action("organization_list", all_fields=True)}
    assert counts["shi-wei-jian-wei"] == 3
    # as CKAN counts with Solr: active datasets, private ones included, drafts not
    assert counts["shi-yi-bao-ju"] == 4
    assert counts["shi-shu-ju-ju"] == 0


def test_tag_show_lists_tagged_datasets(catalog):
    tag = helpers.call_action("tag_show", id="慢病", include_datasets=True)
    assert sorted(p["name"] for p in tag["packages"]) == ["gxy", "tnb"]


def test_package_show_reads_the_index_cache(catalog):
    """package_show (use_cache, the default) takes the dict from the index when the index
    copy is current: proven by altering the stored copy only."""
    ds = catalog["gxy"]
    stored = json.loads(model.Session.execute(text(
        "SELECT validated_data_dict FROM sanyi_search_doc WHERE id = :id"),
        {"id": ds["id"]}).scalar())
    stored["title"] = "来自索引的标题"
    model.Session.execute(text(
        "UPDATE sanyi_search_doc SET validated_data_dict = :v WHERE id = :id"),
        {"v": json.dumps(stored, ensure_ascii=False), "id": ds["id"]})
    model.Session.commit()
    assert helpers.call_action("package_show", id="gxy")["title"] == "来自索引的标题"
    fresh = helpers.call_action("package_show", context={"use_cache": False}, id="gxy")
    assert fresh["title"] == "高血压患者健康管理数据"
    from ckan.lib import search as ckan_search
    assert ckan_search.show("gxy")["name"] == "gxy"


# --- pages ----------------------------------------------------------------------------

def test_pages_answer(app, catalog, sanyi_orgs):
    assert app.get("/").status_code == 200
    resp = app.get("/dataset/", query_string={"q": "高血压"})
    assert resp.status_code == 200 and "高血压患者健康管理数据" in resp.body
    resp = app.get("/dataset/", query_string={"tags": "慢病", "update_cycle": "monthly"})
    assert resp.status_code == 200 and "高血压患者健康管理数据" in resp.body
    assert "糖尿病患者随访记录" not in resp.body
    resp = app.get("/organization/shi-yi-bao-ju")
    assert resp.status_code == 200 and "医保结算信息" in resp.body
    assert "高血压患者健康管理数据" not in resp.body
    resp = app.get("/feeds/dataset.atom")
    assert resp.status_code == 200 and "高血压患者健康管理数据" in resp.body
    user = factories.UserWithToken()
    helpers.call_action("organization_member_create", context={"user": sysadmin()},
                        id=sanyi_orgs["orgs"]["wj"]["id"], username=user["name"], role="editor")
    resp = app.get("/dataset/new", headers={"Authorization": user["token"]})
    assert resp.status_code == 200


def test_product_list_and_product_facets(app, sanyi_orgs):
    operator = sanyi_orgs["orgs"]["operator"]
    helpers.call_action(
        "package_create", context={"user": sysadmin()}, type="product", name="zhhb",
        title="智慧核保产品", owner_org=operator["id"], category="industrial",
        scenario="智慧核保", notes="基于医保结算数据的核保服务", product_forms=["api"],
        supplying_units=["shi-yi-bao-ju"], status="approved")
    dataset(sanyi_orgs["orgs"]["yb"], name="yb-js", title="医保结算信息")
    res = search(q="核保", fq="+dataset_type:product", **{"facet.field": ["category"]})
    assert names(res) == ["zhhb"]
    assert {i["name"]: i["count"] for i in res["search_facets"]["category"]["items"]} == \
        {"industrial": 1}
    resp = app.get("/product/")
    assert resp.status_code == 200 and "智慧核保产品" in resp.body
    assert "医保结算信息" not in resp.body
    # (/dataset/ lists products too while ckan.search.show_all_types is "dataset", CKAN's
    # default; that is configuration, not search)
    assert "医保结算信息" in app.get("/dataset/").body


def test_english_pages_search_chinese_and_english_labels(app, catalog):
    resp = app.get("/en/dataset/", query_string={"q": "高血压"})
    assert resp.status_code == 200 and "高血压患者健康管理数据" in resp.body
    # English labels of subject choices are indexed too: "Medical insurance" is the insurance
    # domain; property choices (update cycle, delivery method) are filters, not free text
    assert sorted(names(search(q="insurance"))) == ["yb-cb", "yb-js", "yb-mz"]
    assert names(search(q="Quarterly")) == []
    assert names(search(fq='update_cycle:"quarterly"')) == ["tnb"]


# --- relevance ------------------------------------------------------------------------

def test_relevance_in_chinese(sanyi_orgs):
    wj, yb = sanyi_orgs["orgs"]["wj"], sanyi_orgs["orgs"]["yb"]
    dataset(wj, name="notes-only", title="慢病随访记录",
            notes="包含高血压、糖尿病等慢病患者的随访记录。")
    dataset(wj, name="gxy", title="高血压患者健康管理数据")
    dataset(wj, name="other", title="体检数据", notes="一般体检结果")
    dataset(yb, name="yb-js", title="医保结算信息", domain="insurance")
    dataset(yb, name="yb-mzsf", title="门诊收费结算明细", domain="insurance")
    dataset(wj, name="wj-mz", title="门诊病历数据", notes="不含收费信息的门诊病历")

    # a title match ranks above a description match
    assert names(search(q="高血压")) == ["gxy", "notes-only"]
    # the 医保 resources (title, and the unit 市医保局 they belong to)
    assert sorted(names(search(q="医保"))) == ["yb-js", "yb-mzsf"]
    assert names(search(q="医保"))[0] == "yb-js"  # the title match first
    # a mixed query: every word must match, in any field; the title match ranks first
    assert names(search(q="门诊 收费")) == ["yb-mzsf", "wj-mz"]
    assert names(search(q="门诊收费")) == ["yb-mzsf", "wj-mz"]
    # a one-character word and a word jieba would cut differently still match titles
    assert "gxy" in names(search(q="压"))
    assert names(search(q="收费结算")) == ["yb-mzsf"]


# --- CLI ------------------------------------------------------------------------------

def test_search_index_cli(cli, catalog):
    from ckan.cli.cli import ckan

    from ckanext.sanyi.search import rebuild

    model.Session.execute(text("DELETE FROM sanyi_search_doc WHERE name = 'gxy'"))
    model.Session.commit()
    result = cli.invoke(ckan, ["search-index", "check"])
    assert result.exit_code == 0, result.output
    assert "Packages not indexed = 1 out of 6" in result.output

    result = cli.invoke(ckan, ["search-index", "rebuild", "-q"])
    assert result.exit_code == 0, result.output
    assert names(search(q="高血压")) == ["gxy"]
    result = cli.invoke(ckan, ["search-index", "check"])
    assert "Packages not indexed = 0 out of 6" in result.output

    result = cli.invoke(ckan, ["search-index", "show", "gxy"])
    assert result.exit_code == 0, result.output
    assert "高血压患者健康管理数据" in result.output

    result = cli.invoke(ckan, ["search-index", "clear", "gxy"])
    assert result.exit_code == 0, result.output
    assert search(q="高血压")["count"] == 0 and search()["count"] == 5
    result = cli.invoke(ckan, ["search-index", "clear"])
    assert result.exit_code == 0, result.output
    assert search()["count"] == 0

    # a stale row of a dataset that no longer exists is dropped by the sanyi rebuild
    model.Session.execute(text(
        "INSERT INTO sanyi_search_doc (index_id, id, site_id, name, labels, state, doc) "
        "VALUES ('stale', 'no-such-id', 'default', 'stale', '{public}', 'active', '{}')"))
    model.Session.commit()
    result = cli.invoke(ckan, ["sanyi", "search-index", "rebuild", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    assert "索引 / indexing" in result.output
    assert search()["count"] == 6
    assert sorted(rebuild.indexed_ids("default")) == sorted(d["id"] for d in catalog.values())


# --- index use and the result cache ---------------------------------------------------

def test_filtered_and_full_text_searches_use_the_gin_indexes(sanyi_orgs):
    """20,000 rows (of a real row's width) loaded straight into the index table, ANALYZE,
    then the plans of the real statements (no planner settings changed): a Bitmap Index Scan
    on the GIN index answers words and terms, no sequential scan, no tsv re-check."""
    from ckanext.sanyi import search as sanyi_search
    from ckanext.sanyi.search import backend as b
    from ckanext.sanyi.search.connection import build_request
    model.Session.execute(text(
        "INSERT INTO sanyi_search_facet_value (term) SELECT 'organization=org-' || i "
        "FROM generate_series(0, 39) i UNION ALL SELECT 'update_cycle=c' || i "
        "FROM generate_series(0, 6) i ON CONFLICT DO NOTHING"))
    model.Session.execute(text("""
        WITH w AS (SELECT ARRAY['门诊','住院','检验','体检','药品','处方','手术','急诊','疫苗',
                                '妇幼','医保','参保','结算','收费','随访','登记'] AS v),
        g AS (SELECT i, v[1 + i % 16] || ' ' || v[1 + (i / 16) % 16] || ' 数据' AS words,
                     ARRAY['organization=org-' || (i % 40), 'update_cycle=c' || (i % 7),
                           'id=id-' || i, 'name=n-' || i]
                     -- as wide as a real row: CKAN documents have ~40 terms
                     || ARRAY(SELECT 'extras_f' || k || '=' || md5(i::text || k)
                              FROM generate_series(1, 30) k) AS terms
              FROM w, generate_series(1, 20000) i)
        INSERT INTO sanyi_search_doc (index_id, id, site_id, name, title, metadata_modified,
            state, capacity, dataset_type, entity_type, labels, terms, facet_ids, tsv, rank_tsv,
            doc, validated_data_dict)
        SELECT 'ix-' || i, 'id-' || i, 'default', 'n-' || i, replace(words, ' ', ''),
               now() - i * interval '1 minute', 'active', 'public', 'dataset', 'package',
               '{public}', terms,
               ARRAY(SELECT id FROM sanyi_search_facet_value WHERE term IN (
                     '*', 'organization=org-' || (i % 40), 'update_cycle=c' || (i % 7))),
               setweight(to_tsvector('simple', words), 'A') || array_to_tsvector(terms),
               setweight(to_tsvector('simple', words), 'A'),
               jsonb_build_object('id', 'id-' || i, 'name', 'n-' || i), '{}'
        FROM g"""))
    backend = sanyi_search.get_backend()
    backend.add([b.prepare({"id": "id-x", "index_id": "ix-x", "site_id": "default",
                            "name": "n-x", "title": "高血压患者健康管理数据", "state": "active",
                            "capacity": "public", "dataset_type": "dataset",
                            "entity_type": "package", "permission_labels": ["public"],
                            "organization": "org-x", "update_cycle": "monthly",
                            "validated_data_dict": "{}"})])
    model.Session.commit()
    model.Session.execute(text("ANALYZE sanyi_search_doc"))
    model.Session.commit()
    fq = ['+site_id:"default"', "+state:active", '+permission_labels:("public")']
    for q, extra, hits in (("高血压", [], 1), ("*:*", ['organization:"org-x"'], 1),
                           ("检验 结算", ['update_cycle:"c3"'], 22),
                           ("*:*", ['+organization:"org-3" -update_cycle:c3'], 428)):
        req = build_request(q, {"fq": fq + extra, "facet": "true", "rows": 21,
                                "sort": "score desc, metadata_modified desc",
                                "facet.field": ["organization", "update_cycle"],
                                "fl": "id validated_data_dict"})
        plan = "\n".join(backend.explain(req))
        model.Session.rollback()
        # words and terms alike: one scan of the one GIN index, nothing re-checked
        assert "Bitmap Index Scan on sanyi_search_doc_tsv" in plan, plan
        assert "Seq Scan on sanyi_search_doc" not in plan, plan
        assert "Filter: " not in plan or "tsv @@" not in plan.split("Filter: ")[1].split("\n")[0]
        assert backend.search(req).hits == hits


def test_cache_never_serves_results_from_before_a_write(sanyi_orgs):
    from ckanext.sanyi import search as sanyi_search
    backend = sanyi_search.get_backend()
    assert backend.cache.size > 0
    wj = sanyi_orgs["orgs"]["wj"]
    ds = dataset(wj, name="cached", title="检验结果数据")
    hits0 = backend.cache.hits
    assert names(search(q="检验")) == ["cached"]
    assert names(search(q="检验")) == ["cached"]
    assert backend.cache.hits == hits0 + 1  # the second one came from the cache
    helpers.call_action("package_patch", context={"user": sysadmin()}, id=ds["id"],
                        title="检查结果数据")
    assert names(search(q="检验")) == []
    # a write that is rolled back: the transaction that wrote bypasses the cache, and
    # afterwards nothing of it can be served
    from ckanext.sanyi.search.backend import DEFAULT_FACET_FIELDS
    from ckanext.sanyi.search.connection import SolrCompatConnection
    conn = SolrCompatConnection(backend, DEFAULT_FACET_FIELDS)
    doc = sanyi_search.make_connection().search('name:"cached"', fl="*").docs[0]
    doc = dict(doc, title="检验临时数据")
    conn.add([doc])
    assert conn.search("检验", fq=["+state:active"]).hits == 1  # own uncommitted write
    model.Session.rollback()
    assert names(search(q="检验")) == []
    assert names(search(q="检查")) == ["cached"]


def test_fl_returns_the_fields_asked_for_and_only_those(app, sanyi_orgs):
    """``fl`` with field names: each document holds exactly the fields asked for that it
    has (a stored null as null), never another, whatever the names (bound, not SQL)."""
    wj = sanyi_orgs["orgs"]["wj"]
    dataset(wj, name="fl-one", title="检验结果数据", maintainer=None, author="张三")
    for lang in ("", "/en"):
        for fl, want in (("name,author,maintainer", {"name": "fl-one", "author": "张三",
                                                      "maintainer": None}),
                         ("name title_string no_such_field", {
                             "name": "fl-one", "title_string": "检验结果数据"}),
                         ("name,x') OR 1=1 --", {"name": "fl-one"})):
            resp = app.get(f"{lang}/api/3/action/package_search",
                           query_string={"q": "检验", "fl": fl})
            assert resp.status_code == 200, resp.body
            assert resp.json["result"]["results"] == [want], (fl, resp.json)
