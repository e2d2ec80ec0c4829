"""Report periods and when each report is due (pure: no CKAN import).

Three reports the rules require of the operator:

* ``quarterly`` (季度使用情况报告, to the bureau): a calendar quarter (``2026Q4``), due a
  number of days after the quarter's last day (default 15: 2026Q4 is due 2027-01-15);
* ``annual`` (年度运营报告, to the bureau): a calendar year (``2026``), due on a day of the
  next year (default 31 January);
* ``disclosure`` (年度公开, to the public): a calendar year, due on a day of the next year
  (default 31 March).

Days are dates where people live (Beijing time); the caller passes "today" there.

A report's state on a day (:func:`state`): ``upcoming`` while its period runs, ``due``
from the day after its period until its due date (inclusive), ``overdue`` after that;
``submitted`` / ``submitted_late`` once submitted (on or before / after the due date).
:func:`reminders` lists the reports a dashboard shows: the running periods (with their due
date) and every ended period from the platform's first reported quarter on that is not
submitted.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .errors import DomainError

__all__ = ["KINDS", "KIND_TEXT", "STATE_TEXT", "Period", "DueRules", "parse_period", "quarter_of",
           "due_date", "state", "Reminder", "reminders", "periods_between", "ended_before"]

KINDS = ("quarterly", "annual", "disclosure")
KIND_TEXT = {"quarterly": ("季度使用情况报告", "Quarterly usage report"),
             "annual": ("年度运营报告", "Annual operating report"),
             "disclosure": ("年度公开", "Annual disclosure")}
STATE_TEXT = {"upcoming": ("进行中", "in progress"), "due": ("待提交", "due"),
              "overdue": ("已逾期", "overdue"), "submitted": ("已提交", "submitted"),
              "submitted_late": ("逾期提交", "submitted late")}
_QUARTER = re.compile(r"^([0-9]{4})[Qq]([1-4])$")
_YEAR = re.compile(r"^([0-9]{4})$")
MIN_YEAR, MAX_YEAR = 2000, 2200


@dataclass(frozen=True, order=True)
class Period:
    """One report's period: ``kind`` and ``year``, with ``quarter`` (1-4) for a quarterly one."""

    kind: str
    year: int
    quarter: int = 0

    @property
    def key(self) -> str:
        """``2026Q4`` for a quarter, ``2026`` for a year."""
        return f"{self.year}Q{self.quarter}" if self.kind == "quarterly" else str(self.year)

    @property
    def first(self) -> dt.date:
        if self.kind == "quarterly":
            return dt.date(self.year, 3 * self.quarter - 2, 1)
        return dt.date(self.year, 1, 1)

    @property
    def last(self) -> dt.date:
        if self.kind == "quarterly":
            following = (dt.date(self.year + 1, 1, 1) if self.quarter == 4
                         else dt.date(self.year, 3 * self.quarter + 1, 1))
            return following - dt.timedelta(days=1)
        return dt.date(self.year, 12, 31)

    def quarters(self) -> list[Period]:
        """The quarters of a year's period (itself for a quarter)."""
        if self.kind == "quarterly":
            return [self]
        return [Period("quarterly", self.year, q) for q in (1, 2, 3, 4)]

    def title(self, zh: bool = True) -> str:
        kind_zh, kind_en = KIND_TEXT[self.kind]
        if self.kind == "quarterly":
            return (f"{self.year} 年第 {self.quarter} {kind_zh}" if zh
                    else f"{kind_en}, {self.year} Q{self.quarter}")
        return f"{self.year} 年度{kind_zh.removeprefix('年度')}" if zh else f"{kind_en} {self.year}"


@dataclass(frozen=True)
class DueRules:
    """When reports are due: ``quarterly_days`` after the quarter's last day; the annual
    report and the disclosure on (month, day) of the next year."""

    quarterly_days: int = 15
    annual: tuple[int, int] = (1, 31)
    disclosure: tuple[int, int] = (3, 31)

    @staticmethod
    def month_day(text: str, field: str) -> tuple[int, int]:
        """``"01-31"`` → (1, 31); :class:`DomainError` for anything that is no day of a year
        (29 February is refused: it is not a day of every year)."""
        match = (re.match(r"^([0-9]{1,2})-([0-9]{1,2})$", text.strip())
                 if isinstance(text, str) else None)
        try:
            if match is None:
                raise ValueError(text)
            month, day = int(match.group(1)), int(match.group(2))
            dt.date(2027, month, day)  # not a leap year
        except ValueError:
            raise DomainError(field, f"须为 MM-DD（如 01-31）：{str(text)[:20]!r}",
                              f"must be MM-DD (e.g. 01-31): {str(text)[:20]!r}") from None
        return month, day


