"""Checks of a data unit's extract (domain/extract.py): headers, typed cells, rows."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ckanext.sanyi.domain.extract import CellError, HeaderError, RowChecker, Spec, map_header, parse

SHANGHAI = ZoneInfo("Asia/Shanghai")
SPECS = [Spec("person_no", "个人编码", "code", required=True, key=True, sensitive=True),
         Spec("name", "姓名", "string", required=True, sensitive=True),
         Spec("birth_date", "出生日期", "date", required=True),
         Spec("fee", "医疗总费用", "decimal"),
         Spec("days", "住院天数", "integer"),
         Spec("seen_at", "就诊时间", "datetime")]


@pytest.mark.parametrize("value", ["2026-03-01", "2026/3/1", "2026.03.01", "2026-3-1",
                                   "20260301", "2026年3月1日", 46082, 46082.0,
                                   dt.datetime(2026, 3, 1), dt.date(2026, 3, 1),
                                   "2026-03-01 00:00:00", " 2026-03-01 "])
def test_dates_in_every_accepted_form(value):
    assert parse(value, "date") == dt.date(2026, 3, 1)


@pytest.mark.parametrize("value", ["2026-02-30", "2026-13-01", "01/03/2026", "2026-03",
                                   "1800-01-01", "2026-03-01 08:30", 46082.5, "明天",
                                   dt.datetime(2026, 3, 1, 9, 0)])
def test_bad_dates(value):
    with pytest.raises(CellError) as e:
        parse(value, "date")
    assert e.value.zh and e.value.en


def test_decimals_are_decimal_never_float():
    assert parse("12.5", "decimal") == Decimal("12.50")
    assert isinstance(parse(12.3, "decimal"), Decimal)
    assert parse(12.3, "decimal") == Decimal("12.30")
    assert parse(0.1 + 0.2, "decimal") == Decimal("0.30")  # a float of an Excel formula
    assert parse(7, "decimal") == Decimal("7.00")
    assert parse("-0.50", "decimal") == Decimal("-0.50")
    for bad in ("12,5", "1,234.00", "12元", "1e3", "NaN", "Infinity", "--1", "12.345",
                "1000000000000"):
        with pytest.raises(CellError):
            parse(bad, "decimal")
    assert parse("999999999999.99", "decimal") == Decimal("999999999999.99")


def test_integers_codes_and_text():
    assert parse("12", "integer") == 12 and parse(12.0, "integer") == 12
    for bad in ("12.5", "1e3", "x", 2**31, True):
        with pytest.raises(CellError):
            parse(bad, "integer")
    assert parse(" I10 ", "code") == "I10"
    assert parse(123456789012345.0, "code") == "123456789012345"
    with pytest.raises(CellError) as e:
        parse(4.20802195803124e17, "code")  # an identity number Excel made a number
    assert "文本" in e.value.zh and "text" in e.value.en
    for bad in ("A 1", "A\u30001", "x" * 65, "a\x00b"):
        with pytest.raises(CellError):
            parse(bad, "code")
    assert parse("东宝区 社区卫生服务中心", "string") == "东宝区 社区卫生服务中心"
    with pytest.raises(CellError):
        parse("x" * 2001, "string")
    assert parse("", "string") is None and parse(None, "decimal") is None


def test_datetimes_naive_in_the_given_zone():
    assert parse("2026-03-01 08:30", "datetime", tz=SHANGHAI) == \
        dt.datetime(2026, 3, 1, 8, 30, tzinfo=SHANGHAI)
    assert parse("2026-03-01T00:30:00+00", "datetime") == \
        dt.datetime(2026, 3, 1, 0, 30, tzinfo=dt.timezone.utc)
    assert parse("2026/3/1 8:30:15", "datetime", tz=SHANGHAI).second == 15
    assert parse(dt.datetime(2026, 3, 1, 8, 30), "datetime", tz=SHANGHAI).tzinfo is SHANGHAI
    for bad in ("2026-03-01 25:00", "2026-03-01 8h", "x"):
        with pytest.raises(CellError):
            parse(bad, "datetime")


def test_header_by_chinese_or_column_name():
    mapped = map_header(["\ufeff个人编码", "name", "出生日期", "", "医疗总费用"], SPECS)
    assert [s.column if s else None for s in mapped] == \
        ["person_no", "name", "birth_date", None, "fee"]


def test_header_refuses_unknown_duplicate_and_missing_columns_at_once():
    with pytest.raises(HeaderError) as e:
        map_header(["个人编码", "person_no", "备注", "住院天数"], SPECS)
    zh, en = e.value.zh, e.value.en
    assert "备注" in zh and "重复" in zh and "姓名" in zh and "出生日期" in zh
    assert "not in the field list" in en and "Duplicate" in en and "Missing required" in en
    assert map_header(["个人编码", "姓名", "出生日期", "备注"], SPECS, ignore_unknown=True)[3] is None


def test_rows_every_reason_once_with_row_numbers_and_no_sensitive_values():
    checker = RowChecker(map_header(["个人编码", "姓名", "出生日期", "医疗总费用"], SPECS))
    good = checker.check(2, ["P1", "张三", "1958-03-12", "12.5"])
    assert good == ("P1", "张三", dt.date(1958, 3, 12), Decimal("12.50"))
    assert checker.check(3, ["P2", "", "1958-02-30", "abc"]) is None
    assert checker.check(4, ["P1", "李四", "1960-01-01", ""]) is None   # duplicate key
    assert checker.check(5, ["P 3", "王五", "1960-01-01", "", "extra"]) is None
    rows = {e.row: e for e in checker.errors}
    assert sorted(rows) == [3, 4, 5]
    assert "姓名：必填项为空" in rows[3].zh and "出生日期：不是有效日期" in rows[3].zh
    assert "1958-02-30" in rows[3].zh and "abc" in rows[3].en
    assert "个人编码与第 2 行重复" in rows[4].zh and "repeats row 2" in rows[4].en
    assert "P1" not in rows[4].message()   # the key is sensitive: not echoed
    assert "P 3" not in rows[5].message() and "whitespace" in rows[5].en
    assert "more values than header columns" in rows[5].en
    assert checker.rows == 4
