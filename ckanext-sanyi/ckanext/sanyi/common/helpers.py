"""Template helpers every page uses: the UI language, times, text and numbers as shown, the
bureau role. Registered by the plugin's helpers blanket (each module's ``__all__``), as
are those of ``catalog.helpers`` and ``applications.helpers``."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.plugins.toolkit as tk

from . import clock, roles
from .user import acting_user

__all__ = ["sanyi_t", "sanyi_is_zh", "sanyi_list", "sanyi_is_bureau_staff", "sanyi_bar_width",
           "sanyi_locale_url", "sanyi_excerpt", "sanyi_datetime", "render_datetime"]


def sanyi_is_zh() -> bool:
    try:
        return tk.h.lang().startswith("zh")
    except Exception:  # outside a request
        return True


def sanyi_t(zh: str, en: str) -> str:
    """Pick the Chinese or the English text for the current UI language."""
    return zh if sanyi_is_zh() else en


def ui_lang() -> str:
    """The scheming language code of the current UI language."""
    return "zh_Hans_CN" if sanyi_is_zh() else "en"


def sanyi_list(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.startswith("[") else [value]
        except ValueError:
            value = [value]
    return list(value)


def sanyi_is_bureau_staff() -> bool:
    return roles.is_bureau_staff(acting_user())


def sanyi_bar_width(count: Any, largest: Any) -> float:
    """Width in percent of a bar for ``count`` when the largest bar is ``largest``."""
    try:
        count, largest = float(count), float(largest)
    except (TypeError, ValueError):
        return 0.0
    if largest <= 0 or count <= 0:
        return 0.0
    return round(max(2.0, min(100.0, 100.0 * count / largest)), 1)


def sanyi_locale_url(locale: str) -> str:
    """The current page in another UI language (as CKAN's language selector builds it)."""
    try:
        return tk.h.url_for(tk.h.current_url(), locale=locale)
    except Exception:
        return tk.h.url_for("home.index", locale=locale)


def sanyi_excerpt(text: str | None, length: int = 120) -> str:
    """Plain-text excerpt of markdown, cut by characters (CKAN's cuts at spaces, which
    Chinese text has none of, so it would show only "...")."""
    plain = " ".join(str(tk.h.markdown_extract(text or "", extract_length=0)).split())
    if len(plain) <= length:
        return plain
    return plain[:length].rstrip(" ,，。;；、") + "…"


def sanyi_datetime(value: Any) -> str:
    """A stored time as people read it: ``2026-12-02 02:25`` in ``ckan.display_timezone``
    (aware datetimes, naive ones as UTC, ISO strings; "" for None)."""
    return clock.format_datetime(value)


@tk.chained_helper
def render_datetime(next_helper: Any, datetime_: Any, date_format: str | None = None,
                    with_hours: bool = False, with_seconds: bool = False) -> str:
    """CKAN's ``h.render_datetime`` in the display timezone for aware values too.

    CKAN converts naive (UTC) values itself, but returns an aware value or an ISO string with
    an offset unchanged, so an explicit ``date_format`` showed UTC. Every datetime is turned
    into local time first; bare dates and anything unparsable are passed on as they were.
    """
    value = datetime_
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value.strip()) > 10):
        value = clock.to_local(value) or datetime_
    return next_helper(value, date_format=date_format, with_hours=with_hours,
                       with_seconds=with_seconds)
