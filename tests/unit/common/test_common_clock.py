"""The clock: "today" in the display timezone, one display format, a freezable "now"."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sanyi.common import clock

UTC = dt.timezone.utc
STORED = dt.datetime(2026, 12, 1, 18, 25, tzinfo=UTC)


@pytest.fixture
def timezone(monkeypatch):
    """Set ``ckan.display_timezone`` for one test (CKAN's global config object)."""
    from ckan.common import config

    def set_to(name: str | None) -> None:
        if name is None:
            monkeypatch.delitem(config, "ckan.display_timezone", raising=False)
        else:
            monkeypatch.setitem(config, "ckan.display_timezone", name)
    return set_to


def test_now_is_aware_utc_and_moves():
    first = clock.now_utc()
    assert first.tzinfo is not None and first.utcoffset() == dt.timedelta(0)
    assert abs(first - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)


def test_today_on_a_beijing_morning_is_the_beijing_date():
    with clock.freeze("2026-12-01T18:30:00Z") as moment:
        assert moment == dt.datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
        assert clock.now_utc() == moment
        assert clock.today() == dt.date(2026, 12, 2)
        assert moment.date() == dt.date(2026, 12, 1)     # what the UTC clock would say
    with clock.freeze(dt.datetime(2026, 12, 1, 15, 59)):  # naive = UTC: 23:59 in Beijing
        assert clock.today() == dt.date(2026, 12, 1)
    with clock.freeze(dt.datetime(2026, 12, 2, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))):
        assert clock.now_utc() == dt.datetime(2026, 12, 1, 16, 30, tzinfo=UTC)
        assert clock.today() == dt.date(2026, 12, 2)


def test_freeze_nests_and_restores():
    with clock.freeze("2026-01-01T00:00:00+00:00"):
        with clock.freeze("2027-06-01T12:00:00+00:00"):
            assert clock.now_utc().year == 2027
        assert clock.now_utc().year == 2026
    assert abs(clock.now_utc() - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)
    with pytest.raises(RuntimeError):
        with clock.freeze("2026-01-01T00:00:00Z"):
            raise RuntimeError("boom")
    assert abs(clock.now_utc() - dt.datetime.now(UTC)) < dt.timedelta(seconds=5)
    with pytest.raises(ValueError):
        with clock.freeze("not a time"):
            pass


@pytest.mark.parametrize("value", [
    STORED,
    STORED.replace(tzinfo=None),                            # naive: UTC, as CKAN stores
    STORED.astimezone(dt.timezone(dt.timedelta(hours=-5))),
    "2026-12-01T18:25:00+00:00",
    "2026-12-01T18:25:00.123456+00:00",
    "2026-12-01T18:25:59Z",
    "2026-12-01T18:25:00",                                  # naive ISO: UTC
    "2026-12-01 18:25:00",
    "2026-12-02T02:25:00+08:00",
])
def test_format_datetime_is_one_format_in_beijing_time(value):
    assert clock.format_datetime(value) == "2026-12-02 02:25"


@pytest.mark.parametrize("value, shown", [
    (None, ""), ("", ""), (dt.date(2026, 12, 2), "2026-12-02"), ("2026-12-02", "2026-12-02"),
    ("nonsense", "nonsense"), ("2026-13-45", "2026-13-45"),
])
def test_format_datetime_edge_values(value, shown):
    assert clock.format_datetime(value) == shown


def test_to_local_is_aware_in_the_display_timezone():
    local = clock.to_local(STORED)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 12, 2, 2, 25)
    assert local.utcoffset() == dt.timedelta(hours=8)
    assert local == STORED
    assert clock.to_local(None) is None and clock.to_local("x") is None


def test_display_timezone_comes_from_the_config(timezone):
    timezone("Europe/London")
    assert clock.format_datetime(STORED) == "2026-12-01 18:25"
    with clock.freeze("2026-12-01T18:30:00Z"):
        assert clock.today() == dt.date(2026, 12, 1)
    timezone("America/Los_Angeles")
    assert clock.format_datetime(STORED) == "2026-12-01 10:25"
    for fallback in (None, "", "Not/AZone"):
        timezone(fallback)
        assert str(clock.local_tz()) == "Asia/Shanghai"
        assert clock.format_datetime(STORED) == "2026-12-02 02:25"
