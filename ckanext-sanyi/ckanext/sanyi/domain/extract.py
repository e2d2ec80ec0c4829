"""Checking a data unit's extract against a table's field list: headers, cells and rows.

Pure: no CKAN or database import. The loader of the data domain (``delivery/datadomain``)
hands :func:`map_header` a file's first row and the table's :class:`Spec`\\ s, then every data
row to :class:`RowChecker`, and writes nothing unless no row was refused.

* Headers are the Chinese field names of the catalog's field list or the SQL column names.
  Unknown, duplicate or missing required columns refuse the file (:class:`HeaderError`).
* Cells are typed by the field type (:func:`parse`): ``string`` and ``code`` (no whitespace,
  at most 64 characters) as text; ``integer`` as int; ``decimal`` as :class:`~decimal.Decimal`
  (never float) within the column's precision and scale; ``date`` as ISO ``2026-03-01``,
  ``2026/3/1``, ``2026.3.1``, ``2026年3月1日``, ``20260301`` or an Excel date (a date cell or
  its serial number); ``datetime`` likewise with a time, naive values in the people's timezone.
  An empty cell is ``None``; surrounding spaces are dropped.
* Rows: required fields filled, the key unique within the file. Each bad row is reported once,
  with every reason, in Chinese and English; the values of sensitive fields are never echoed.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import DomainError

__all__ = ["Spec", "HeaderError", "CellError", "RowError", "RowChecker", "map_header",
           "parse", "TEXT_LIMITS"]

TEXT_LIMITS = {"code": 64, "string": 2000}
INT_RANGE = (-(2**31), 2**31 - 1)
YEARS = (1900, 2100)
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's 1900 date system, past its 1900-02-29 bug
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_UNUSABLE = re.compile("[\x00\ud800-\udfff]")   # NUL, lone surrogates
_SPACE = re.compile(r"\s")
_DATE = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?"
                   r"\s*(Z|[+-]\d{2}(?::?\d{2})?)?$")
TYPE_NAMES = {"string": ("字符串", "text"), "code": ("代码", "code"),
              "integer": ("整数", "integer"), "decimal": ("小数", "decimal"),
              "date": ("日期", "date"), "datetime": ("日期时间", "date and time")}


@dataclass(frozen=True)
class Spec:
    """One column an extract may carry."""
    column: str                  # SQL column name (also accepted as a header)
    zh: str                      # Chinese field name of the catalog's field list
    type: str = "string"
    required: bool = False
    key: bool = False
    sensitive: bool = False
    precision: int = 14          # decimal: digits in all
    scale: int = 2               # decimal: digits after the point

    def label(self) -> tuple[str, str]:
        return self.zh, self.column


class HeaderError(DomainError):
    """The file's columns do not fit the field list; nothing of it can be loaded."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__("header", zh, en)


