"""Rate limit per API client: a sliding window in Redis, one round trip per call.

``ckanext.sanyi.delivery.rate_limit`` is ``<calls>/<window>``: ``20/s``, ``600/min``,
``100/10s``, ``5000/h`` (``off`` for none; default ``100/s``). The window slides: the count
is this fixed window's calls plus the previous window's, weighted by how much of it still
overlaps the last ``window`` seconds (the approximation of Cloudflare's and Kong's sliding
limiters), so a burst at a window's edge cannot pass twice the limit. A refused call is not
counted. Redis' own clock decides (every process agrees).

:func:`hit` answers a :class:`Window` for the ``X-RateLimit-Limit`` / ``-Remaining`` /
``-Reset`` headers (``reset``: seconds until the current window ends) or raises
:class:`RateLimited` with ``retry_after`` (whole seconds, at least 1). If Redis cannot be
reached the call is not refused here (the quota, which needs Redis, refuses it anyway).
"""
from __future__ import annotations

import math
import re
import threading
from dataclasses import dataclass

import ckan.plugins.toolkit as tk
import redis
from redis.commands.core import Script

from . import counters

__all__ = ["Rule", "Window", "RateLimited", "parse", "rule", "hit", "key_prefix", "outcome",
           "SLIDE_FUNCTION", "DEFAULT", "KEY_PREFIX"]

DEFAULT = "100/s"
KEY_PREFIX = "sanyi:rate:"
_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "m": 60, "min": 60,
          "mins": 60, "minute": 60, "minutes": 60, "h": 3600, "hour": 3600, "hours": 3600}
_RULE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")

# slide(key prefix of the client, limit, window in ms):
# {allowed (1/0), count after this call (or now), ms until the window ends, ms to wait}
# (also the second half of quota's reservation with a rate limit, :func:`.quota.take_held`)
SLIDE_FUNCTION = """
local function slide(prefix, limit, window)
    local now = redis.call('TIME')
    local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
    local index = math.floor(ms / window)
    local elapsed = ms - index * window
    local current = tonumber(redis.call('GET', prefix .. index) or '0')
    local previous = tonumber(redis.call('GET', prefix .. (index - 1)) or '0')
    local weight = (window - elapsed) / window
    local count = math.floor(previous * weight) + current
    if count >= limit then
        local wait = window - elapsed
        if current < limit and previous > 0 then
            -- the weighted previous window falls below limit - current after t ms
            local t = window - math.floor((limit - current - 1) * window / previous) - elapsed
            if t > 0 and t < wait then wait = t end
        end
        return {0, count, window - elapsed, wait}
    end
    redis.call('INCR', prefix .. index)
    redis.call('PEXPIRE', prefix .. index, window * 2 + 1000)
    return {1, count + 1, window - elapsed, 0}
end
"""
# KEYS[1] key prefix of the client; ARGV limit, window (ms).
_SLIDE = SLIDE_FUNCTION + "return slide(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))\n"
_script: dict[str, Script] = {}
_script_lock = threading.Lock()


@dataclass(frozen=True)
class Rule:
    """At most ``limit`` calls in any ``window`` seconds."""

    limit: int
    window: int

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}s"


@dataclass(frozen=True)
class Window:
    """The state after a call, for the response headers."""

    limit: int
    remaining: int
    reset: int  # seconds until the current window ends

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit),
                "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(self.reset)}


class RateLimited(Exception):
    """The client called too often (429 ``rate_limited``)."""

    code = "rate_limited"

    def __init__(self, window: Window, retry_after: int) -> None:
        self.window, self.retry_after = window, retry_after
        super().__init__(f"rate limited: {window.limit} calls, retry after {retry_after}s")


def parse(text: str) -> Rule | None:
    """The rule ``text`` states (None for ``off``); ``ValueError`` when it states none."""
    text = (text or "").strip().lower()
    if text in ("off", "none", "0"):
        return None
    match = _RULE.match(text)
    unit = _UNITS.get(match.group(3)) if match else None
    if not match or unit is None or int(match.group(1)) < 1:
        raise ValueError(f"rate limit must look like 20/s, 600/min, 100/10s or off: {text!r}")
    window = int(match.group(2) or 1) * unit
    if not 1 <= window <= 86400:
        raise ValueError(f"rate limit window must be 1 s to 1 day: {text!r}")
    return Rule(int(match.group(1)), window)


def rule() -> Rule | None:
    """The configured rule (``ckanext.sanyi.delivery.rate_limit``)."""
    return parse(str(tk.config.get("ckanext.sanyi.delivery.rate_limit", "") or DEFAULT))


def hit(client_id: str, *, limit: Rule | None = None, use_config: bool = True,
        redis_client: redis.Redis | None = None) -> Window | None:
    """Count one call of ``client_id`` against ``limit`` (default: the configured rule);
    None when there is no limit or Redis cannot be reached. Raises :class:`RateLimited`."""
    if limit is None and use_config:
        limit = rule()
    if limit is None:
        return None
    client = redis_client if redis_client is not None else counters.client()
    script = _script.get("slide")
    if script is None:
        with _script_lock:
            script = _script.setdefault("slide", client.register_script(_SLIDE))
    try:
        allowed, count, reset_ms, wait_ms = script(
            keys=[key_prefix(client_id, limit)], args=[limit.limit, limit.window * 1000],
            client=client)
    except counters.CounterError:
        return None
    return outcome(limit, allowed, count, reset_ms, wait_ms)


def key_prefix(client_id: str, limit: Rule) -> str:
    """The prefix of the client's window counters (the window's index follows)."""
    return f"{KEY_PREFIX}{client_id}:{limit.window}:"


def outcome(limit: Rule, allowed: int, count: int, reset_ms: int, wait_ms: int) -> Window:
    """The :class:`Window` of ``slide``'s answer, or :class:`RateLimited` when it refused."""
    window = Window(limit.limit, max(0, limit.limit - int(count)),
                    max(1, math.ceil(int(reset_ms) / 1000)))
    if not allowed:
        raise RateLimited(window, max(1, math.ceil(int(wait_ms) / 1000)))
    return window
