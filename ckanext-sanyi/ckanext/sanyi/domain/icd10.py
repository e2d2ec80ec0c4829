"""ICD-10 code ranges the product operations decide on: major diseases (智慧核保), the chronic
conditions a registration, a follow-up visit or a renewal refers to, chapter letters.

A code is compared by its three-character category (``"E11.9"`` → ``"E11"``), upper-case. A
range ``("C00", "C97")`` holds every category from C00 to C97 inclusive and all their
sub-codes; :func:`bounds` gives the half-open text interval ``["C00", "C98")`` that selects
the same codes by plain (``COLLATE "C"``) text comparison, so SQL can filter on the range
with two bound parameters.

Pure: no CKAN or database import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Range", "MAJOR_DISEASES", "CHRONIC_CONDITIONS", "CHAPTER_LETTERS", "category",
           "in_range", "is_major", "bounds", "condition_of", "condition_name",
           "is_chapter_letter"]

_CATEGORY = re.compile(r"^([A-Z])(\d\d)")
CHAPTER_LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class Range:
    """Categories ``first``..``last`` inclusive (each a letter and two digits)."""
    first: str
    last: str
    zh: str
    en: str

    def __post_init__(self) -> None:
        for code in (self.first, self.last):
            if not _CATEGORY.match(code) or len(code) != 3:
                raise ValueError(f"not an ICD-10 category: {code}")
        if self.first[0] != self.last[0] or self.first > self.last:
            raise ValueError(f"bad range {self.first}-{self.last}")

    def __contains__(self, code: object) -> bool:
        cat = category(code)
        return cat is not None and self.first <= cat <= self.last


# 智慧核保's major diseases (重大疾病): any diagnosis in these ranges anywhere in the domain.
MAJOR_DISEASES: tuple[Range, ...] = (
    Range("C00", "C97", "恶性肿瘤", "malignant neoplasm"),
    Range("I60", "I64", "脑卒中", "stroke"),
    Range("I21", "I22", "急性心肌梗死", "acute myocardial infarction"),
    Range("N17", "N19", "肾衰竭", "renal failure"),
)

# Chronic conditions managed by registration (患者健康管理), by their Chinese name. A visit
# "for" a condition has a diagnosis in the condition's range; a registration's
# ``condition_code`` names the condition by the range it falls in.
CHRONIC_CONDITIONS: tuple[tuple[Range, str], ...] = (
    (Range("I10", "I15", "高血压", "hypertension"), "高血压"),
    (Range("E10", "E10", "1型糖尿病", "type 1 diabetes"), "1型糖尿病"),
    (Range("E11", "E11", "2型糖尿病", "type 2 diabetes"), "2型糖尿病"),
    (Range("E12", "E14", "糖尿病", "diabetes"), "糖尿病"),
    (Range("I20", "I25", "冠心病", "coronary heart disease"), "冠心病"),
    (Range("J44", "J44", "慢性阻塞性肺疾病", "COPD"), "慢性阻塞性肺疾病"),
    (Range("N18", "N18", "慢性肾脏病", "chronic kidney disease"), "慢性肾脏病"),
)


def category(code: object) -> str | None:
    """The three-character category of a code (``"e11.9 "`` → ``"E11"``), None if the text
    is not an ICD-10 code."""
    if not isinstance(code, str):
        return None
    m = _CATEGORY.match(code.strip().upper())
    return m.group(1) + m.group(2) if m else None


def in_range(code: object, ranges: tuple[Range, ...]) -> bool:
    return any(code in r for r in ranges)


def is_major(code: object) -> bool:
    """Whether a diagnosis is one of :data:`MAJOR_DISEASES`."""
    return in_range(code, MAJOR_DISEASES)


def bounds(r: Range) -> tuple[str, str]:
    """``(low, high)`` with ``low <= code < high`` (byte-wise text order) exactly for the
    upper-case codes in ``r``: the first category and the category after the last (``"C97"``
    → ``"C98"``, ``"N19"`` → ``"N20"``, ``"Z99"`` → ``"Z:"``, past every ``Z`` code)."""
    n = int(r.last[1:]) + 1
    high = f"{r.last[0]}{n:02d}" if n < 100 else f"{r.last[0]}:"
    return r.first, high


def condition_of(code: object) -> Range | None:
    """The chronic condition range a code falls in, if any."""
    for r, _name in CHRONIC_CONDITIONS:
        if code in r:
            return r
    return None


def condition_name(code: object, fallback: str | None = None) -> str:
    """The Chinese name of the chronic condition of ``code``; otherwise ``fallback`` (the
    registration's own name) or the category."""
    for r, name in CHRONIC_CONDITIONS:
        if code in r:
            return name
    text = (fallback or "").strip()
    return text or category(code) or "其他慢性病"


def is_chapter_letter(value: object) -> bool:
    return isinstance(value, str) and len(value) == 1 and value in CHAPTER_LETTERS
