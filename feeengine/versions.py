"""Versioned schedules: effective dates, the version in force on a date, versions in force in a year.

History is never overwritten: a new version is a new entry with a later ``effective_from``
(inclusive). A version is in force from its ``effective_from`` until the next later
``effective_from`` (exclusive). If two versions share a date, the one listed later supersedes
the other, which is then never in force. The helpers are pure and work on any object with an
``effective_from: date`` attribute.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol, TypeVar

from .errors import PricingError
from .schedule import BillingUnit, Schedule

__all__ = [
    "ScheduleVersion", "parse_date", "in_force_periods", "version_in_force",
    "versions_in_force_during_year",
]


class _Dated(Protocol):
    @property
    def effective_from(self) -> date: ...


V = TypeVar("V", bound=_Dated)


def parse_date(value: object, field: str = "date") -> date:
    """A ``date`` or an ISO string 'YYYY-MM-DD' → date (datetimes are refused: pass ``.date()``)."""
    if isinstance(value, datetime):
        raise PricingError(field, f"须为日期而非日期时间：{value!r}", f"expected a date, not a datetime: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PricingError(field, f"日期格式不正确：{value!r}（应为 YYYY-MM-DD）",
                       f"invalid date {value!r} (expected YYYY-MM-DD)")


@dataclass(frozen=True)
class ScheduleVersion:
    """One version of a schedule (operator price or bureau ceiling) and when it takes effect."""

    version_id: str
    effective_from: date
    schedule: Schedule
    label: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.version_id, str) or not self.version_id.strip():
            raise PricingError("id", "版本编号不能为空", "version id must not be empty")
        object.__setattr__(self, "effective_from", parse_date(self.effective_from, "effective_from"))
        if not isinstance(self.schedule, Schedule):
            raise PricingError("schedule", "收费标准格式不正确", "invalid schedule")
        if not isinstance(self.label, str):
            raise PricingError("label", "版本名称须为文本", "label must be text")

    @property
    def unit(self) -> BillingUnit:
        return self.schedule.unit

    @property
    def trial(self) -> bool:
        return self.schedule.trial

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScheduleVersion:
        """``{"id", "effective_from": "YYYY-MM-DD", "label"?, "schedule": {...}}``."""
        if not isinstance(data, Mapping):
            raise PricingError("version", "版本须为 JSON 对象", "a version must be a JSON object")
        extra = sorted(str(k) for k in data if k not in {"id", "label", "effective_from", "schedule"})
        if extra:
            raise PricingError(extra[0], f"未知字段：{extra[0]}", f"unknown field: {extra[0]}")
        for key in ("id", "effective_from", "schedule"):
            if key not in data:
                raise PricingError(key, f"缺少 {key}", f"missing {key}")
        try:
            schedule = Schedule.from_dict(data["schedule"])
        except PricingError as err:
            raise err.prefixed("schedule") from None
        return cls(data["id"], parse_date(data["effective_from"], "effective_from"),
                   schedule, data.get("label", ""))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.version_id, "label": self.label,
                "effective_from": self.effective_from.isoformat(), "schedule": self.schedule.to_dict()}


def in_force_periods(versions: Iterable[V]) -> list[tuple[V, date, date | None]]:
    """``(version, start, end_exclusive)`` for every version that is ever in force, by date.

    ``end_exclusive`` is ``None`` for the latest version. Versions superseded on their own
    first day (same date, listed earlier) are left out.
    """
    ordered = sorted(versions, key=lambda v: v.effective_from)  # stable: ties keep list order
    periods: list[tuple[V, date, date | None]] = []
    for i, version in enumerate(ordered):
        end = ordered[i + 1].effective_from if i + 1 < len(ordered) else None
        if end != version.effective_from:
            periods.append((version, version.effective_from, end))
    return periods


def version_in_force(versions: Iterable[V], on: date | str) -> V | None:
    """The version in force on ``on``: latest ``effective_from`` ≤ ``on`` (ties: listed later).

    ``None`` if no version has taken effect yet.
    """
    day = parse_date(on)
    chosen: V | None = None
    for version in versions:
        if version.effective_from <= day and (chosen is None or version.effective_from >= chosen.effective_from):
            chosen = version
    return chosen


def versions_in_force_during_year(versions: Iterable[V], year: int) -> list[V]:
    """Versions in force on at least one day of ``year``, by date (for the yearly disclosure)."""
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise PricingError("year", f"年份不正确：{year!r}", f"invalid year: {year!r}")
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [v for v, start, end in in_force_periods(versions)
            if start <= last and (end is None or end > first)]