class CellError(DomainError):
    """One cell's value does not fit its field type."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__("cell", zh, en)


@dataclass
class RowError:
    """A refused row: its number (as a spreadsheet counts, the header being row 1) and
    every reason, each ``(zh, en)``."""
    row: int
    reasons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def zh(self) -> str:
        return "；".join(zh for zh, _ in self.reasons)

    @property
    def en(self) -> str:
        return "; ".join(en for _, en in self.reasons)

    def message(self) -> str:
        return f"{self.zh} / {self.en}"


def _norm_header(value: Any) -> str:
    return str(value if value is not None else "").strip().lstrip("\ufeff").strip()


def map_header(header: Sequence[Any], specs: Sequence[Spec], *,
               ignore_unknown: bool = False) -> list[Spec | None]:
    """The spec of each header cell (``None`` for an empty header cell, or for an unknown one
    when ``ignore_unknown``). Raises :class:`HeaderError` naming every unknown, duplicate and
    missing required column."""
    by_name: dict[str, Spec] = {}
    for s in specs:
        by_name[s.zh] = s
        by_name[s.column] = s
    mapped: list[Spec | None] = []
    unknown: list[str] = []
    for cell in header:
        name = _norm_header(cell)
        spec = by_name.get(name) if name else None
        if name and spec is None and not ignore_unknown:
            unknown.append(name)
        mapped.append(spec)
    seen = [s for s in mapped if s is not None]
    dupes = sorted({s.zh for s in seen if seen.count(s) > 1})
    missing = [s for s in specs if (s.required or s.key) and s not in seen]
    zh: list[str] = []
    en: list[str] = []
    if unknown:
        zh.append("字段列表中没有这些列：" + "、".join(unknown))
        en.append("Columns not in the field list: " + ", ".join(unknown))
    if dupes:
        zh.append("重复的列：" + "、".join(dupes))
        en.append("Duplicate columns: " + ", ".join(dupes))
    if missing:
        zh.append("缺少必填列：" + "、".join(s.zh for s in missing))
        en.append("Missing required columns: " + ", ".join(f"{s.zh} ({s.column})"
                                                             for s in missing))
    if zh:
        names = "、".join(s.zh for s in specs)
        raise HeaderError("；".join(zh) + f"（第 1 行应为表头，可用的列：{names}）",
                          "; ".join(en) + f" (row 1 must be the header; columns: {names})")
    return mapped


# -- cells ------------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _check_chars(text: str) -> None:
    if _UNUSABLE.search(text):
        raise CellError("含有不可用的字符（NUL 或孤立代理字符）",
                        "contains an unusable character (NUL or a lone surrogate)")


def parse(value: Any, type_: str, *, precision: int = 14, scale: int = 2,
          tz: dt.tzinfo | None = None) -> Any:
    """The typed value of one cell, ``None`` for an empty one; :class:`CellError` otherwise.

    ``value`` is a string (CSV, a foreign table's text) or what openpyxl reads from a cell
    (int, float, datetime). ``tz`` is the timezone of naive date-times (default UTC).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CellError("不能是逻辑值（TRUE/FALSE）", "must not be a boolean (TRUE/FALSE)")
    if type_ in ("string", "code"):
        return _parse_text(value, type_)
    if type_ == "integer":
        return _parse_integer(value)
    if type_ == "decimal":
        return _parse_decimal(value, precision, scale)
    if type_ == "date":
        return _parse_date(value)
    if type_ == "datetime":
        return _parse_datetime(value, tz or dt.timezone.utc)
    raise ValueError(f"unknown field type {type_}")


def _parse_text(value: Any, type_: str) -> str:
    if type_ == "code" and isinstance(value, float) and abs(value) >= 1e15:
        raise CellError("数字单元格已丢失精度（超过 15 位），请把该列设为文本后重新导出",
                        "a number cell lost its precision (over 15 digits): "
                        "format the column as text and export again")
    text = _text(value)
    _check_chars(text)
    if type_ == "code" and _SPACE.search(text):
        raise CellError("代码中不能有空白字符", "a code must not contain whitespace")
    limit = TEXT_LIMITS[type_]
    if len(text) > limit:
        raise CellError(f"超过 {limit} 个字符（{len(text)} 个）",
                        f"longer than {limit} characters ({len(text)})")
    return text


def _parse_integer(value: Any) -> int:
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    else:
        raise CellError("不是整数", "not an integer")
    if not INT_RANGE[0] <= number <= INT_RANGE[1]:
        raise CellError("整数超出范围（±2147483647）", "integer out of range (±2147483647)")
    return number


def _parse_decimal(value: Any, precision: int, scale: int) -> Decimal:
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(format(value, ".15g"))  # Excel keeps 15 significant digits
    elif isinstance(value, str) and _DECIMAL.match(value.strip()):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise CellError("不是数字", "not a number") from None
    else:
        raise CellError("不是数字（应为 12.50 这样的小数，不含千分位或单位）",
                        "not a number (write it like 12.50, without separators or units)")
    step = Decimal(1).scaleb(-scale)
    if number != number.quantize(step):
        raise CellError(f"小数位数超过 {scale} 位", f"more than {scale} digits after the point")
    number = number.quantize(step)
    if abs(number) >= Decimal(10) ** (precision - scale):
        raise CellError(f"数值过大（整数部分最多 {precision - scale} 位）",
                        f"too large (at most {precision - scale} digits before the point)")
    return number


def _bad_date() -> CellError:
    return CellError("不是有效日期（应为 2026-03-01、2026/3/1 或 20260301）",
                     "not a valid date (use 2026-03-01, 2026/3/1 or 20260301)")


def _in_years(day: dt.date) -> dt.date:
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise CellError(f"日期超出 {YEARS[0]}–{YEARS[1]} 年", f"date outside {YEARS[0]}–{YEARS[1]}")
    return day


def _excel_serial(value: float) -> dt.date:
    if not float(value).is_integer() or not 1 <= value <= 2958465:
        raise _bad_date()
    return _in_years(EXCEL_EPOCH + dt.timedelta(days=int(value)))


def _date_text(text: str) -> dt.date:
    m = _DATE.match(text) or _COMPACT.match(text)
    if not m:
        raise _bad_date()
    year, *rest = (g for g in m.groups() if g is not None)
    try:
        return _in_years(dt.date(int(year), int(rest[0]), int(rest[1])))
    except ValueError:
        raise _bad_date() from None


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0):
            raise CellError("应为日期，不含时间", "a date is expected, without a time")
        return _in_years(value.date())
    if isinstance(value, dt.date):
        return _in_years(value)
    if isinstance(value, (int, float)):
        return _excel_serial(value)
    text = str(value).strip()
    day, _, time = text.replace("T", " ").partition(" ")
    if time.strip() and not re.fullmatch(r"0{1,2}:00(:00(\.0+)?)?", time.strip()):
        raise CellError("应为日期，不含时间", "a date is expected, without a time")
    return _date_text(day)


