"""Search finds what people type, on the demo catalog (``ckan sanyi load-demo``), over HTTP:
pinyin and initials, traditional characters, synonyms and abbreviations, English titles and
prefixes, phrases by position, extras/author/maintainer, minimum-should-match, mid-word
autocomplete, choice labels as filters, titles sorted by pinyin.

One world for the module (the demo loader, once, plus three datasets of CKAN's own search
tests' kind), one test app; reads only.
"""
from __future__ import annotations

from typing import Any

import pytest
from ckan import model
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("with_plugins")

HYPERTENSION = "高血压患者健康管理数据"


@pytest.fixture(scope="module")
def demo(demo_portal_data) -> dict[str, Any]:
    from ckan.tests import helpers

    org = model.Session.execute(text(
        "SELECT name FROM \"group\" WHERE is_organization AND title = '市卫健委'")).scalar()
    base = dict(owner_org=org, domain="health", delivery_methods=["file"],
                update_cycle="monthly", grade_level="L1", open_attribute="open",
                last_updated="2026-01-05")
    ctx = {"user": "admin", "ignore_auth": True}
    for name, title, extra in (
            ("gov-exp", "Government Expenditure", {}),
            ("gov-extra-exp", "Government Extra Expenditure", {}),
            ("public-stuff", "Some public stuff",
             {"author": "Zhang Authorname", "maintainer": "Li Maintainername",
              "extras": [{"key": "origin", "value": "legacyportal"}]})):
        helpers.call_action("package_create", context=dict(ctx), name=name, title=title,
                            **base, **extra)
    model.Session.remove()
    yield {"org": org}


@pytest.fixture(scope="module")
def api(demo):
    from ckan.lib.app_globals import _CONFIG_CACHE
    from ckan.tests import helpers
    _CONFIG_CACHE.clear()
    app = helpers._get_test_app()

    def search(**params: Any) -> dict[str, Any]:
        res = app.get("/api/3/action/package_search", query_string=params)
        assert res.status_code == 200, res.body
        return res.json["result"]
    search.app = app  # type: ignore[attr-defined]
    return search


def titles(result: dict[str, Any]) -> list[str]:
    return [r["title"] for r in result["results"]]


def found(api, q: str, **params: Any) -> set[str]:
    return set(titles(api(q=q, rows=100, **params)))


def test_pinyin_initials_and_traditional_find_the_simplified_title(api):
    for q in ("gaoxueya", "gxy", "GaoXueYa", "高血压", "高血壓"):
        assert HYPERTENSION in found(api, q), q


def test_pinyin_and_traditional_find_the_same_resources(api):
    for simplified, other in (("医保", "yibao"), ("医保", "醫保"), ("门诊", "門診"),
                              ("门诊", "menzhen"), ("门诊收费", "門診收費")):
        want = found(api, simplified)
        assert want, simplified
        assert found(api, other) == want, other


def test_synonyms_find_each_other(api):
    for short, long in (("医保", "医疗保障"), ("卫健", "卫生健康"), ("药监", "药品监督管理"),
                        ("慢病", "慢性病"), ("核保", "承保审核")):
        a, b = found(api, short), found(api, long)
        assert a, short
        assert a == b, (short, long)


def test_synonym_of_a_title_word(api):
    # 慢病线上开处方 (a product) says 慢病; 慢性病 finds it through the synonym file
    assert "慢病线上开处方" in found(api, "慢性病", fq="dataset_type:product")


def test_english_title_is_searchable(api):
    for q in ("hypertension", "Hypertension", "hypert*", "HYPERT*", "hypertension patient",
              "title_en:hypertension", '"patient health management"'):
        assert HYPERTENSION in found(api, q), q


def test_english_prefix_matches_only_words_that_start_with_it(api):
    assert HYPERTENSION not in found(api, "ypert*")


