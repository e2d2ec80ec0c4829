"""Report periods and due dates (domain/report_periods.py), on Beijing dates."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sanyi.domain.errors import DomainError
from ckanext.sanyi.domain.report_periods import (
    DueRules,
    Period,
    due_date,
    parse_period,
    quarter_of,
    reminders,
    state,
)

D = dt.date
Q4 = Period("quarterly", 2026, 4)


@pytest.mark.parametrize("kind, text, first, last", [
    ("quarterly", "2026Q1", D(2026, 1, 1), D(2026, 3, 31)),
    ("quarterly", "2024q1", D(2024, 1, 1), D(2024, 3, 31)),
    ("quarterly", " 2026Q4 ", D(2026, 10, 1), D(2026, 12, 31)),
    ("quarterly", "2028Q2", D(2028, 4, 1), D(2028, 6, 30)),
    ("annual", "2026", D(2026, 1, 1), D(2026, 12, 31)),
    ("disclosure", "2025", D(2025, 1, 1), D(2025, 12, 31)),
])
def test_periods(kind, text, first, last):
    period = parse_period(kind, text)
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize("kind, text", [
    ("quarterly", "2026Q5"), ("quarterly", "2026Q0"), ("quarterly", "2026"), ("quarterly", None),
    ("annual", "2026Q4"), ("annual", "26"), ("annual", "1999"), ("disclosure", "２０２６"),
    ("annual", "2026\x00"), ("quarterly", "1999Q4")])
def test_bad_periods_name_the_field(kind, text):
    with pytest.raises(DomainError) as err:
        parse_period(kind, text)
    assert err.value.field == "period" and err.value.zh and err.value.en


def test_bad_kind():
    with pytest.raises(DomainError) as err:
        parse_period("monthly", "2026")
    assert err.value.field == "kind"


def test_due_dates_across_year_boundaries():
    assert due_date(Q4) == D(2027, 1, 15)
    assert due_date(Period("quarterly", 2026, 1)) == D(2026, 4, 15)
    assert due_date(Period("annual", 2026)) == D(2027, 1, 31)
    assert due_date(Period("disclosure", 2026)) == D(2027, 3, 31)
    rules = DueRules(quarterly_days=30, annual=(2, 28), disclosure=(4, 30))
    assert due_date(Q4, rules) == D(2027, 1, 30)
    assert due_date(Period("quarterly", 2027, 4), rules) == D(2028, 1, 30)
    assert due_date(Period("annual", 2027), rules) == D(2028, 2, 28)


def test_states_on_each_side_of_the_due_date():
    assert state(Q4, D(2026, 12, 31)) == "upcoming"
    assert state(Q4, D(2027, 1, 1)) == "due"
    assert state(Q4, D(2027, 1, 15)) == "due"
    assert state(Q4, D(2027, 1, 16)) == "overdue"
    assert state(Q4, D(2027, 2, 1), submitted_on=D(2027, 1, 15)) == "submitted"
    assert state(Q4, D(2027, 2, 1), submitted_on=D(2027, 1, 16)) == "submitted_late"


def test_quarter_of_a_beijing_day():
    # 2026-12-31 16:30 UTC is 2027-01-01 00:30 in Beijing: the first quarter of 2027
    beijing = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.timezone.utc).astimezone(
        dt.timezone(dt.timedelta(hours=8))).date()
    assert quarter_of(beijing) == Period("quarterly", 2027, 1)
    assert quarter_of(D(2026, 12, 31)) == Q4


def test_month_day_rules():
    assert DueRules.month_day("01-31", "x") == (1, 31)
    for bad in ("02-29", "13-01", "1/31", "", "00-10"):
        with pytest.raises(DomainError):
            DueRules.month_day(bad, "x")


def test_reminders_on_new_years_day_in_beijing():
    rows = reminders(D(2027, 1, 1), first_year=2026)
    by = {(r.period.kind, r.period.key): r for r in rows}
    assert by[("quarterly", "2026Q4")].state == "due"
    assert by[("quarterly", "2026Q4")].days_left == 14
    assert by[("quarterly", "2026Q3")].state == "overdue"  # due 2026-10-15
    assert by[("annual", "2026")].state == "due"
    assert by[("disclosure", "2026")].state == "due"
    assert by[("quarterly", "2027Q1")].state == "upcoming"
    assert ("quarterly", "2027Q2") not in by
    assert [r.state for r in rows] == sorted((r.state for r in rows),
                                             key=["overdue", "due", "upcoming"].index)


def test_submitted_reports_are_not_reminded():
    rows = reminders(D(2027, 2, 1), first_year=2026,
                     submitted={("quarterly", f"2026Q{q}"): D(2026, 12, 1) for q in (1, 2, 3, 4)})
    keys = {(r.period.kind, r.period.key): r.state for r in rows}
    assert not any(k == "quarterly" and p.startswith("2026") for k, p in keys)
    assert keys[("annual", "2026")] == "overdue"
    assert keys[("disclosure", "2026")] == "due"


def test_titles():
    assert Q4.title() == "2026 年第 4 季度使用情况报告"
    assert Period("annual", 2026).title() == "2026 年度运营报告"
    assert Period("annual", 2026).title(zh=False) == "Annual operating report 2026"


def test_reminders_start_at_the_first_reported_quarter():
    rows = reminders(D(2027, 1, 1), first_year=2026, first_quarter=4)
    keys = {(r.period.kind, r.period.key) for r in rows}
    assert ("quarterly", "2026Q3") not in keys and ("quarterly", "2026Q4") in keys
    assert ("annual", "2026") in keys and ("quarterly", "2027Q1") in keys
