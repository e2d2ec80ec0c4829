"""The demo's data domain: every resource backed by a domain table is in the catalog with its
field list and a sample, the 三医 products draw on what their operations read, and load-demo
generates the domain once per size and day (in a scratch domain database, never the one
``small_domain`` fills)."""
from __future__ import annotations

import datetime as dt

import ckan.plugins.toolkit as tk
import pytest
import sqlalchemy as sa
from ckan.tests import helpers

from ckanext.sanyi.catalog import demo, importer, units
from ckanext.sanyi.delivery import demo as domain_demo
from ckanext.sanyi.delivery.datadomain import catalog_link, generate, sources, store, tables

# what each product's operations read (its sources must cover them)
READS = {
    "智慧核保(核保调查)": ["市医保局/医保参保人员", "市卫健委/高血压患者健康管理数据", "市卫健委/入院登记数据",
                    "市卫健委/出院记录数据", "市卫健委/门诊就诊记录数据"],
    "理赔调查(核赔调查)": ["市医保局/医保参保人员", "市卫健委/门诊就诊记录数据", "市卫健委/入院登记数据"],
    "慢病线上开处方": ["市医保局/医保参保人员", "市卫健委/高血压患者健康管理数据", "市卫健委/门诊就诊记录数据",
                "市卫健委/门诊处方数据"],
    "回顾性疗效安全性研究": ["市卫健委/门诊处方数据", "市市场监管局/药品不良反应监测数据", "市医保局/医保参保人员"],
    "个人健康画像与风险预警": ["市医保局/医保参保人员", "市卫健委/高血压患者健康管理数据", "市卫健委/体检明细数据",
                    "市卫健委/检验明细数据"],
}


def _name(ref: str) -> str:
    unit, title = ref.split("/", 1)
    return importer.resource_name(units.unit_name(unit), title)


@pytest.mark.usefixtures("with_plugins", "clean_db")
def test_domain_resources_described_and_products_draw_on_them():
    demo.load(echo=lambda s: None)
    found = catalog_link.resources()
    assert set(found) == {s.table for s in sources.SOURCES}
    for s in sources.SOURCES:
        pkg = helpers.call_action("package_show", id=found[s.table]["id"])
        assert [(f["field_name"], f["field_type"], f["sensitive"]) for f in pkg["data_fields"]] \
            == [(f["field_name"], f["field_type"], f["sensitive"])
                for f in catalog_link.field_list(s)]
        assert pkg["sample_available"] == "yes" and pkg["private"] is False
        assert pkg["batch"] == (domain_demo.BATCH if s.new_resource else "第一批")
    products = {p["scenario"]: p for p in helpers.call_action(
        "package_search", fq="+dataset_type:product", rows=50)["results"]}
    for scenario, refs in READS.items():
        assert products[scenario]["status"] == "approved"
        assert {_name(r) for r in refs} <= set(products[scenario]["source_resources"]), scenario
    # described already: a second run changes nothing
    site = helpers.call_action("get_site_user")["name"]
    assert domain_demo.catalog_resources(site, dt.date(2026, 12, 1), echo=lambda s: None) == 0


@pytest.fixture
def demo_domain(monkeypatch):
    """The configured domain is a scratch database; load-demo generates 300 persons."""
    from ckanext.sanyi import devtools
    db = sa.engine.make_url(str(tk.config.get("ckanext.sanyi.domain.url"))).database
    url = devtools.create_domain_database(f"{db}_demo")
    monkeypatch.setitem(tk.config, "ckanext.sanyi.domain.url", url)
    monkeypatch.setitem(tk.config, "ckanext.sanyi.demo.domain_persons", 300)
    store.ensure_schema(url)
    with store.begin(url) as conn:
        conn.execute(sa.delete(tables.loads))
    yield url
    store.dispose()


def test_load_demo_generates_the_domain_once_a_day(demo_domain):
    day = dt.date(2026, 12, 1)
    assert domain_demo.ensure_domain(echo=lambda s: None, today=day) is True
    with store.connect(demo_domain) as conn:
        assert generate.current_origin(conn) == \
            f"generate:persons=300,seed={domain_demo.SEED},today=2026-12-01"
    assert domain_demo.ensure_domain(echo=lambda s: None, today=day) is False
    assert domain_demo.ensure_domain(echo=lambda s: None, today=day + dt.timedelta(days=1))
    with store.connect(demo_domain) as conn:
        assert generate.current_origin(conn).endswith("today=2026-12-02")


def test_no_domain_when_the_demo_size_is_zero(demo_domain, monkeypatch):
    monkeypatch.setitem(tk.config, "ckanext.sanyi.demo.domain_persons", 0)
    assert domain_demo.ensure_domain(echo=lambda s: None, today=dt.date(2026, 12, 1)) is False
    with store.connect(demo_domain) as conn:
        assert generate.current_origin(conn) is None


def test_loaded_extracts_are_never_replaced_by_the_demo(demo_domain):
    day = dt.date(2026, 12, 1)
    assert domain_demo.ensure_domain(echo=lambda s: None, today=day) is True
    with store.begin(demo_domain) as conn:
        conn.execute(tables.loads.insert().values(
            source_table="outpatient_visits", resource="市卫健委/门诊就诊记录数据",
            origin="门诊就诊记录.csv", sha256="0" * 64, rows=1, loaded_by="test"))
    said = []
    assert domain_demo.ensure_domain(echo=said.append, today=day + dt.timedelta(days=1)) is False
    assert "outpatient_visits" in said[-1]
    with store.connect(demo_domain) as conn:
        assert generate.last_origins(conn)["persons"].endswith("today=2026-12-01")
