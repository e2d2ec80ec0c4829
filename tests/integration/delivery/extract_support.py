"""Fixtures and helpers of the tests of loading extracts (test_domain_load.py,
test_domain_fdw.py, test_domain_unreadable.py).

``load_domain``: the configured data domain becomes a scratch database of its own
(``<domain database>_load``, created once per session by devtools as deploy/setup.sh creates
the domain, owned by the domain role), emptied before each test, so that replacing a table
here never touches rows another fixture generated in the configured domain.
``load_catalog``: the catalog resources the tests load into (医保参保人员 of 市医保局 with a
field list leaving out 联系电话; 门诊就诊记录数据 and 高血压患者健康管理数据 of 市卫健委 with the
full list) and one resource with no domain table (住房公积金缴存数据 of 市公积金中心).
"""
from __future__ import annotations

import csv
import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from ckan.tests import factories, helpers

from ckanext.sanyi.delivery.datadomain import catalog_link, sources, store, tables

DOMAIN_KEY = "ckanext.sanyi.domain.url"
PERSONS_HEADER = ["个人编码", "身份证号", "姓名", "性别", "出生日期", "险种类型", "参保地统筹区域编码",
                  "参保日期"]
VISITS_HEADER = ["医保就诊ID", "个人编码", "身份证号", "医疗机构编码", "医疗机构名称", "就诊日期",
                 "诊断编码", "医疗总费用"]


@pytest.fixture(scope="session")
def configured_domain_url() -> str:
    """The domain URL of the test configuration (before ``load_domain`` replaces it)."""
    return store.configured_url()


@pytest.fixture(scope="session")
def load_domain_url() -> str:
    from ckanext.sanyi import devtools
    configured = sa.engine.make_url(store.configured_url())
    url = devtools.create_domain_database(f"{configured.database}_load", recreate=True)
    store.ensure_schema(url)
    return url


def empty_domain(url: str) -> None:
    from psycopg2 import sql
    with store.begin(url) as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS sanyi_foreign CASCADE"))
        servers = [r[0] for r in conn.execute(sa.text(
            "SELECT srvname FROM pg_foreign_server WHERE srvname LIKE 'unit\\_%'"))]
        with conn.connection.driver_connection.cursor() as cur:
            for name in servers:
                cur.execute(sql.SQL("DROP SERVER {} CASCADE").format(sql.Identifier(name)))
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def load_domain(load_domain_url, monkeypatch) -> str:
    import ckan.plugins.toolkit as tk
    monkeypatch.setitem(tk.config, DOMAIN_KEY, load_domain_url)
    empty_domain(load_domain_url)
    return load_domain_url


def _resource(org: str, name: str, title: str, domain: str, fields: list[dict[str, str]] | None
              ) -> dict[str, Any]:
    data: dict[str, Any] = dict(
        name=name, title=title, owner_org=org, domain=domain, delivery_methods=["api"],
        update_cycle="monthly", grade_level="L3", open_attribute="authorized",
        last_updated="2026-11-20")
    if fields is not None:
        data["data_fields"] = fields
    return helpers.call_action("package_create", context={"user": "domain_admin"}, **data)


@pytest.fixture
def load_catalog(clean_db, load_domain) -> dict[str, Any]:
    factories.Sysadmin(name="domain_admin")
    factories.User(name="yb_loader")
    factories.Organization(name="shi-yi-bao-ju", title="市医保局")
    factories.Organization(name="shi-wei-jian-wei", title="市卫健委")
    factories.Organization(name="gong-ji-jin", title="市公积金中心")
    persons = sources.by_table("persons")
    listed = [f for f in catalog_link.field_list(persons) if f["field_name"] != "联系电话"]
    return {
        "persons": _resource("shi-yi-bao-ju", "yb-persons", "医保参保人员", "insurance", listed),
        "visits": _resource("shi-wei-jian-wei", "wj-visits", "门诊就诊记录数据", "health",
                            catalog_link.field_list(sources.by_table("outpatient_visits"))),
        "chronic": _resource("shi-wei-jian-wei", "wj-hypertension", "高血压患者健康管理数据",
                             "health", catalog_link.field_list(
                                 sources.by_table("chronic_registrations"))),
        "other": _resource("gong-ji-jin", "gjj-deposits", "住房公积金缴存数据", "fund", None),
    }


def write_csv(path: Any, header: list[str], rows: list[list[Any]], encoding: str = "utf-8"
              ) -> str:
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def write_xlsx(path: Any, header: list[str], rows: list[list[Any]]) -> str:
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return str(path)


def rows_of(table: str, order: str | None = None) -> list[dict[str, Any]]:
    t = tables.table(table)
    key = sources.by_table(table).key
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(t).order_by(t.c[order or key])).mappings()]


def loads() -> list[dict[str, Any]]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(tables.loads).order_by(tables.loads.c.id)).mappings()]


def person(no: str, id_number: str, name: str, born: str = "1958-03-12",
           enrolled: str = "2001/7/1") -> list[str]:
    return [no, id_number, name, "2", born, "310", "420802", enrolled]


TODAY = dt.date(2026, 12, 1)
