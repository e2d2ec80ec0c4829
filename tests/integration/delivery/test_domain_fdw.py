"""A data unit's own database behind a resource (postgres_fdw): attach, then refresh.

The unit's database is ``ckan_sanyi_unit_test`` on the same server, owned by ``sanyi_unit``
(deploy/setup.sh creates it in test mode). Its table keeps some columns under their Chinese
field names, some under the SQL names, one column not in the field list and the
registration date as text, as a unit's own system may.
"""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from extract_files import loads, rows_of

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery.datadomain import fdw, loader, store

pytestmark = pytest.mark.usefixtures("with_plugins")

UNIT_URL = "postgresql://sanyi_unit:sanyi_unit@127.0.0.1/ckan_sanyi_unit_test"
ROWS = [("R001", "P0001", "420802195803124021", "I10", "高血压", "2019-05-10", "在管", "x"),
        ("R002", "P0001", "420802195803124021", "E11", "2型糖尿病", "2020/9/1", "在管", ""),
        ("R003", "P0009", "420802196001011234", "I10", "高血压", "20210315", "失访", None)]


@pytest.fixture
def unit_table():
    """registry.hbp in the unit's database, as the unit's own role creates it."""
    eng = sa.create_engine(UNIT_URL)
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS registry"))
        conn.execute(sa.text("DROP TABLE IF EXISTS registry.hbp"))
        conn.execute(sa.text(
            'CREATE TABLE registry.hbp ("登记编号" text PRIMARY KEY, person_no text, '
            '"身份证号" text, "慢病编码" text, condition_name text, "登记日期" text, '
            'status text, internal_note text)'))
        _insert(conn, ROWS)
    yield eng
    with eng.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS registry.hbp"))
    eng.dispose()


def _insert(conn, rows):
    conn.execute(sa.text("INSERT INTO registry.hbp VALUES (:a, :b, :c, :d, :e, :f, :g, :h)"),
                 [dict(zip("abcdefgh", r, strict=True)) for r in rows])


def _cli(*args):
    from ckanext.sanyi.cli import sanyi
    return CliRunner().invoke(sanyi, ["domain", *args])


def _attach(tmp_path, password="sanyi_unit", table="hbp", *extra):
    secret = tmp_path / "unit.pw"
    secret.write_text(password + "\n")
    return _cli("attach", "高血压患者健康管理数据", "--host", "127.0.0.1", "--port", "5432",
                "--dbname", "ckan_sanyi_unit_test", "--user", "sanyi_unit", "--password-file",
                str(secret), "--schema", "registry", "--table", table, *extra)


def test_attach_then_refresh_brings_the_rows_through_the_checks(load_catalog, unit_table,
                                                                 tmp_path):
    result = _attach(tmp_path)
    assert result.exit_code == 0, result.output
    assert "fdw:unit_shi_wei_jian_wei/registry.hbp" in result.output
    assert "sanyi_foreign.chronic_registrations" in result.output
    assert "3 行" in result.output and "internal_note" in result.output  # never mapped
    assert "sanyi_unit\n" not in result.output and "password" not in result.output
    with store.connect() as conn:
        owner = conn.execute(sa.text(
            "SELECT pg_get_userbyid(srvowner) FROM pg_foreign_server "
            "WHERE srvname = 'unit_shi_wei_jian_wei'")).scalar_one()
        cols = fdw.attachment(conn, "chronic_registrations")["columns"]
    assert owner == "sanyi_domain"
    assert "internal_note" not in cols and "managing_institution" not in cols
    assert rows_of("chronic_registrations") == []    # attaching reads nothing in

    result = _cli("refresh", "wj-hypertension")
    assert result.exit_code == 0, result.output
    got = rows_of("chronic_registrations")
    assert [r["registration_id"] for r in got] == ["R001", "R002", "R003"]
    assert got[1]["registered_on"] == dt.date(2020, 9, 1) and got[2]["status"] == "失访"
    [load] = loads()
    assert load["origin"] == "fdw:unit_shi_wei_jian_wei/registry.hbp" and load["rows"] == 3
    assert len(audit.list(action="sanyi_domain_attach")) == 1
    again = _cli("refresh", "wj-hypertension")
    assert again.exit_code == 0 and "nothing changed" in again.output and len(loads()) == 1

    with unit_table.begin() as conn:   # the unit changes a row and adds one
        conn.execute(sa.text("UPDATE registry.hbp SET status = '结案' WHERE \"登记编号\" = 'R003'"))
        _insert(conn, [("R004", "P0010", "420804197206152317", "I10", "高血压", "2026-01-05",
                        "在管", None)])
    report = fdw.refresh("wj-hypertension", mode="upsert")
    assert (report.inserted, report.updated, report.deleted) == (1, 1, 0)
    assert rows_of("chronic_registrations")[2]["status"] == "结案"