def _bad_datetime() -> CellError:
    return CellError("不是有效的日期时间（应为 2026-03-01 08:30:00）",
                     "not a valid date and time (use 2026-03-01 08:30:00)")


def _offset(text: str) -> dt.tzinfo:
    if text == "Z":
        return dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 23 or minutes > 59:
        raise _bad_datetime()
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def _parse_datetime(value: Any, tz: dt.tzinfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time(0))
    elif isinstance(value, (int, float)):
        if not 1 <= value <= 2958466:
            raise _bad_datetime()
        moment = dt.datetime.combine(EXCEL_EPOCH, dt.time(0)) + dt.timedelta(days=float(value))
        moment = moment.replace(microsecond=0)
    else:
        text = str(value).strip().replace("T", " ")
        day_text, _, time_text = text.partition(" ")
        try:
            day = _date_text(day_text)
        except CellError:
            raise _bad_datetime() from None
        time_text = time_text.strip()
        if not time_text:
            moment = dt.datetime.combine(day, dt.time(0))
        else:
            m = _TIME.match(time_text)
            if not m:
                raise _bad_datetime()
            hh, mm, ss, frac, off = m.groups()
            try:
                moment = dt.datetime(day.year, day.month, day.day, int(hh), int(mm),
                                     int(ss or 0), int((frac or "0").ljust(6, "0")))
            except ValueError:
                raise _bad_datetime() from None
            if off:
                moment = moment.replace(tzinfo=_offset(off))
    _in_years(moment.date())
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


# -- rows -------------------------------------------------------------------------------------

class RowChecker:
    """Checks data rows of one extract in order; keeps every :class:`RowError`."""

    def __init__(self, mapped: Sequence[Spec | None], *, tz: dt.tzinfo | None = None) -> None:
        self.mapped = list(mapped)
        self.specs = [s for s in self.mapped if s is not None]
        self.tz = tz
        self.errors: list[RowError] = []
        self.rows = 0
        self._keys: dict[Any, int] = {}
        self._key = next((i for i, s in enumerate(self.specs) if s.key), None)

    def check(self, number: int, values: Sequence[Any]) -> tuple[Any, ...] | None:
        """The typed values of the mapped columns (in the order of :attr:`specs`), or
        ``None`` when the row is refused (its :class:`RowError` appended)."""
        self.rows += 1
        reasons: list[tuple[str, str]] = []
        out: list[Any] = []
        width = len(self.mapped)
        for position, spec in enumerate(self.mapped):
            cell = values[position] if position < len(values) else None
            if spec is None:
                if cell is not None and _text(cell):
                    reasons.append((f"第 {position + 1} 列没有表头却有值",
                                    f"column {position + 1} has a value but no header"))
                continue
            try:
                value = parse(cell, spec.type, precision=spec.precision, scale=spec.scale,
                              tz=self.tz)
            except CellError as e:
                zh, en = ("", "") if spec.sensitive else _shown(cell)
                reasons.append((f"{spec.zh}：{e.zh}{zh}", f"{spec.column}: {e.en}{en}"))
                value = None
            else:
                if value is None and (spec.required or spec.key):
                    reasons.append((f"{spec.zh}：必填项为空", f"{spec.column}: missing value"))
            out.append(value)
        if len(values) > width and any(v is not None and _text(v) for v in values[width:]):
            reasons.append(("值多于表头的列数", "more values than header columns"))
        if self._key is not None and out[self._key] is not None and not reasons:
            key, spec = out[self._key], self.specs[self._key]
            first = self._keys.get(key)
            if first is not None:
                zh, en = ("", "") if spec.sensitive else _shown(key)
                reasons.append((f"{spec.zh}与第 {first} 行重复{zh}",
                                f"{spec.column} repeats row {first}{en}"))
            else:
                self._keys[key] = number
        if reasons:
            self.errors.append(RowError(number, reasons))
            return None
        return tuple(out)


def _shown(value: Any) -> tuple[str, str]:
    """The value as the messages quote it (Chinese, English); cut after 40 characters."""
    text = _text(value) if value is not None else ""
    if len(text) > 40:
        text = text[:40] + "…"
    return (f"（“{text}”）", f" ('{text}')") if text else ("", "")
