"""``ckan sanyi domain load``: a data unit's CSV or XLSX extract into its domain table.

Good extracts load (typed: dates, Decimal), recorded in ``loads`` and in CKAN's audit log; a
file with bad rows reports each row's number and reason and writes nothing; the same file
again changes nothing; ``upsert`` merges by key; wrong columns and a resource without a domain
table are refused as a whole (exit 2), bad rows exit 1.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from click.testing import CliRunner
from extract_files import (
    PERSONS_HEADER,
    VISITS_HEADER,
    loads,
    person,
    rows_of,
    write_csv,
    write_xlsx,
)

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery.datadomain import loader

pytestmark = pytest.mark.usefixtures("with_plugins")

P1 = person("P0001", "420802195803124021", "王秀兰")
P2 = person("P0002", "420804197206152317", "李建国", born="19720615", enrolled="2005-01-01")
P3 = person("P0003", "420881199009235625", "陈静", born="1990/9/23", enrolled="")


def _cli(*args: str):
    from ckanext.sanyi.cli import sanyi
    return CliRunner().invoke(sanyi, ["domain", *args])


def test_a_good_csv_loads_typed_recorded_and_audited(load_catalog, tmp_path):
    path = write_csv(tmp_path / "persons.csv", PERSONS_HEADER, [P1, P2, P3])
    report = loader.load_file("医保参保人员", path, user="yb_loader")   # by title
    assert report.errors == [] and report.rows == 3 and report.inserted == 3
    got = rows_of("persons")
    assert [r["person_no"] for r in got] == ["P0001", "P0002", "P0003"]
    assert got[1]["birth_date"] == dt.date(1972, 6, 15) and got[2]["enrolled_on"] is None
    assert got[0]["enrolled_on"] == dt.date(2001, 7, 1) and got[0]["phone"] is None
    [load] = loads()
    assert load["resource"] == "yb-persons" and load["source_table"] == "persons"
    assert load["origin"] == "persons.csv" and load["rows"] == 3
    assert load["loaded_by"] == "yb_loader" and len(load["sha256"]) == 64
    [rec] = audit.list(action="sanyi_domain_load")
    assert rec["actor"] == "yb_loader" and rec["object_id"] == "persons"
    assert rec["after"]["sha256"] == load["sha256"] and rec["after"]["inserted"] == 3
    assert "王秀兰" not in str(rec)   # the audit log holds counts, never the rows


def test_gb18030_csv_and_sql_column_headers(load_catalog, tmp_path):
    header = ["person_no", "id_number", "name", "sex", "birth_date", "insurance_type",
              "region_code"]
    path = write_csv(tmp_path / "p.csv", header, [P1[:7]], encoding="gb18030")
    assert loader.load_file("yb-persons", path).inserted == 1
    assert rows_of("persons")[0]["name"] == "王秀兰"


def test_a_good_xlsx_loads_excel_dates_and_numbers(load_catalog, tmp_path):
    rows = [["V1", "P0001", "420802195803124021", "H42080200001", "市第一人民医院",
             dt.datetime(2026, 3, 2), "I10", 123.4],
            ["V2", "P0001", "420802195803124021", "H42080200001", "市第一人民医院",
             46082, "E11.9", 88],                      # an Excel serial date, an int
            ["V3", "P0002", "420804197206152317", "H42080200002", "市第二人民医院",
             "2026-04-08", "J06.9", "56.70"]]
    path = write_xlsx(tmp_path / "visits.xlsx", VISITS_HEADER, rows)
    report = loader.load_file("wj-visits", path)
    assert report.errors == [] and report.inserted == 3
    got = {r["visit_id"]: r for r in rows_of("outpatient_visits")}
    assert got["V1"]["visit_date"] == dt.date(2026, 3, 2)
    assert got["V2"]["visit_date"] == dt.date(2026, 3, 1)
    assert got["V1"]["total_fee"] == Decimal("123.40") and got["V2"]["total_fee"] == Decimal(88)
    assert isinstance(got["V3"]["total_fee"], Decimal)


def test_bad_rows_are_each_reported_and_nothing_is_written(load_catalog, tmp_path):
    loader.load_file("yb-persons", write_csv(tmp_path / "good.csv", PERSONS_HEADER, [P1]))
    before = rows_of("persons")
    bad = [P2,
           person("P0004", "420802195803124021", "赵四", born="1960-02-30"),   # row 3
           person("P0005", "", "钱五"),                                         # row 4
           P2,                                                                  # row 5
           [],                                                                  # blank
           person("P0006", "420802195803124021", "孙六", enrolled="明年")]      # row 7
    path = write_csv(tmp_path / "bad.csv", PERSONS_HEADER, bad)
    report = loader.load_file("yb-persons", path)
    errors = {e.row: e for e in report.errors}
    assert sorted(errors) == [3, 4, 5, 7]
    assert "出生日期：不是有效日期" in errors[3].zh and "birth_date: not a valid date" in errors[3].en
    assert "身份证号：必填项为空" in errors[4].zh and "id_number: missing value" in errors[4].en
    assert "个人编码与第 2 行重复" in errors[5].zh and "repeats row 2" in errors[5].en
    assert "参保日期" in errors[7].zh and "明年" in errors[7].zh
    assert rows_of("persons") == before and len(loads()) == 1
    result = _cli("load", "yb-persons", path)
    assert result.exit_code == 1, result.output
    for n in (3, 4, 5, 7):
        assert f"第 {n} 行 / row {n}:" in result.output
    assert "未写入任何数据" in result.output and "nothing was written" in result.output
    assert rows_of("persons") == before and len(loads()) == 1


def test_a_non_numeric_decimal_refuses_the_file(load_catalog, tmp_path):
    row = ["V1", "P0001", "420802195803124021", "H42080200001", "市第一人民医院", "2026-03-02",
           "I10"]
    path = write_csv(tmp_path / "v.csv", VISITS_HEADER,
                     [row + ["12.50"], ["V2", *row[1:], "十二元"], ["V3", *row[1:], "1,200"],
                      ["V4", *row[1:], "0.125"]])
    report = loader.load_file("wj-visits", path)
    assert [e.row for e in report.errors] == [3, 4, 5]
    assert "医疗总费用：不是数字" in report.errors[0].zh and "total_fee: not a number" in \
        report.errors[0].en
    assert "小数位数超过 2 位" in report.errors[2].zh
    assert rows_of("outpatient_visits") == [] and loads() == []


def test_wrong_columns_refuse_the_whole_file_exit_2(load_catalog, tmp_path):
    loader.load_file("yb-persons", write_csv(tmp_path / "good.csv", PERSONS_HEADER, [P1]))
    # 联系电话 is a column of the table but not of the catalog's field list; 备注 of neither
    path = write_csv(tmp_path / "cols.csv", [*PERSONS_HEADER, "联系电话", "备注"],
                     [P2 + ["13800000000", "x"]])
    with pytest.raises(loader.LoadRefused) as e:
        loader.load_file("yb-persons", path)
    assert "联系电话" in e.value.zh and "备注" in e.value.zh
    assert "not in the field list" in e.value.en
    result = _cli("load", "yb-persons", path)
    assert result.exit_code == 2 and "字段列表中没有这些列" in result.output
    missing = write_csv(tmp_path / "missing.csv", ["个人编码", "姓名"], [["P9", "x"]])
    result = _cli("load", "yb-persons", missing)
    assert result.exit_code == 2 and "缺少必填列" in result.output and "身份证号" in result.output
    for bad in (tmp_path / "x.pdf", tmp_path / "empty.csv"):
        bad.write_bytes(b"")
        assert _cli("load", "yb-persons", str(bad)).exit_code == 2
    header_only = write_csv(tmp_path / "header.csv", PERSONS_HEADER, [])
    result = _cli("load", "yb-persons", header_only)
    assert result.exit_code == 2 and "没有数据行" in result.output
    assert [r["person_no"] for r in rows_of("persons")] == ["P0001"] and len(loads()) == 1


def test_the_same_file_again_changes_nothing(load_catalog, tmp_path):
    path = write_xlsx(tmp_path / "p.xlsx", PERSONS_HEADER, [P1, P2])
    first = _cli("load", "医保参保人员", path, "--user", "yb_loader")
    assert first.exit_code == 0, first.output
    assert "已载入 2 行" in first.output and "loaded 2 rows" in first.output
    again = _cli("load", "医保参保人员", path, "--user", "yb_loader")
    assert again.exit_code == 0, again.output
    load_id = loads()[0]["id"]
    assert f"与载入记录 #{load_id}" in again.output and "nothing changed" in again.output
    assert f"same file as load #{load_id}" in again.output
    assert len(loads()) == 1 and len(audit.list(action="sanyi_domain_load")) == 1
    # the same content in another file (and layout) changes nothing either
    csv_path = write_csv(tmp_path / "p.csv", PERSONS_HEADER, [P2, P1])
    report = loader.load_file("yb-persons", csv_path)
    assert report.unchanged and report.same_as is None and len(loads()) == 1


def test_replace_takes_the_file_as_the_table_and_upsert_merges(load_catalog, tmp_path):
    loader.load_file("yb-persons", write_csv(tmp_path / "a.csv", PERSONS_HEADER, [P1, P2]))
    renamed = person("P0002", "420804197206152317", "李建军", born="1972-06-15")
    upsert = write_csv(tmp_path / "b.csv", PERSONS_HEADER, [renamed, P3])
    report = loader.load_file("yb-persons", upsert, mode="upsert")
    assert (report.inserted, report.updated, report.deleted) == (1, 1, 0)
    got = {r["person_no"]: r["name"] for r in rows_of("persons")}
    assert got == {"P0001": "王秀兰", "P0002": "李建军", "P0003": "陈静"}
    # an upsert of fewer columns leaves the others as they were
    partial = write_csv(tmp_path / "c.csv", ["个人编码", "身份证号", "姓名", "性别", "出生日期",
                                             "险种类型", "参保地统筹区域编码"],
                        [person("P0001", "420802195803124021", "王秀英")[:7]])
    assert loader.load_file("yb-persons", partial, mode="upsert").updated == 1
    p1 = rows_of("persons")[0]
    assert p1["name"] == "王秀英" and p1["enrolled_on"] == dt.date(2001, 7, 1)
    assert loader.load_file("yb-persons", upsert, mode="upsert").unchanged
    report = loader.load_file("yb-persons", upsert)   # replace
    assert (report.inserted, report.updated, report.deleted) == (0, 0, 1)
    assert [r["person_no"] for r in rows_of("persons")] == ["P0002", "P0003"]
    assert [ld["rows"] for ld in loads()] == [2, 2, 1, 2]


def test_a_resource_with_no_domain_table_is_refused(load_catalog, tmp_path):
    path = write_csv(tmp_path / "p.csv", PERSONS_HEADER, [P1])
    for ref in ("gjj-deposits", "住房公积金缴存数据", load_catalog["other"]["id"]):
        with pytest.raises(loader.LoadRefused) as e:
            loader.load_file(ref, path)
        assert "没有数据域表" in e.value.zh and "not backed by a data domain table" in e.value.en
    result = _cli("load", "gjj-deposits", path)
    assert result.exit_code == 2 and "没有数据域表" in result.output
    result = _cli("load", "no-such-resource", path)
    assert result.exit_code == 2 and "未找到资源" in result.output
    result = _cli("load", "yb-persons", path, "--user", "nobody")
    assert result.exit_code == 2 and "未知的用户" in result.output
    assert loads() == [] and rows_of("persons") == []
