"""ICD-10 ranges (domain/icd10.py): major diseases at their boundaries, the text bounds SQL
compares with, chronic condition names, chapter letters."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckanext.sanyi.domain import icd10


@pytest.mark.parametrize("code, major", [
    ("C00", True), ("C00.1", True), ("C97", True), ("c50.9", True), (" C34.9 ", True),
    ("C98", False), ("D00", False), ("B99", False),
    ("I60", True), ("I63.9", True), ("I64", True), ("I65", False), ("I59", False),
    ("I20", False), ("I21", True), ("I21.9", True), ("I22.0", True), ("I23", False),
    ("N16", False), ("N17", True), ("N18.9", True), ("N19", True), ("N20", False),
    ("I10", False), ("E11.9", False), ("O80", False), ("", False), ("X", False), (None, False),
])
def test_major_diseases(code, major):
    assert icd10.is_major(code) is major


codes = st.builds(lambda letter, n, sub: f"{letter}{n:02d}{sub}",
                  st.sampled_from(icd10.CHAPTER_LETTERS), st.integers(0, 99),
                  st.sampled_from(["", ".0", ".9", ".91", "x01"]))


@given(codes)
def test_text_bounds_select_exactly_the_range(code):
    for r in icd10.MAJOR_DISEASES:
        lo, hi = icd10.bounds(r)
        assert (lo <= code < hi) == (code in r), (code, r)


def test_bounds_after_99():
    assert icd10.bounds(icd10.Range("Z90", "Z99", "x", "x")) == ("Z90", "Z:")
    assert "Z99.9" < "Z:"


def test_category():
    assert icd10.category("e11.9") == "E11"
    assert icd10.category("I10") == "I10"
    assert icd10.category("1I0") is None and icd10.category(10) is None


@pytest.mark.parametrize("code, name", [
    ("I10", "高血压"), ("I15.0", "高血压"), ("E11", "2型糖尿病"), ("E11.9", "2型糖尿病"),
    ("E10", "1型糖尿病"), ("E14", "糖尿病"), ("J44.9", "慢性阻塞性肺疾病"),
])
def test_condition_names(code, name):
    assert icd10.condition_name(code) == name


def test_an_unknown_condition_keeps_its_registered_name():
    assert icd10.condition_name("G40", "癫痫") == "癫痫"
    assert icd10.condition_name("G40") == "G40"


def test_a_bad_range_is_refused():
    with pytest.raises(ValueError):
        icd10.Range("C97", "C00", "x", "x")
    with pytest.raises(ValueError):
        icd10.Range("C00", "D48", "x", "x")


def test_chapter_letters():
    assert icd10.is_chapter_letter("I") and not icd10.is_chapter_letter("i")
    assert not icd10.is_chapter_letter("IJ") and not icd10.is_chapter_letter(None)
