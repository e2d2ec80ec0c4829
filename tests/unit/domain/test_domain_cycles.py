"""Update cycles (更新周期) and due dates."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckanext.sanyi.domain.cycles import (
    LEGACY_ALIASES,
    UpdateCycle,
    days_overdue,
    interval,
    is_overdue,
    next_due,
    parse_cycle,
    validate_last_updated,
)
from ckanext.sanyi.domain.errors import DomainError

C = UpdateCycle
PERIODIC = [c for c in C if c is not C.IRREGULAR]


@pytest.mark.parametrize("text, expected", [
    ("实时", C.REALTIME), ("每日", C.DAILY), ("每周", C.WEEKLY), ("每月", C.MONTHLY),
    ("每季度", C.QUARTERLY), ("每年", C.YEARLY), ("不定期", C.IRREGULAR),
    ("realtime", C.REALTIME), ("daily", C.DAILY), ("weekly", C.WEEKLY),
    ("monthly", C.MONTHLY), ("quarterly", C.QUARTERLY), ("yearly", C.YEARLY),
    ("irregular", C.IRREGULAR), ("  Monthly ", C.MONTHLY), ("DAILY", C.DAILY),
    (" 每季度\n", C.QUARTERLY), ("定期", C.MONTHLY), (C.WEEKLY, C.WEEKLY),
])
def test_parse_cycle_accepts_labels_codes_and_first_batch_values(text, expected):
    assert parse_cycle(text) is expected


@pytest.mark.parametrize("bad", ["", "每两周", "hourly", "定 期", None, 3, "realtime!"])
def test_parse_cycle_refuses_unknown(bad):
    with pytest.raises(DomainError) as err:
        parse_cycle(bad)
    assert err.value.field == "update_cycle"
    assert "更新周期" in err.value.zh and "update cycle" in err.value.en


def test_first_batch_catalog_values_all_parse():
    import csv
    from pathlib import Path
    path = Path("/work/shared/domain/catalog-first-batch.csv")
    if not path.exists():
        pytest.skip("shared catalog not available")
    with path.open(encoding="utf-8-sig") as f:
        cycles = {parse_cycle(r["更新周期"]) for r in csv.DictReader(f)}
    assert cycles <= {C.MONTHLY, C.REALTIME}


def test_codes_and_labels_round_trip():
    for c in C:
        assert parse_cycle(c.code) is c and parse_cycle(c.label) is c
    assert LEGACY_ALIASES == {"定期": C.MONTHLY}


@pytest.mark.parametrize("last, cycle, due", [
    (date(2024, 1, 31), "每月", date(2024, 2, 29)),
    (date(2023, 1, 31), "每月", date(2023, 2, 28)),
    (date(2024, 3, 31), "monthly", date(2024, 4, 30)),
    (date(2024, 12, 15), "每月", date(2025, 1, 15)),
    (date(2024, 11, 30), "每季度", date(2025, 2, 28)),
    (date(2023, 11, 30), "每季度", date(2024, 2, 29)),
    (date(2024, 2, 29), "每年", date(2025, 2, 28)),
    (date(2024, 12, 31), "每日", date(2025, 1, 1)),
    (date(2024, 12, 30), "每周", date(2025, 1, 6)),
    (date(2024, 6, 1), "实时", date(2024, 6, 2)),
    (date(2024, 6, 1), "定期", date(2024, 7, 1)),
    (datetime(2024, 1, 31, 23, 59), C.MONTHLY, date(2024, 2, 29)),
])
def test_next_due(last, cycle, due):
    result = next_due(last, cycle)
    assert result == due and type(result) is date


def test_irregular_has_no_due_date_and_is_never_overdue():
    assert next_due(date(2000, 1, 1), "不定期") is None
    assert interval("irregular") is None
    assert not is_overdue(date(2000, 1, 1), C.IRREGULAR, date(2030, 1, 1))
    assert days_overdue(date(2000, 1, 1), C.IRREGULAR, date(2030, 1, 1)) == 0


def test_overdue_boundaries():
    last = date(2024, 1, 31)
    assert not is_overdue(last, "每月", date(2024, 2, 28))
    assert not is_overdue(last, "每月", date(2024, 2, 29))  # due date itself is on time
    assert is_overdue(last, "每月", date(2024, 3, 1))
    assert days_overdue(last, "每月", date(2024, 3, 1)) == 1
    assert days_overdue(last, "每月", date(2024, 3, 10)) == 10
    assert days_overdue(last, "每月", date(2024, 1, 1)) == 0
    assert is_overdue(date(2024, 6, 1), "实时", date(2024, 6, 3))
    assert not is_overdue(date(2024, 6, 1), "实时", date(2024, 6, 2))


def test_validate_last_updated():
    today = date(2024, 6, 1)
    assert validate_last_updated(today, today) == today
    assert validate_last_updated(date(2020, 1, 1), today) == date(2020, 1, 1)
    assert validate_last_updated(datetime(2024, 6, 1, 12), today) == today
    with pytest.raises(DomainError) as err:
        validate_last_updated(date(2024, 6, 2), today)
    assert err.value.field == "last_updated" and "2024-06-02" in err.value.en
    assert "晚于今天" in err.value.zh
    with pytest.raises(DomainError) as err:
        validate_last_updated("2024-01-01", today)
    assert err.value.field == "last_updated"


dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31))


@given(dates, st.sampled_from(PERIODIC), st.integers(0, 4000))
def test_overdue_days_match_distance_from_due(last, cycle, k):
    due = next_due(last, cycle)
    assert due is not None and due > last
    assert days_overdue(last, cycle, due + timedelta(days=k)) == k
    assert is_overdue(last, cycle, due + timedelta(days=k)) == (k > 0)
    assert not is_overdue(last, cycle, due - timedelta(days=k))


@given(dates)
def test_monthly_advances_one_calendar_month_clamped(last):
    due = next_due(last, C.MONTHLY)
    assert (due.year * 12 + due.month) - (last.year * 12 + last.month) == 1
    assert due.day <= last.day
    assert due.day == last.day or (due + timedelta(days=1)).day == 1


@given(dates, dates)
def test_validate_last_updated_refuses_exactly_the_future(d, today):
    if d <= today:
        assert validate_last_updated(d, today) == d
    else:
        with pytest.raises(DomainError):
            validate_last_updated(d, today)