def parse_period(kind: object, text: object, field: str = "period") -> Period:
    """The period of a report of ``kind`` named ``text`` (``2026Q4`` for a quarterly report,
    ``2026`` for the others); :class:`DomainError` on ``kind`` or ``field`` otherwise."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise DomainError("kind", "报告类型须为 quarterly、annual 或 disclosure",
                          "the report kind must be quarterly, annual or disclosure")
    raw = text.strip() if isinstance(text, str) else ""
    if kind == "quarterly":
        match = _QUARTER.match(raw)
        if match and MIN_YEAR <= int(match.group(1)) <= MAX_YEAR:
            return Period(kind, int(match.group(1)), int(match.group(2)))
        raise DomainError(field, f"季度须为 YYYYQn（如 2026Q4）：{str(text)[:20]!r}",
                          f"the quarter must be YYYYQn (e.g. 2026Q4): {str(text)[:20]!r}")
    match = _YEAR.match(raw)
    if match and MIN_YEAR <= int(raw) <= MAX_YEAR:
        return Period(kind, int(raw))
    raise DomainError(field, f"年度须为 YYYY（如 2026）：{str(text)[:20]!r}",
                      f"the year must be YYYY (e.g. 2026): {str(text)[:20]!r}")


def quarter_of(day: dt.date) -> Period:
    """The quarter that holds ``day``."""
    return Period("quarterly", day.year, (day.month - 1) // 3 + 1)


def due_date(period: Period, rules: DueRules = DueRules()) -> dt.date:
    """The last day on which the report of ``period`` is on time."""
    if period.kind == "quarterly":
        return period.last + dt.timedelta(days=rules.quarterly_days)
    month, day = rules.annual if period.kind == "annual" else rules.disclosure
    return dt.date(period.year + 1, month, day)


def state(period: Period, today: dt.date, rules: DueRules = DueRules(),
          submitted_on: dt.date | None = None) -> str:
    """``upcoming`` | ``due`` | ``overdue`` | ``submitted`` | ``submitted_late`` (see the
    module docstring); ``submitted_on`` is the Beijing day it was submitted, if it was."""
    due = due_date(period, rules)
    if submitted_on is not None:
        return "submitted" if submitted_on <= due else "submitted_late"
    if today <= period.last:
        return "upcoming"
    return "due" if today <= due else "overdue"


@dataclass(frozen=True)
class Reminder:
    period: Period
    due: dt.date
    state: str
    days_left: int  # negative: days overdue


def periods_between(kind: str, first_year: int, today: dt.date,
                    first_quarter: int = 1) -> list[Period]:
    """Every period of ``kind`` from ``first_year`` (its quarter ``first_quarter`` for
    quarterly reports) on that has started by ``today``."""
    out: list[Period] = []
    for year in range(first_year, today.year + 1):
        if kind == "quarterly":
            out += [p for p in Period("annual", year).quarters() if p.first <= today
                    and (year, p.quarter) >= (first_year, first_quarter)]
        else:
            out.append(Period(kind, year))
    return out


def ended_before(period: Period, today: dt.date) -> bool:
    """The period is over on ``today`` (its figures are final)."""
    return period.last < today


def reminders(today: dt.date, rules: DueRules = DueRules(), *,
              submitted: Mapping[tuple[str, str], dt.date] | None = None,
              first_year: int = 2026, first_quarter: int = 1,
              kinds: Iterable[str] = KINDS) -> list[Reminder]:
    """What a dashboard shows on ``today``: every report from ``first_year`` (quarterly ones
    from its quarter ``first_quarter``) on that is not submitted (``submitted`` maps
    ``(kind, key)`` to the day it was), overdue first, then due, then the running ones; each
    with its due date and the days left."""
    submitted = submitted or {}
    out = []
    for kind in kinds:
        for period in periods_between(kind, first_year, today, first_quarter):
            if (kind, period.key) in submitted:
                continue
            due = due_date(period, rules)
            out.append(Reminder(period, due, state(period, today, rules), (due - today).days))
    rank = {"overdue": 0, "due": 1, "upcoming": 2}
    return sorted(out, key=lambda r: (rank[r.state], r.due, KINDS.index(r.period.kind)))
