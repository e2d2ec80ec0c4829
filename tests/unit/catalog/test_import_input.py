"""Reading what clerks type into a catalog import file (domain/catalog_input.py, no CKAN)."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sanyi.domain import catalog_input as ci
from ckanext.sanyi.domain.errors import DomainError


@pytest.mark.parametrize("text, items", [
    ("接口、库表、文件", ["接口", "库表", "文件"]),
    ("接口，文件", ["接口", "文件"]),
    ("接口,文件", ["接口", "文件"]),
    ("接口;库表", ["接口", "库表"]),
    ("接口；库表", ["接口", "库表"]),
    ("接口 、 ；库表,,", ["接口", "库表"]),
    ("接口\n文件", ["接口", "文件"]),
    ("ＡＰＩ，ｆｉｌｅ", ["API", "file"]),   # full-width letters folded
    ("", []),
])
def test_list_separators(text, items):
    assert ci.split_list(text) == items


@pytest.mark.parametrize("text", [
    "2026-11-01", "2026/11/01", "2026/11/1", "2026.11.01", "2026年11月1日", "2026年11月01日",
    "2026 年 11 月 1 日", "２０２６－１１－０１", "２０２６年１１月１日", "20261101",
    "2026-11-01 00:00:00", "2026-11-01T08:00:00", " 2026-11-01\u3000",
])
def test_dates_in_the_forms_clerks_type(text):
    assert ci.parse_date(text) == dt.date(2026, 11, 1)


@pytest.mark.parametrize("text", ["2026/13/01", "2026年2月30日", "11/01/2026", "下个月", "2026-11"])
def test_bad_dates_say_which_forms_are_accepted(text):
    with pytest.raises(DomainError) as e:
        ci.parse_date(text)
    assert e.value.field == "last_updated"
    assert "日期格式无效" in e.value.zh and "2026年11月1日" in e.value.zh
    assert "Invalid date" in e.value.en and text in e.value.en


def test_fold_is_nfkc_and_strips_ideographic_spaces():
    assert ci.fold("\u3000ＡＢＣ１２３\u3000") == "ABC123"
    assert ci.fold("市卫健委 ") == "市卫健委"
    assert ci.clean_text("\ufeff（第１号）\u3000") == "（第１号）"  # titles: never folded


HEADERS = {"序号": "seq", "数源单位": "unit", "数据资源名称": "title", "提供方式": "delivery_methods",
           "更新周期": "update_cycle", "source_unit": "unit"}
REQUIRED = ("unit", "title", "delivery_methods", "update_cycle")


def test_header_found_below_title_rows():
    rows = [["公共数据资源目录（第二批）导入模板", None, None],
            ["填表单位：市卫健委", "", ""],
            ["序号", "数源单位*", "数据资源名称 *", "提供方式", "更新周期"],
            ["1", "市卫健委", "门诊数据", "接口", "每月"]]
    assert ci.header_row(rows, HEADERS, REQUIRED) == 2
    assert ci.header_row(rows[2:], HEADERS, REQUIRED) == 0


def test_header_keys_fold_full_width_and_english_case():
    assert ci.header_key("ｓｏｕｒｃｅ＿ｕｎｉｔ", HEADERS) == "unit"
    assert ci.header_key("Source_Unit", HEADERS) == "unit"
    assert ci.header_key("\ufeff序号", HEADERS) == "seq"
    assert ci.header_key("备注", HEADERS) is None


UNITS = ["市卫健委", "市医保局", "市市场监管局", "市药监局", "市人社局", "荆门住房公积金中心"]


@pytest.mark.parametrize("typed, first", [
    ("卫健委", "市卫健委"),            # a part of the name
    ("市卫建委", "市卫健委"),          # a wrong character
    ("市医疗保障局", "市医保局"),
    ("住房公积金中心", "荆门住房公积金中心"),
    ("ｍ市药监局", "市药监局"),
])
def test_closest_units(typed, first):
    near = ci.closest(typed, UNITS)
    assert near and near[0] == first
    assert len(near) <= 3


def test_closest_of_nothing_alike_is_empty():
    assert ci.closest("Acme Ltd", UNITS) == []
    assert ci.closest("", UNITS) == []
