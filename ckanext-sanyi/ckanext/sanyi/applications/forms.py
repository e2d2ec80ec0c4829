"""Parsing of merchant profiles and applications: pure Python, no CKAN imports.

Every problem is a :class:`DomainError` naming the field; :class:`Errors` collects them so
all bad fields are reported at once.

Decisions:

* **Data items (最小必要).** A product's selectable items are the fields (``data_fields``)
  of its source resources, written ``"<resource name>:<field name>"``; a source resource
  with no field list is requested whole, written ``"<resource name>"``. An application names
  a non-empty subset of them.
* **Period.** ``period_start``..``period_end`` inclusive; the start is today or later, and
  the term is shorter than ``max_years`` years: ``period_end < period_start + max_years``
  (2026-01-01..2030-12-31 is the longest 5-year term).
* **Volume, billing unit, quantity.** ``expected_volume`` (a positive integer, counted in
  the billing unit) is required. ``billing_unit`` is one of the pricing engine's units
  (default: the product's priced unit, else ``call``, chosen by the service). ``quantity``
  (what the fee is computed on at bureau approval) defaults from the expected volume for
  ``call``/``record``/``copy``, and from the period's length in whole months/years
  (rounded up) for ``month``/``year``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from dateutil.relativedelta import relativedelta

from ..domain.choice_labels import code
from ..domain.credit_code import validate_credit_code
from ..domain.errors import DomainError, Errors, Invalid, NotFound

__all__ = ["Errors", "Invalid", "NotFound", "USES", "SIZES", "UNITS", "text", "positive_int", "iso_date", "period",
           "string_list", "data_items", "billing_unit", "default_quantity", "merchant_profile",
           "use", "decision", "email", "phone"]

T = TypeVar("T")
USES = {"public_interest": ("公共治理/公益事业", "public governance / public welfare"),
        "industrial": ("产业发展/行业发展", "industrial / industry development")}
SIZES = {"micro": ("微型企业", "micro"), "small": ("小型企业", "small"),
         "medium": ("中型企业", "medium"), "large": ("大型企业", "large")}
UNITS = {"call": ("按服务次数", "per call"), "record": ("按数据调用量（条）", "per record"),
         "copy": ("按产品/数据集份数", "per copy"), "month": ("按服务时间（月）", "per month"),
         "year": ("按服务时间（年）", "per year")}
DECISIONS = ("approve", "reject", "return")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,18}[0-9]$")


def _missing(field: str, zh: str, en: str) -> DomainError:
    return DomainError(field, f"{zh}为必填项", f"{en} is required")


def text(value: Any, field: str, zh: str, en: str, *, required: bool = True,
         max_len: int = 2000) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise _missing(field, zh, en)
        return ""
    if not isinstance(value, str):
        raise DomainError(field, f"{zh}必须是文本", f"{en} must be text")
    value = value.strip()
    if len(value) > max_len:
        raise DomainError(field, f"{zh}不能超过 {max_len} 个字符",
                          f"{en} must be at most {max_len} characters")
    return value


def positive_int(value: Any, field: str, zh: str, en: str, *, required: bool = True) -> int | None:
    if value is None or value == "":
        if required:
            raise _missing(field, zh, en)
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise DomainError(field, f"{zh}必须是正整数", f"{en} must be a positive whole number")
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or value <= 0:
        raise DomainError(field, f"{zh}必须是正整数：{value!r}",
                          f"{en} must be a positive whole number: {value!r}")
    if value > 10**15:
        raise DomainError(field, f"{zh}过大", f"{en} is too large")
    return value


def iso_date(value: Any, field: str, zh: str, en: str) -> dt.date:
    if value in (None, ""):
        raise _missing(field, zh, en)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    raw = str(value).strip()
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise DomainError(field, f"{zh}格式无效“{value}”，应为 YYYY-MM-DD",
                          f"{en} '{value}' is not a date (YYYY-MM-DD)") from None


def period(start_raw: Any, end_raw: Any, *, today: dt.date, max_years: int,
           errors: Errors) -> tuple[dt.date | None, dt.date | None]:
    """The period's two dates; problems go to ``errors`` (fields period_start/period_end)."""
    start = errors.take(iso_date, start_raw, "period_start", "开始日期", "Start date")
    end = errors.take(iso_date, end_raw, "period_end", "结束日期", "End date")
    if start and start < today:
        errors.add(DomainError("period_start", f"开始日期不能早于今天（{today.isoformat()}）",
                               f"The start date must not be before today ({today.isoformat()})"))
    if start and end:
        limit = start + relativedelta(years=max_years)
        if end < start:
            errors.add(DomainError("period_end", "结束日期不能早于开始日期",
                                   "The end date must not be before the start date"))
        elif end >= limit:
            last = (limit - dt.timedelta(days=1)).isoformat()
            errors.add(DomainError(
                "period_end",
                f"使用期限超过最长授权期限 {max_years} 年：结束日期最晚为 {last}",
                f"The period exceeds the maximum term of {max_years} years: "
                f"the end date is at most {last}"))
    return start, end


