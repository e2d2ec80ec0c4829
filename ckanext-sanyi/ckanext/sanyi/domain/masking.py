"""Desensitization (脱敏) of sample rows shown to product developers.

Rules by :class:`FieldKind` (deterministic; no salt, no randomness):

==============  ==========================================  ===================
kind            rule                                        example
==============  ==========================================  ===================
ID_CARD         keep first 3 and last 4                     522***********1234
PERSON_NAME     keep the first character (surname)          张**
PHONE           keep first 3 and last 4                     138****1234
PERSONAL_NO     keep last 4 (社保卡号, 个人编码)             ******5678
RECORD_NO       keep last 4 (病案号, 住院号, 医师编码)        ****0123
ADDRESS         keep the longest admin-level prefix within  贵州省凯里市***
                the first 6 chars (省/市/州/盟/区/县/旗), else ***
BIRTH_DATE      year only                                   1985
ORGANIZATION    keep first 2 characters, then ***           凯里***
==============  ==========================================  ===================

Character masks preserve length, but never reveal more than two thirds of a
value: short values keep fewer characters (a 1-character name becomes ``*``).
ADDRESS and ORGANIZATION hide length. The result never equals an input that holds
no ``*``, except a birth date that is already a bare year; unparseable birth
dates become ``****``. Words such as 小区/超市 do not count as admin levels.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from enum import Enum
from math import ceil

__all__ = [
    "FieldKind", "MASK", "classify_field", "classify_fields", "mask_value", "mask_row",
]

MASK = "*"


class FieldKind(Enum):
    """Kind of a sensitive field; the value is a Chinese label."""

    ID_CARD = "身份证号"
    PERSON_NAME = "姓名"
    PHONE = "电话"
    PERSONAL_NO = "个人编号"
    RECORD_NO = "病案/就诊号"
    ADDRESS = "住址"
    BIRTH_DATE = "出生日期"
    ORGANIZATION = "所在单位"


# Checked in order; the first keyword contained in the (lower-cased) name wins.
_KEYWORDS: tuple[tuple[FieldKind, tuple[str, ...]], ...] = (
    (FieldKind.ID_CARD, ("身份证", "证件号", "公民身份号码", "id_card", "idcard", "id_no")),
    (FieldKind.BIRTH_DATE, ("出生日期", "出生年月", "生日", "birth")),
    (FieldKind.PHONE, ("手机", "电话", "联系方式", "phone", "mobile")),
    (FieldKind.PERSON_NAME, ("姓名", "联系人", "patient_name", "doctor_name")),
    (FieldKind.PERSONAL_NO, ("社保卡号", "个人编码", "个人编号", "医保卡号", "参保人编号",
                             "医保编号", "personal_no", "card_no")),
    (FieldKind.RECORD_NO, ("病案号", "住院号", "门诊号", "医师编码", "病历号")),
    (FieldKind.ADDRESS, ("住址", "地址", "居住地", "户籍地", "address")),
    (FieldKind.ORGANIZATION, ("所在单位", "工作单位", "employer")),
)

_ADMIN_SUFFIXES = frozenset("省市州盟区县旗")
# Words ending in an admin suffix that are not administrative divisions.
_NOT_ADMIN = frozenset({"小区", "园区", "社区", "校区", "景区", "厂区", "矿区", "营区",
                        "超市", "集市", "菜市", "夜市"})
_ADDRESS_HEAD = 6


def classify_field(name: str) -> FieldKind | None:
    """The sensitive kind of a field name, or ``None`` when it is not personal data.

    Matches the Chinese names of settlement data (身份证号, 患者姓名, 患者社保卡号,
    个人编码, 患者现住址, 主诊医师姓名, 患者出生日期, 病案号 ...) and a few English
    column names.
    """
    key = name.strip().lower()
    for kind, words in _KEYWORDS:
        if any(w in key for w in words):
            return kind
    return None


def classify_fields(names: Iterable[str]) -> dict[str, FieldKind]:
    """Sensitive fields among ``names`` and their kinds."""
    return {n: k for n in names if (k := classify_field(n)) is not None}


def _keep(value: str, head: int, tail: int) -> str:
    """Mask all but ``head`` leading and ``tail`` trailing characters.

    Visible characters shrink (the larger end first) until at least a third of
    the value is masked, so the result always differs from a non-masked input.
    """
    n = len(value)
    need = max(1, ceil(n / 3))
    while head + tail > 0 and n - head - tail < need:
        if tail >= head:
            tail -= 1
        else:
            head -= 1
    return value[:head] + MASK * (n - head - tail) + value[n - tail:]


def _admin_cut(text: str) -> int:
    """Length of the longest prefix of ``text`` ending in an admin-level suffix."""
    return max((i + 1 for i, ch in enumerate(text) if i > 0 and ch in _ADMIN_SUFFIXES
                and text[i - 1:i + 1] not in _NOT_ADMIN), default=0)


def _address(value: str) -> str:
    cut = _admin_cut(value[:_ADDRESS_HEAD])
    if cut >= len(value):  # the whole value is an admin prefix: hide its last level
        cut = _admin_cut(value[:-1])
    return value[:cut] + MASK * 3


_YEAR = re.compile(r"^\s*((?:19|20)\d{2})")


def _birth_year(value: object) -> str:
    if isinstance(value, date):
        return f"{value.year:04d}"
    match = _YEAR.match(str(value))
    return match.group(1) if match else MASK * 4


def mask_value(value: object, kind: FieldKind | None) -> object:
    """Mask one value; ``None`` and empty values pass, non-strings are masked as text."""
    if kind is None or value is None or value == "":
        return value
    if kind is FieldKind.BIRTH_DATE:
        return _birth_year(value)
    text = str(value)
    if not text.strip(MASK):
        return text
    if kind in (FieldKind.ID_CARD, FieldKind.PHONE):
        return _keep(text, 3, 4)
    if kind is FieldKind.PERSON_NAME:
        return _keep(text, 1, 0)
    if kind in (FieldKind.PERSONAL_NO, FieldKind.RECORD_NO):
        return _keep(text, 0, 4)
    if kind is FieldKind.ADDRESS:
        return _address(text.strip())
    if kind is FieldKind.ORGANIZATION:
        return _keep(text.strip(), 2, 0)[:2] + MASK * 3
    raise AssertionError(kind)  # pragma: no cover


def mask_row(row: Mapping[str, object],
             kinds: Mapping[str, FieldKind | None] | None = None) -> dict[str, object]:
    """A masked copy of ``row``.

    ``kinds`` overrides the classification of the fields it names (``None`` marks a
    field as not sensitive); every other field is classified by name, so a column
    missing from ``kinds`` is never leaked.
    """
    kinds = kinds or {}
    return {name: mask_value(value, kinds[name] if name in kinds else classify_field(name))
            for name, value in row.items()}