def test_phrases_need_adjacent_words(api):
    for q, yes, no in (
            ('"Government Expenditure"', {"Government Expenditure"},
             {"Government Extra Expenditure"}),
            ("Government Expenditure", {"Government Expenditure", "Government Extra Expenditure"},
             set()),
            ('"门诊收费"', {"门诊收费数据"}, {"门诊就诊记录数据"}),
            ('"收费门诊"', set(), {"门诊收费数据"})):
        got = found(api, q)
        assert yes <= got, q
        assert not (no & got), q


def test_free_text_covers_author_maintainer_and_extras(api):
    for q in ("authorname", "maintainername", "legacyportal"):
        assert found(api, q) == {"Some public stuff"}, q
    # the schema's own fields are not free text through their extras copies
    assert found(api, "monthly") == set()


def test_one_unknown_word_among_several_does_not_empty_the_result(api):
    result = api(q="Government Expenditure zzyzxunknown", rows=10)
    assert {"Government Expenditure", "Government Extra Expenditure"} <= set(titles(result))
    # two unknown words of three: too few match
    assert api(q="Government qqqunknown zzyzxunknown")["count"] == 0
    # ranked by how many words match: all three before two of them
    ranked = titles(api(q="Government Extra Expenditure", rows=10))
    assert ranked.index("Government Extra Expenditure") < ranked.index("Government Expenditure")


def test_autocomplete_matches_inside_words(api):
    for q, title in (("bli", "Some public stuff"), ("ublic", "Some public stuff"),
                     ("血压", HYPERTENSION), ("压患", HYPERTENSION), ("gaoxue", HYPERTENSION)):
        res = api.app.get("/api/3/action/package_autocomplete", query_string={"q": q})
        assert res.status_code == 200
        assert title in [r["title"] for r in res.json["result"]], q


def test_choice_labels_are_filters_not_free_text(api):
    total = api(fq="dataset_type:dataset")["count"]
    assert api(fq="dataset_type:dataset delivery_methods:api")["count"] > total / 2
    for q in ("api", "接口", "API", "每月", "Monthly", "文件", "库表"):
        assert api(q=q, fq="dataset_type:dataset")["count"] < total / 2, q


def test_a_choice_label_query_still_offers_its_facet(api):
    result = api(q="接口", **{"facet.field": '["delivery_methods"]'})
    assert result["count"] > 0
    assert "delivery_methods" in result["search_facets"]
    page = api.app.get("/dataset/", query_string={"q": "接口"})
    assert page.status_code == 200
    assert "提供方式" in page.body


def test_titles_sort_by_pinyin(api):
    result = api(fq="dataset_type:dataset", sort="title_string asc", rows=100)
    cjk = [t for t in titles(result) if "\u4e00" <= t[0] <= "\u9fff"]
    from pypinyin import Style, lazy_pinyin
    keys = [lazy_pinyin(t, style=Style.TONE3) for t in cjk]
    assert keys == sorted(keys)
    assert cjk.index("不动产基本信息数据") < cjk.index("高血压患者健康管理数据") \
        < cjk.index("知识产权")


def test_search_pages_zh_and_en(api):
    for path, q, want in (("/dataset/", "gaoxueya", HYPERTENSION),
                          ("/dataset/", "門診收費", "门诊收费数据"),
                          # English pages show the demo's English titles (titles-en.csv)
                          ("/en/dataset/", "hypertension",
                           "Hypertension patient health management data"),
                          ("/en/dataset/", "yibao", "Medical insurance enrollees")):
        page = api.app.get(path, query_string={"q": q})
        assert page.status_code == 200
        assert want in page.body, (path, q)


def test_logged_in_user_without_role_finds_the_same(api, login):
    app = api.app
    login(app, "no_role")
    res = app.get("/api/3/action/package_search", query_string={"q": "yibao", "rows": 100})
    assert res.status_code == 200
    assert {r["title"] for r in res.json["result"]["results"]} == found(api, "医保")
