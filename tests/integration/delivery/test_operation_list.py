"""sanyi_operation_list over HTTP (anonymous, with an API token, with a session; both
languages in every answer), the 数据产品服务 / Operations section of the product pages in Chinese
and English, and check_reads against the items an application may request from the demo
catalog."""
from __future__ import annotations

import hashlib

import pytest
from ckan.tests import factories, helpers
from pagecheck import checked_body, page_text

from ckanext.sanyi.applications.products import item_options
from ckanext.sanyi.catalog import demo
from ckanext.sanyi.delivery.datadomain import catalog_link
from ckanext.sanyi.delivery.operations import engine, spec
from ckanext.sanyi.delivery.operations.errors import DataItemsExceeded

pytestmark = pytest.mark.usefixtures("with_plugins")
SANYI = {"智慧核保(核保调查)": ["risk-assessment"], "理赔调查(核赔调查)": ["visit-verification"],
         "慢病线上开处方": ["renewal-eligibility"], "回顾性疗效安全性研究": ["cohort-statistics"],
         "个人健康画像与风险预警": ["health-profile"]}
API = "/api/3/action/sanyi_operation_list"


def product_name(scenario: str) -> str:
    return "p-" + hashlib.sha1(scenario.encode()).hexdigest()[:12]


@pytest.fixture(scope="module")
def demo_catalog(reset_db, migrate_db_for):
    """Once for the module: an empty database with the demo catalog and products (without
    the demo's processor, clients and entitlements), a user and a sysadmin with API tokens,
    and a draft (unlisted) product of the same scenario as 智慧核保 under another title."""
    import ckan.plugins
    from ckan import model
    ckan.plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("sanyi")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("ckanext.sanyi.delivery.client_demo.load_demo_clients", lambda echo: None)
        mp.setattr("ckanext.sanyi.delivery.processors.load_demo", lambda echo: None)
        demo.load(echo=lambda s: None)
    factories.User(name="visitor")
    factories.Sysadmin(name="root")
    helpers.call_action(
        "package_create", context={"user": "root"}, type="product", name="draft-underwriting",
        title="智慧核保（草稿）", owner_org="san-yi-yun-ying", category="industrial",
        scenario="智慧核保(核保调查)", product_forms=["api"], supplying_units=["shi-wei-jian-wei"],
        source_resources=[], status="draft")
    tokens = {"visitor": factories.APIToken(user="visitor")["token"],
              "root": factories.APIToken(user="root")["token"]}
    model.Session.commit()
    return tokens


def _list(app, headers=None, status=200, **params):
    res = app.get(API, query_string=params, headers=headers or {})
    assert res.status_code == status, res.get_data(as_text=True)[:500]
    return res.json


def test_anonymous_lists_every_listed_product_with_its_operations(app, demo_catalog):
    answer = _list(app)["result"]
    by_scenario = {p["scenario"] or p["title"]: p for p in answer["results"]}
    assert "draft-underwriting" not in {p["name"] for p in answer["results"]}
    assert {s: [o["name"] for o in p["operations"]] for s, p in by_scenario.items()
            if p["operations"]} == SANYI
    for scenario in ("普惠金融", "公共交通实时数据", "真实房屋租赁场景"):
        assert by_scenario[scenario]["operations"] == []
    assert {c["name"] for c in answer["privacy_classes"]} == {"verification", "profile",
                                                              "aggregate"}
    for product in answer["results"]:
        for op in product["operations"]:
            for key in ("title", "description"):
                assert op[key]["zh"] and op[key]["en"] and op[key]["zh"] != op[key]["en"]
            assert op["input_schema"]["$schema"].endswith("2020-12/schema")
            for read in op["reads"]:
                assert read["resource"] is not None, (op["name"], read["table"])
                for f in read["fields"]:
                    assert f["item"] == f"{read['resource']['name']}:{f['field_name']}"


def test_one_product(app, demo_catalog):
    name = product_name("智慧核保(核保调查)")
    (product,) = _list(app, product=name)["result"]["results"]
    assert product["name"] == name
    (op,) = product["operations"]
    assert op["name"] == "risk-assessment" and op["consent_required"] is True
    assert op["privacy"] == {"name": "profile", "title": {"zh": "画像", "en": "Profile"}}
    assert op["input_schema"]["required"] == ["id_number", "consent_ref"]
    assert [f["name"] for f in op["input_fields"]] == ["id_number", "consent_ref"]
    assert {r["resource"]["title"] for r in op["reads"]} == {
        "医保参保人员", "高血压患者健康管理数据", "入院登记数据", "出院记录数据", "门诊就诊记录数据"}
    (none,) = _list(app, product=product_name("普惠金融"))["result"]["results"]
    assert none["operations"] == []