def _server_options():
    with store.connect() as conn:
        return sorted(conn.execute(sa.text(
            "SELECT srvoptions FROM pg_foreign_server WHERE srvname = 'unit_shi_wei_jian_wei'"
        )).scalar_one())


def test_a_bad_row_in_the_unit_table_loads_nothing(load_catalog, unit_table, tmp_path):
    assert _attach(tmp_path, "sanyi_unit", "hbp", "--sslmode", "disable").exit_code == 0
    assert "sslmode=disable" in _server_options()
    assert _attach(tmp_path).exit_code == 0   # attached again: the server altered
    assert _server_options() == ["dbname=ckan_sanyi_unit_test", "fetch_size=10000",
                                 "host=127.0.0.1", "port=5432"]
    assert fdw.refresh("wj-hypertension").inserted == 3
    before = rows_of("chronic_registrations")
    with unit_table.begin() as conn:
        _insert(conn, [("R005", "P0011", "420802196001011234", "I10", "高血压", "2026-02-30",
                        "在管", None),
                       ("R006", "P0012", None, "I 10", "高血压", "2026-02-01", "在管", None)])
    result = _cli("refresh", "wj-hypertension")
    assert result.exit_code == 1, result.output
    assert "第 4 条记录" in result.output and "登记编号“R005”" in result.output
    assert "登记日期：不是有效日期" in result.output and "registered_on: not a valid date" in \
        result.output
    assert "第 5 条记录" in result.output and "身份证号：必填项为空" in result.output
    assert "慢病编码：代码中不能有空白字符" in result.output
    assert rows_of("chronic_registrations") == before and len(loads()) == 1


def test_attach_refusals(load_catalog, unit_table, tmp_path):
    result = _cli("refresh", "wj-hypertension")
    assert result.exit_code == 2 and "尚未连接单位数据库" in result.output
    result = _attach(tmp_path, password="wrong-password")
    assert result.exit_code == 2 and "无法连接或读取单位数据库" in result.output
    assert "wrong-password" not in result.output
    hostile = 'hbp"; DROP TABLE registry.hbp; --'
    result = _attach(tmp_path, "sanyi_unit", hostile)
    assert result.exit_code == 2 and "单位数据库中没有表" in result.output
    with unit_table.connect() as conn:   # the name was quoted as one identifier
        assert conn.execute(sa.text("SELECT count(*) FROM registry.hbp")).scalar_one() == 3
    with unit_table.begin() as conn:
        conn.execute(sa.text('ALTER TABLE registry.hbp DROP COLUMN "身份证号"'))
    result = _attach(tmp_path)
    assert result.exit_code == 2 and "缺少必填列" in result.output and "身份证号" in result.output
    with store.connect() as conn:
        assert fdw.attachment(conn, "chronic_registrations") is None
    with pytest.raises(loader.LoadRefused):
        fdw.attach("gjj-deposits", host="127.0.0.1", port=5432, dbname="x", user="u",
                   password="p", table="t")
    assert audit.list(action="sanyi_domain_attach") == []
