"""Action inputs → typed values, refusing bad ones with :class:`pricing.PricingError`.

Every parser names the field at fault and says why in Chinese and English. Values arrive from
JSON (int, bool, dict) or from a query string / form (always str), so both are accepted where
sensible; floats never are (money and quantities are exact). Paging: ``common.paging``.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from feeengine import (
    BillingUnit,
    PricingError,
    Schedule,
    Use,
    parse_date,
    parse_pct,
    parse_quantity,
)
from feeengine.money import parse_weight

from ..domain.choice_labels import code

__all__ = ["required", "quantity", "boolean", "iso_date", "fen", "pct", "year",
           "period", "schedule", "use", "unit", "weight", "QUANTITY_MAX", "FEN_MAX", "SAFE_FEN_MAX"]

# Upper bounds of what callers may send. Every number here fits PostgreSQL's bigint and a
# JavaScript number (2**53 - 1) with room to spare, so no input overflows a column or loses
# precision in a browser; each error message states its bound.
QUANTITY_MAX = 10**9  # units in one quote: a billion calls, copies or records
FEN_MAX = 10**15  # ¥10 trillion: any amount, cap or revenue in fen
SAFE_FEN_MAX = 2**53 - 1  # largest amount a quote may come to (exact in JSON clients)

_INT = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f", ""}
_PERIOD = re.compile(r"^\d{4}$")


def _missing(field: str) -> PricingError:
    return PricingError(field, "必填项", "Missing value")


def required(data: Mapping[str, Any], field: str) -> Any:
    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _missing(field)
    return value.strip() if isinstance(value, str) else value


def _int(value: Any, field: str, zh: str, en: str) -> int:
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PricingError(field, f"{zh}：{value!r}", f"{en}: {value!r}")


def quantity(value: Any, field: str = "quantity") -> int:
    """A positive whole number ("15000" or 15000); 0, negatives, "1.5", 1.5, True refused."""
    if value is None or value == "":
        raise _missing(field)
    number = _int(value, field, "数量须为正整数", "quantity must be a positive integer")
    if number > QUANTITY_MAX:
        raise PricingError(field, f"数量过大：{number}（上限 {QUANTITY_MAX}）",
                           f"quantity too large: {number} (at most {QUANTITY_MAX})")
    return parse_quantity(number, field)


def boolean(value: Any, field: str, default: bool | None = False) -> bool:
    """true/false (also "1"/"0", "on"/"off", ...); ``default`` None makes it required."""
    if value is None or (default is None and value == ""):
        if default is None:
            raise _missing(field)
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise PricingError(field, f"须为 true 或 false：{value!r}", f"must be true or false: {value!r}")


def iso_date(value: Any, field: str, default: dt.date | None = None) -> dt.date:
    if value is None or value == "":
        if default is None:
            raise _missing(field)
        return default
    return parse_date(value, field)


def fen(value: Any, field: str) -> int:
    """A non-negative amount in whole fen (分)."""
    if value is None or value == "":
        raise _missing(field)
    amount = _int(value, field, "金额须为非负整数（单位：分）", "amount must be a non-negative integer of fen")
    if amount < 0:
        raise PricingError(field, f"金额不能为负数：{amount}", f"amount must not be negative: {amount}")
    if amount > FEN_MAX:
        raise PricingError(field, f"金额过大：{amount} 分（上限 {FEN_MAX} 分）",
                           f"amount too large: {amount} fen (at most {FEN_MAX} fen)")
    return amount


def pct(value: Any, field: str, default: Decimal | None = None) -> Decimal:
    if value is None or value == "":
        if default is None:
            raise _missing(field)
        return default
    return parse_pct(value, field)  # floats refused by the engine


def weight(value: Any, field: str) -> Decimal:
    """A non-negative share weight (e.g. 60)."""
    if value is None or value == "":
        raise _missing(field)
    return parse_weight(value, field)


def year(value: Any, field: str = "year") -> int:
    number = _int(value, field, "年份不正确", "invalid year")
    if not 2000 <= number <= 2999:
        raise PricingError(field, f"年份不正确：{number}", f"invalid year: {number}")
    return number


def period(value: Any, field: str = "period") -> str:
    """A revenue period: a calendar year 'YYYY'."""
    text = str(required({field: value}, field))
    if not _PERIOD.match(text):
        raise PricingError(field, f"期间须为年份，如 2026：{value!r}",
                           f"period must be a year such as 2026: {value!r}")
    return str(year(text, field))


def use(value: Any, field: str = "use") -> Use:
    if value is None or value == "":
        raise _missing(field)
    return Use.parse(code("use", value), field)


def unit(value: Any, field: str = "unit") -> BillingUnit:
    if value is None or value == "":
        raise _missing(field)
    return BillingUnit.parse(code("billing_unit", value), field)


def schedule(data: Mapping[str, Any]) -> Schedule:
    """The schedule of a ``*_set`` action: ``schedule`` (an object or JSON text) or, flat in the
    data dict, ``unit`` + ``bands`` (list or JSON text) + optional ``trial``."""
    raw = data.get("schedule")
    if raw is None:
        bands = data.get("bands")
        if isinstance(bands, str):
            bands = _json(bands, "bands")
        raw = {"unit": code("billing_unit", data.get("unit")), "bands": bands}
        if data.get("trial") is not None:
            raw["trial"] = boolean(data.get("trial"), "trial")
        if raw["unit"] in (None, ""):
            raise _missing("unit")
        if bands in (None, ""):
            raise _missing("bands")
    elif isinstance(raw, str):
        raw = _json(raw, "schedule")
    if isinstance(raw, Mapping) and isinstance(raw.get("unit"), str):
        raw = dict(raw, unit=code("billing_unit", raw["unit"]))
    if isinstance(raw, Mapping) and isinstance(raw.get("trial"), str):
        raw = dict(raw, trial=boolean(raw["trial"], "trial"))
    return Schedule.from_dict(raw)


def _json(text: str, field: str) -> Any:
    try:
        return json.loads(text, parse_float=_no_float(field))
    except ValueError as err:
        if isinstance(err, PricingError):
            raise
        raise PricingError(field, "JSON 格式不正确", "invalid JSON") from None


def _no_float(field: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        raise PricingError(field, f"价格请用字符串表示（如 \"0.50\"），不可用浮点数：{text}",
                           f"write prices as strings (such as \"0.50\"), never floats: {text}")
    return parse
