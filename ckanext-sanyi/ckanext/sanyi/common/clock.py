"""The one clock of the extension: "now", "today" and how a time is shown to people.

* Storage is timezone-aware UTC (``now_utc()``); CKAN's own naive columns are UTC too.
* People live in ``ckan.display_timezone`` (default Asia/Shanghai): ``today()`` is the date
  there, and ``format_datetime()`` shows any time as ``YYYY-MM-DD HH:MM`` in that zone.
* Tests fix the clock with ``freeze(...)``: a module-level override read by ``now_utc()``, so
  it reaches everything that runs in the same process (actions, views under the test app,
  CLI commands, jobs run synchronously) without patching :mod:`datetime`.

Nothing here needs a Flask request; the configuration is read from CKAN's global config.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DEFAULT_TIMEZONE", "DISPLAY_FORMAT", "now_utc", "local_tz", "today", "to_local",
           "format_datetime", "freeze"]

DEFAULT_TIMEZONE = "Asia/Shanghai"
DISPLAY_FORMAT = "%Y-%m-%d %H:%M"

_lock = threading.Lock()
_frozen: dt.datetime | None = None


def _as_utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC; a naive datetime is taken as UTC (how CKAN stores its timestamps)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def now_utc() -> dt.datetime:
    """The current time, timezone-aware in UTC (or the frozen time under :func:`freeze`)."""
    frozen = _frozen
    if frozen is not None:
        return frozen
    return dt.datetime.now(dt.timezone.utc)


def _config_timezone() -> str:
    try:
        from ckan.common import config
        return str(config.get("ckan.display_timezone", "") or DEFAULT_TIMEZONE).strip()
    except Exception:  # CKAN not configured (plain scripts, unit tests)
        return DEFAULT_TIMEZONE


def local_tz() -> dt.tzinfo:
    """The people's timezone: ``ckan.display_timezone`` ("server" = the host's zone);
    Asia/Shanghai when unset or unknown."""
    name = _config_timezone()
    if name == "server":
        return dt.datetime.now().astimezone().tzinfo or ZoneInfo(DEFAULT_TIMEZONE)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def today() -> dt.date:
    """Today's date in the people's timezone (not the server's UTC date)."""
    return now_utc().astimezone(local_tz()).date()


def _parse(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        raw = value.strip()
        if not raw:
            return None
        try:
            return dt.datetime.fromisoformat(raw)
        except ValueError:
            return None
    return None


def to_local(value: Any) -> dt.datetime | None:
    """A datetime (aware, or naive = UTC) or an ISO string, in the people's timezone;
    None when it is not a time."""
    parsed = _parse(value)
    if parsed is None:
        return None
    return _as_utc(parsed).astimezone(local_tz())


def format_datetime(value: Any) -> str:
    """``2026-12-02 02:25``: the time in the people's timezone; "" for None or "".

    A bare date (``date`` or ``"2026-12-02"``) is shown as the date itself: it has no time to
    convert. Text that is not an ISO time is returned unchanged rather than dropped.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            return value
    local = to_local(value)
    if local is None:
        return str(value)
    return local.strftime(DISPLAY_FORMAT)


@contextlib.contextmanager
def freeze(at: dt.datetime | str) -> Iterator[dt.datetime]:
    """Fix :func:`now_utc` (and so :func:`today`) at ``at`` inside the block.

    ``at`` is an aware datetime, a naive one (UTC) or an ISO string. Blocks nest; the previous
    value comes back on exit. Yields the frozen aware-UTC time.
    """
    global _frozen
    parsed = _parse(at)
    if parsed is None:
        raise ValueError(f"not a datetime: {at!r}")
    moment = _as_utc(parsed)
    with _lock:
        previous, _frozen = _frozen, moment
    try:
        yield moment
    finally:
        with _lock:
            _frozen = previous