def string_list(value: Any, field: str, zh: str, en: str) -> list[str]:
    """A list of strings from a list, JSON text or one string."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except ValueError:
                raise DomainError(field, f"{zh}格式无效", f"{en} is not a valid list") from None
        else:
            value = [stripped]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise DomainError(field, f"{zh}必须是文本列表", f"{en} must be a list of text")
    out: list[str] = []
    for v in value:
        if v.strip() and v.strip() not in out:
            out.append(v.strip())
    return out


def data_items(value: Any, allowed: Iterable[str]) -> list[str]:
    """A non-empty subset of ``allowed`` (最小必要), in the order of ``allowed``."""
    items = string_list(value, "data_items", "申请数据项", "Data items")
    allowed = list(allowed)
    if not allowed:
        raise DomainError("data_items", "该产品未登记来源数据资源，没有可申请的数据项",
                          "The product names no source resources: there are no data items to request")
    if not items:
        raise _missing("data_items", "申请数据项（至少一项）", "At least one data item")
    outside = [i for i in items if i not in allowed]
    if outside:
        raise DomainError("data_items",
                          f"以下数据项不在该产品的来源数据范围内（最小必要）：{'、'.join(outside)}",
                          f"Data items outside what the product draws on: {', '.join(outside)}")
    return [a for a in allowed if a in items]


def use(value: Any) -> str:
    value = code("use", value)
    if value in (None, ""):
        raise _missing("use", "使用用途类别", "Declared use")
    if value not in USES:
        raise DomainError("use", f"未知的用途类别：{value!r}（可选：公益 public_interest、"
                          "产业 industrial）",
                          f"Unknown use {value!r} (one of: public_interest, industrial)")
    return str(value)


def billing_unit(value: Any) -> str | None:
    value = code("billing_unit", value)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or value not in UNITS:
        raise DomainError("billing_unit", f"未知的计费单位：{value!r}（可选：{', '.join(UNITS)}）",
                          f"Unknown billing unit {value!r} (one of: {', '.join(UNITS)})")
    return str(value)


def default_quantity(unit: str, expected_volume: int, start: dt.date, end: dt.date) -> int:
    """The quantity a fee is computed on when the merchant gives none (see module doc)."""
    if unit in ("month", "year"):
        delta = relativedelta(end + dt.timedelta(days=1), start)
        months = delta.years * 12 + delta.months + (1 if delta.days else 0)
        return max(1, months if unit == "month" else -(-months // 12))
    return expected_volume


def decision(value: Any) -> str:
    value = code("decision", value)
    if value not in DECISIONS:
        raise DomainError("decision", f"审核结论须为 approve（通过）、reject（驳回）或 return（退回修改）："
                          f"{value!r}", f"decision must be approve, reject or return: {value!r}")
    return str(value)


def email(value: Any, field: str = "contact_email") -> str:
    value = text(value, field, "联系邮箱", "Contact e-mail", required=False, max_len=200)
    if value and not _EMAIL.match(value):
        raise DomainError(field, f"邮箱格式无效：{value}", f"Invalid e-mail address: {value}")
    return value


def phone(value: Any, field: str = "contact_phone") -> str:
    value = text(value, field, "联系电话", "Contact phone", max_len=40)
    if not _PHONE.match(value):
        raise DomainError(field, f"电话号码格式无效：{value}", f"Invalid phone number: {value}")
    return value


def merchant_profile(data: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    """The company profile of a merchant (fields named as in ``sanyi_merchant``)."""
    out = {
        "company_name": errors.take(text, data.get("company_name"), "company_name",
                                    "企业名称", "Company name", max_len=200),
        "credit_code": errors.take(_credit_code, data.get("credit_code")),
        "contact_name": errors.take(text, data.get("contact_name"), "contact_name",
                                    "联系人", "Contact name", max_len=100),
        "contact_phone": errors.take(phone, data.get("contact_phone")),
        "contact_email": errors.take(email, data.get("contact_email")),
        "enterprise_size": errors.take(_size, data.get("enterprise_size")),
    }
    return out


def _credit_code(value: Any) -> str:
    if value in (None, ""):
        raise _missing("credit_code", "统一社会信用代码", "Unified social credit code")
    return validate_credit_code(value)


def _size(value: Any) -> str:
    value = code("enterprise_size", value)
    if value in (None, ""):
        raise _missing("enterprise_size", "企业规模", "Enterprise size")
    if not isinstance(value, str) or value not in SIZES:
        raise DomainError("enterprise_size",
                          f"未知的企业规模：{value!r}（可选：micro 微型、small 小型、medium 中型、large 大型）",
                          f"Unknown enterprise size {value!r} (one of: {', '.join(SIZES)})")
    return str(value)
