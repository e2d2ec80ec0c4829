"""The typed inputs of the product operations and their parsers.

Each parser takes the JSON object a caller sent and answers a frozen dataclass, or raises
:class:`~ckanext.sanyi.domain.errors.Invalid` listing every bad field at once, each message in
Chinese and English. Unknown fields are refused (the input schemas say
``additionalProperties: false``). The operations' JSON Schemas in ``schemas/operations.yaml``
describe the same rules for integrators; a test keeps the two in step.

Pure: no CKAN or database import.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from . import icd10
from .errors import DomainError, Errors
from .id_number import validate_id_number

__all__ = ["RiskInput", "VisitInput", "RenewalInput", "CohortInput", "ProfileInput",
           "PARSERS", "parse", "VISIT_WINDOW_YEARS", "COHORT_WINDOW_MONTHS", "GROUP_BY",
           "add_years"]

VISIT_WINDOW_YEARS = 3
COHORT_WINDOW_MONTHS = 60
GROUP_BY = ("age_band", "sex")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONSENT = re.compile(r"^[A-Za-z0-9._:/-]{6,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


@dataclass(frozen=True)
class RiskInput:
    id_number: str
    consent_ref: str


@dataclass(frozen=True)
class VisitInput:
    id_number: str
    institution: str
    date_from: dt.date
    date_to: dt.date
    diagnosis_chapter: str | None = None


@dataclass(frozen=True)
class RenewalInput:
    id_number: str


@dataclass(frozen=True)
class ProfileInput:
    id_number: str


@dataclass(frozen=True)
class CohortInput:
    drug: str
    date_from: dt.date
    date_to: dt.date
    group_by: tuple[str, ...] = ()


def _required(payload: Mapping[str, Any], name: str, zh: str, errors: Errors) -> Any:
    if payload.get(name) is None or payload.get(name) == "":
        errors.add(DomainError(name, f"{zh}为必填项", f"{name} is required"))
        return None
    return payload[name]


def _text(value: Any, name: str, zh: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise DomainError(name, f"{zh}应为文本", f"{name} must be a string")
    text = value.strip()
    if not text:
        raise DomainError(name, f"{zh}为必填项", f"{name} is required")
    if len(text) > max_len or _CONTROL.search(text):
        raise DomainError(name, f"{zh}应为不超过{max_len}个字符的文本（不含控制字符）",
                          f"{name} must be text of at most {max_len} characters, "
                          f"without control characters")
    return text


def _date(value: Any, name: str, zh: str) -> dt.date:
    if not isinstance(value, str) or not _DATE.match(value):
        raise DomainError(name, f"{zh}应为YYYY-MM-DD格式的日期", f"{name} must be a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError(name, f"{zh}不是有效日期：{value}", f"{name} is not a valid date: {value}"
                          ) from None


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _unknown(payload: Any, allowed: tuple[str, ...]) -> Errors:
    errors = Errors()
    if not isinstance(payload, Mapping):
        errors.add(DomainError("__all__", "请求体应为JSON对象", "the input must be a JSON object"))
        return errors
    for key in payload:
        if key not in allowed:
            shown = str(key)[:40]
            errors.add(DomainError(str(key)[:100], f"不支持的字段：{shown}",
                                   f"unknown field: {shown}"))
    return errors


def _id(payload: Mapping[str, Any], errors: Errors) -> str | None:
    value = _required(payload, "id_number", "身份证号", errors)
    return None if value is None else errors.take(validate_id_number, value, "id_number")


def _window(payload: Mapping[str, Any], errors: Errors, today: dt.date | None,
            ) -> tuple[dt.date | None, dt.date | None]:
    start = end = None
    if (v := _required(payload, "date_from", "开始日期", errors)) is not None:
        start = errors.take(_date, v, "date_from", "开始日期")
    if (v := _required(payload, "date_to", "结束日期", errors)) is not None:
        end = errors.take(_date, v, "date_to", "结束日期")
    if start and end and start > end:
        errors.add(DomainError("date_to", "结束日期不能早于开始日期", "date_to is before date_from"))
    if start and today and start > today:
        errors.add(DomainError("date_from", "开始日期不能晚于今天", "date_from is after today"))
    return start, end


def parse_risk(payload: Any, today: dt.date | None = None) -> RiskInput:
    errors = _unknown(payload, ("id_number", "consent_ref"))
    errors.check()
    id_number = _id(payload, errors)
    consent = _required(payload, "consent_ref", "授权书编号", errors)
    if consent is not None and (not isinstance(consent, str) or not _CONSENT.match(consent)):
        errors.add(DomainError("consent_ref", "授权书编号应为6–64位字母、数字或 . _ : / -",
                               "consent_ref must be 6-64 letters, digits or . _ : / -"))
    errors.check()
    return RiskInput(str(id_number), str(consent))


def parse_visit(payload: Any, today: dt.date | None = None) -> VisitInput:
    errors = _unknown(payload, ("id_number", "institution", "date_from", "date_to",
                                "diagnosis_chapter"))
    errors.check()
    id_number = _id(payload, errors)
    inst = _required(payload, "institution", "医疗机构", errors)
    institution = None if inst is None else errors.take(_text, inst, "institution", "医疗机构",
                                                        100)
    start, end = _window(payload, errors, today)
    if start and end and end >= add_years(start, VISIT_WINDOW_YEARS):
        errors.add(DomainError("date_to", f"查询区间不能超过{VISIT_WINDOW_YEARS}年",
                               f"the window may not exceed {VISIT_WINDOW_YEARS} years"))
    chapter = payload.get("diagnosis_chapter")
    if chapter is not None and not icd10.is_chapter_letter(chapter):
        errors.add(DomainError("diagnosis_chapter", "诊断章节应为ICD-10章节字母（A–Z，大写）",
                               "diagnosis_chapter must be an ICD-10 chapter letter A-Z"))
    errors.check()
    assert start and end and id_number and institution
    return VisitInput(id_number, institution, start, end, chapter)


def parse_person(payload: Any, today: dt.date | None = None) -> RenewalInput:
    errors = _unknown(payload, ("id_number",))
    errors.check()
    id_number = _id(payload, errors)
    errors.check()
    return RenewalInput(str(id_number))


def parse_profile(payload: Any, today: dt.date | None = None) -> ProfileInput:
    return ProfileInput(parse_person(payload, today).id_number)


def _months(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month + 1


def parse_cohort(payload: Any, today: dt.date | None = None) -> CohortInput:
    errors = _unknown(payload, ("drug", "date_from", "date_to", "group_by"))
    errors.check()
    drug_value = _required(payload, "drug", "药品通用名", errors)
    drug = None if drug_value is None else errors.take(_text, drug_value, "drug", "药品通用名", 50)
    start, end = _window(payload, errors, today)
    if start and start.day != 1:
        errors.add(DomainError("date_from", "开始日期应为某月1日（按整月统计）",
                               "date_from must be the first day of a month (whole months)"))
    if end and (end + dt.timedelta(days=1)).day != 1:
        errors.add(DomainError("date_to", "结束日期应为某月最后一日（按整月统计）",
                               "date_to must be the last day of a month (whole months)"))
    if start and end and start <= end and _months(start, end) > COHORT_WINDOW_MONTHS:
        errors.add(DomainError("date_to", f"统计区间不能超过{COHORT_WINDOW_MONTHS}个月",
                               f"the window may not exceed {COHORT_WINDOW_MONTHS} months"))
    group = payload.get("group_by", [])
    if group is None:
        group = []
    if not isinstance(group, list) or any(g not in GROUP_BY for g in group) \
            or len(set(group)) != len(group):
        errors.add(DomainError("group_by", "分组应为 age_band、sex 中不重复的若干项",
                               "group_by must list distinct items of age_band, sex"))
        group = []
    errors.check()
    assert drug and start and end
    return CohortInput(drug, start, end, tuple(g for g in GROUP_BY if g in group))


PARSERS: dict[str, Callable[..., Any]] = {
    "risk-assessment": parse_risk,
    "visit-verification": parse_visit,
    "renewal-eligibility": parse_person,
    "cohort-statistics": parse_cohort,
    "health-profile": parse_profile,
}


def parse(operation: str, payload: Any, today: dt.date | None = None) -> Any:
    """The typed input of ``operation`` (``KeyError`` for an operation without a parser)."""
    return PARSERS[operation](payload, today)
