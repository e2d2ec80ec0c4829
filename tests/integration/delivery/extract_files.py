"""Helpers of the tests of loading extracts (test_domain_load.py, test_domain_fdw.py,
test_domain_unreadable.py, test_cohort_derived.py); their fixtures ``load_domain`` and
``load_catalog`` are in conftest.py. Extract files written as CSV or XLSX, the domain rows and
``loads`` a load leaves, a domain database emptied.
"""
from __future__ import annotations

import csv
import datetime as dt
from typing import Any

import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import sources, store, tables

DOMAIN_KEY = "ckanext.sanyi.domain.url"
PERSONS_HEADER = ["个人编码", "身份证号", "姓名", "性别", "出生日期", "险种类型", "参保地统筹区域编码",
                  "参保日期"]
VISITS_HEADER = ["医保就诊ID", "个人编码", "身份证号", "医疗机构编码", "医疗机构名称", "就诊日期",
                 "诊断编码", "医疗总费用"]


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
