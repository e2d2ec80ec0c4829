"""Watermarked, desensitized sample rows (domain/watermark.py): the marker per viewer, resource
and day, the viewer's choice and order of rows, and masking by the field list."""
from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal

import pytest

from ckanext.sanyi.domain import watermark as wm
from ckanext.sanyi.domain.id_number import check_char

DAY = dt.date(2026, 12, 1)
KEY = b"test-key"
FIELDS = [("个人编码", True), ("身份证号", True), ("姓名", True), ("性别", False),
          ("出生日期", True), ("患者现住址", True), ("联系电话", True), ("结算单据号", True),
          ("住院号", False), ("医疗总费用", False), ("就诊日期", False)]


def _id_number(rnd: random.Random) -> str:
    body = f"4208{rnd.randint(1, 99):02d}{rnd.randint(1940, 2005)}{rnd.randint(1, 12):02d}" \
           f"{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + check_char(body)


def test_the_marker_is_per_viewer_resource_and_day():
    m = wm.marker(KEY, "user-1", "pkg-1", DAY)
    assert re.fullmatch(r"SY(-[0-9A-F]{4}){4}", m)
    assert m == wm.marker(KEY, "user-1", "pkg-1", DAY)
    others = {wm.marker(KEY, "user-2", "pkg-1", DAY), wm.marker(KEY, "user-1", "pkg-2", DAY),
              wm.marker(KEY, "user-1", "pkg-1", DAY + dt.timedelta(days=1)),
              wm.marker(b"other-key", "user-1", "pkg-1", DAY)}
    assert m not in others and len(others) == 4


def test_a_marker_needs_a_key_a_user_and_a_resource():
    for args in ((b"", "u", "p"), (KEY, "", "p"), (KEY, "u", "")):
        with pytest.raises(ValueError):
            wm.marker(*args, DAY)


@pytest.mark.parametrize("text", ["sy-1a2b-3c4d-5e6f-7a8b", "SY1A2B3C4D5E6F7A8B", " 1A2B 3C4D 5E6F 7A8B ",
                                  "SY-1A2B3C4D-5E6F7A8B"])
def test_markers_are_read_as_people_copy_them(text):
    assert wm.normalize_marker(text) == "SY-1A2B-3C4D-5E6F-7A8B"


@pytest.mark.parametrize("text", [None, 5, "", "SY-1A2B", "SY-1A2B-3C4D-5E6F-7A8G", "x" * 100,
                                  ["SY-1A2B-3C4D-5E6F-7A8B"]])
def test_what_is_not_a_marker(text):
    assert wm.normalize_marker(text) is None


def test_the_choice_and_order_of_rows_depend_on_the_viewer():
    rows = [{"k": f"K{i:04d}"} for i in range(200)]
    a, b = wm.marker(KEY, "a", "p", DAY), wm.marker(KEY, "b", "p", DAY)
    first = wm.choose(a, rows, lambda r: r["k"])
    assert len(first) == wm.SAMPLE_LIMIT == 20
    assert first == wm.choose(a, list(reversed(rows)), lambda r: r["k"])  # input order ignored
    assert first != wm.choose(b, rows, lambda r: r["k"])
    assert len(wm.choose(a, rows[:5] * 3, lambda r: r["k"])) == 5  # duplicate keys once
    assert wm.choose(a, rows, lambda r: r["k"], limit=0) == []


def test_blocks_are_distinct_within_the_table_and_seeded():
    m = wm.marker(KEY, "a", "p", DAY)
    picks = wm.blocks(m, 10_000, 60)
    assert len({b for b, _ in picks}) == 60 and all(0 <= b < 10_000 and 1 <= p <= 32
                                                    for b, p in picks)
    assert picks == wm.blocks(m, 10_000, 60)
    assert sorted(b for b, _ in wm.blocks(m, 5, 60)) == [0, 1, 2, 3, 4]
    assert wm.blocks(m, 0, 60) == []


def test_each_field_is_masked_by_its_kind():
    row = {"个人编码": "P420802000123", "身份证号": "420802195803124021", "姓名": "王秀英",
           "性别": "2", "出生日期": dt.date(1958, 3, 12), "患者现住址": "湖北省荆门市东宝区泉口街道12号",
           "联系电话": "13807241234", "结算单据号": "JS2026030200017", "住院号": "ZY20260302001",
           "医疗总费用": Decimal("1234.50"), "就诊日期": dt.date(2026, 3, 2), "未列出": "secret"}
    out = wm.desensitize(row, FIELDS)
    assert out == {"个人编码": "*********0123", "身份证号": "420***********4021", "姓名": "王**",
                   "性别": "2", "出生日期": "1958", "患者现住址": "湖北省荆门市***",
                   "联系电话": "138****1234", "结算单据号": wm.FULL_MASK,
                   "住院号": "*********2001",  # classified by its name though not marked sensitive
                   "医疗总费用": "1234.50", "就诊日期": "2026-03-02"}
    assert list(out) == [name for name, _ in FIELDS]  # the field list's order; unlisted left out


def test_empty_values_stay_empty_and_a_sample_row_carries_the_marker():
    m = wm.marker(KEY, "a", "p", DAY)
    rows = wm.sample_rows([{"姓名": None, "性别": ""}], [("姓名", True), ("性别", False)], m)
    assert rows == [{"姓名": "", "性别": "", wm.WATERMARK_FIELD: m}]


def test_no_identity_number_or_name_survives_masking():
    rnd = random.Random(7)
    surnames, given = "王李张刘陈杨黄赵吴周欧阳司马", "秀英建国伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"
    for _ in range(2000):
        number = _id_number(rnd)
        name = rnd.choice(surnames) + "".join(rnd.choice(given) for _ in range(rnd.randint(1, 3)))
        out = wm.desensitize({"身份证号": number, "患者姓名": name, "医保卡号": number[-10:]},
                             [("身份证号", True), ("患者姓名", True), ("医保卡号", True)])
        text = " ".join(out.values())
        assert number not in text and number[-10:] not in text
        assert name not in text or len(name) == 1
        assert out["身份证号"][:3] == number[:3] and out["身份证号"][-4:] == number[-4:]


def test_display_of_values():
    assert wm.display(None) == ""
    assert wm.display(Decimal("10.00")) == "10.00"
    assert wm.display(dt.datetime(2026, 12, 1, 8, 30, 15)) == "2026-12-01 08:30"
    assert wm.display(7) == "7"
