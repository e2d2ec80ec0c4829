"""Update cycles (更新周期) of catalog resources and their due dates.

The first-batch catalog only says ``定期`` (periodic) or ``实时`` (realtime).
``parse_cycle`` maps ``定期`` to :attr:`UpdateCycle.MONTHLY`: the batch gives no
period, and monthly is the longest interval still compatible with the quarterly
catalog-change report to the bureau (a quarter always contains a due date).
Data units should replace it with the exact period when they next edit the entry.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from dateutil.relativedelta import relativedelta

from .errors import DomainError

__all__ = [
    "UpdateCycle",
    "LEGACY_ALIASES",
    "parse_cycle",
    "interval",
    "next_due",
    "is_overdue",
    "days_overdue",
    "validate_last_updated",
]


class UpdateCycle(Enum):
    """An update cycle; the value is the Chinese label stored in data."""

    REALTIME = "实时"
    DAILY = "每日"
    WEEKLY = "每周"
    MONTHLY = "每月"
    QUARTERLY = "每季度"
    YEARLY = "每年"
    IRREGULAR = "不定期"

    @property
    def code(self) -> str:
        """English code, e.g. ``'monthly'``."""
        return _CODES[self]

    @property
    def label(self) -> str:
        """Chinese label, e.g. ``'每月'``."""
        return self.value


_CODES: dict[UpdateCycle, str] = {
    UpdateCycle.REALTIME: "realtime",
    UpdateCycle.DAILY: "daily",
    UpdateCycle.WEEKLY: "weekly",
    UpdateCycle.MONTHLY: "monthly",
    UpdateCycle.QUARTERLY: "quarterly",
    UpdateCycle.YEARLY: "yearly",
    UpdateCycle.IRREGULAR: "irregular",
}

#: Coarse values found in published batches, mapped to a concrete cycle.
LEGACY_ALIASES: dict[str, UpdateCycle] = {"定期": UpdateCycle.MONTHLY}

_LOOKUP: dict[str, UpdateCycle] = {
    **{c.value: c for c in UpdateCycle},
    **{code: c for c, code in _CODES.items()},
    **LEGACY_ALIASES,
}

# 实时: the feed runs continuously, but its catalog metadata must be confirmed daily.
_INTERVALS: dict[UpdateCycle, relativedelta | None] = {
    UpdateCycle.REALTIME: relativedelta(days=1),
    UpdateCycle.DAILY: relativedelta(days=1),
    UpdateCycle.WEEKLY: relativedelta(weeks=1),
    UpdateCycle.MONTHLY: relativedelta(months=1),
    UpdateCycle.QUARTERLY: relativedelta(months=3),
    UpdateCycle.YEARLY: relativedelta(years=1),
    UpdateCycle.IRREGULAR: None,
}


def parse_cycle(text: str | UpdateCycle) -> UpdateCycle:
    """Parse a Chinese label, an English code (case-insensitive) or ``定期``.

    Raises :class:`DomainError` (field ``update_cycle``) for anything else.
    """
    if isinstance(text, UpdateCycle):
        return text
    if isinstance(text, str):
        key = text.strip()
        found = _LOOKUP.get(key) or _LOOKUP.get(key.lower())
        if found is not None:
            return found
    allowed = "、".join(c.value for c in UpdateCycle)
    raise DomainError(
        "update_cycle",
        f"无法识别的更新周期：{text!r}；可选值：{allowed}",
        f"Unknown update cycle {text!r}; expected one of "
        + ", ".join(_CODES.values()),
    )


def interval(cycle: str | UpdateCycle) -> relativedelta | None:
    """The interval between updates, or ``None`` for 不定期."""
    return _INTERVALS[parse_cycle(cycle)]


def _as_date(d: date) -> date:
    return d.date() if isinstance(d, datetime) else d


def next_due(last_updated: date, cycle: str | UpdateCycle) -> date | None:
    """The date the next update is due; ``None`` when the cycle is 不定期.

    Month arithmetic clamps to month end (Jan 31 + 1 month = Feb 28/29).
    """
    step = interval(cycle)
    if step is None:
        return None
    return _as_date(last_updated) + step


def days_overdue(last_updated: date, cycle: str | UpdateCycle, today: date) -> int:
    """Days past the due date (0 when not overdue or 不定期)."""
    due = next_due(last_updated, cycle)
    if due is None:
        return 0
    return max(0, (_as_date(today) - due).days)


def is_overdue(last_updated: date, cycle: str | UpdateCycle, today: date) -> bool:
    """True when ``today`` is after the due date (the due date itself is on time)."""
    return days_overdue(last_updated, cycle, today) > 0


def validate_last_updated(d: object, today: date) -> date:
    """Return ``d`` as a date; refuse non-dates and future dates (field ``last_updated``)."""
    if not isinstance(d, date):
        raise DomainError(
            "last_updated",
            f"最近更新日期必须是日期：{d!r}",
            f"last_updated must be a date, got {d!r}",
        )
    d, today = _as_date(d), _as_date(today)
    if d > today:
        raise DomainError(
            "last_updated",
            f"最近更新日期 {d.isoformat()} 晚于今天 {today.isoformat()}",
            f"last_updated {d.isoformat()} is in the future (today is {today.isoformat()})",
        )
    return d
