"""Rate limit per API client (delivery/ratelimit.py): rules as configured, the headers'
figures, exact under concurrency, the sliding window, Redis unreachable."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from ckan.plugins import toolkit as tk

from ckanext.sanyi.delivery import counters, ratelimit
from ckanext.sanyi.delivery.ratelimit import Rule


def _client() -> str:
    return f"sanyi_test_{uuid.uuid4().hex[:12]}"


@pytest.mark.parametrize(("text", "rule"), [
    ("20/s", Rule(20, 1)), ("600/min", Rule(600, 60)), ("100/10s", Rule(100, 10)),
    ("5000/h", Rule(5000, 3600)), (" 3 / 2 minutes ", Rule(3, 120)), ("off", None)])
def test_rules_are_read_as_written(text, rule):
    assert ratelimit.parse(text) == rule


@pytest.mark.parametrize("text", ["fast", "20", "20/ms", "0/s", "-1/s", "20/2d", "1/100000s"])
def test_rules_that_say_nothing_clear_are_refused(text):
    with pytest.raises(ValueError, match="rate limit"):
        ratelimit.parse(text)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.ckan_config("ckanext.sanyi.delivery.rate_limit", "3/min")
def test_calls_past_the_configured_limit_are_refused_with_when_to_retry():
    client = _client()
    windows = [ratelimit.hit(client) for _ in range(3)]
    assert [w.remaining for w in windows] == [2, 1, 0]
    assert windows[0].headers() == {"X-RateLimit-Limit": "3", "X-RateLimit-Remaining": "2",
                                    "X-RateLimit-Reset": str(windows[0].reset)}
    assert all(1 <= w.reset <= 60 for w in windows)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit(client)
    assert refused.value.code == "rate_limited"
    assert 1 <= refused.value.retry_after <= 60 and refused.value.window.remaining == 0
    assert ratelimit.hit(_client()).remaining == 2  # another client has its own window


@pytest.mark.usefixtures("with_plugins")
def test_concurrent_calls_pass_exactly_the_limit():
    client, rule = _client(), Rule(50, 60)
    passed, lock = [], threading.Lock()

    def worker() -> None:
        for _ in range(10):
            try:
                ratelimit.hit(client, limit=rule)
                with lock:
                    passed.append(1)
            except ratelimit.RateLimited:
                pass
    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(passed) == 50


@pytest.mark.usefixtures("with_plugins")
def test_the_window_slides_over_the_previous_one():
    """Calls of the previous window still count, weighted by their overlap: a client that
    used its limit just before the window turned is not given a fresh limit at once."""
    client, rule = _client(), Rule(10, 60)
    redis = counters.client()
    seconds, micros = redis.time()
    ms = seconds * 1000 + micros // 1000
    if ms % 60000 > 57000:
        time.sleep(3.5)  # keep clear of the window's turn
        seconds, micros = redis.time()
        ms = seconds * 1000 + micros // 1000
    index = ms // 60000
    redis.set(f"{ratelimit.KEY_PREFIX}{client}:60:{index - 1}", 1000, px=120000)
    with pytest.raises(ratelimit.RateLimited) as refused:
        ratelimit.hit(client, limit=rule)
    assert 1 <= refused.value.retry_after <= 60


@pytest.mark.usefixtures("with_plugins")
def test_no_limit_when_off_or_redis_is_unreachable():
    assert ratelimit.hit(_client(), limit=None, use_config=False) is None
    dead = counters.client("redis://127.0.0.1:1/0")
    assert ratelimit.hit(_client(), limit=Rule(1, 1), redis_client=dead) is None


def test_the_default_is_generous():
    assert ratelimit.parse(ratelimit.DEFAULT) == Rule(100, 1)
    assert tk.config.get("ckanext.sanyi.delivery.rate_limit") in (None, "", ratelimit.DEFAULT)