def test_an_unlisted_product_is_not_found_but_to_who_may_see_it(app, demo_catalog):
    for headers in ({}, {"Authorization": demo_catalog["visitor"]}):
        answer = _list(app, headers, 404, product="draft-underwriting")
        assert answer["success"] is False
    (product,) = _list(app, {"Authorization": demo_catalog["root"]},
                       product="draft-underwriting")["result"]["results"]
    assert [o["name"] for o in product["operations"]] == ["risk-assessment"]
    assert "draft-underwriting" in {p["name"] for p in _list(
        app, {"Authorization": demo_catalog["root"]})["result"]["results"]}


def test_unknown_or_malformed_product(app, demo_catalog):
    assert _list(app, status=404, product="no-such-product")["success"] is False
    res = app.post(API, json={"product": ["x"]})
    assert res.status_code == 409 and "product" in res.json["error"]


def test_the_same_answer_with_a_token_and_with_a_session(app, demo_catalog, login):
    anonymous = _list(app)["result"]
    assert _list(app, {"Authorization": demo_catalog["visitor"]})["result"] == anonymous
    login(app, "visitor")
    assert _list(app)["result"] == anonymous


@pytest.mark.parametrize("prefix, expect", [
    ("", ["数据产品服务", "健康风险评估", "risk-assessment", "隐私类别", "画像", "需被查询人授权",
          "身份证号", "入院登记数据", "consent_ref", "必填"]),
    ("/en", ["Operations", "Health risk assessment", "risk-assessment", "Privacy class",
             "Profile", "Consent reference required", "consent_ref", "required"]),
])
def test_the_product_page_lists_its_operations(app, demo_catalog, prefix, expect):
    url = f"{prefix}/product/{product_name('智慧核保(核保调查)')}"
    text = page_text(checked_body(app.get(url), url))
    for phrase in expect:
        assert phrase in text, phrase
    assert "sanyi_operation_list" in checked_body(app.get(url), url)


@pytest.mark.parametrize("prefix, sentence", [
    ("", "该产品暂未提供在数据域内计算的服务"),
    ("/en", "This product offers no operation computed inside the data domain yet"),
])
def test_a_product_without_operations_says_so(app, demo_catalog, prefix, sentence):
    for scenario in ("普惠金融", "公共交通实时数据", "真实房屋租赁场景"):
        url = f"{prefix}/product/{product_name(scenario)}"
        assert sentence in page_text(checked_body(app.get(url), url)), scenario


def test_check_reads_against_the_items_an_application_may_request(demo_catalog):
    resources = catalog_link.resources()
    for scenario, names in SANYI.items():
        pkg = helpers.call_action("package_show", id=product_name(scenario))
        offered = {o["value"] for o in item_options(pkg)}
        for name in names:
            op = spec.get(name)
            needed = engine.required_items(op, resources)
            assert needed <= offered, (name, needed - offered)
            engine.check_reads(op, sorted(offered))                 # the catalog's own lookup
            engine.check_reads(op, sorted(needed), resources=resources)
            missing = sorted(needed)[0]
            with pytest.raises(DataItemsExceeded) as err:
                engine.check_reads(op, sorted(needed - {missing}), resources=resources)
            assert err.value.code == "data_items_exceeded" and err.value.missing == (missing,)
            assert missing in err.value.zh and missing in err.value.en
            # a whole resource (no field) covers every field of it
            resource = missing.split(":", 1)[0]
            engine.check_reads(op, sorted(needed - {missing}) + [resource], resources=resources)
    with pytest.raises(DataItemsExceeded):
        engine.check_reads("cohort-statistics", None)


def test_operations_of_a_catalog_name(demo_catalog):
    """What the gateway and the API clients ask: a product's operations by its catalog name
    (its scenario read from CKAN)."""
    for scenario, names in SANYI.items():
        assert [o.name for o in spec.operations_of(product_name(scenario))] == names
    assert [o.name for o in spec.operations_of("draft-underwriting")] == ["risk-assessment"]
    assert spec.operations_of(product_name("普惠金融")) == ()
    assert spec.operations_of("no-such-product") == ()
    assert engine.resolve(product_name("慢病线上开处方"), "renewal-eligibility").name == \
        "renewal-eligibility"
    with pytest.raises(engine.UnknownOperation):
        engine.resolve(product_name("慢病线上开处方"), "risk-assessment")
