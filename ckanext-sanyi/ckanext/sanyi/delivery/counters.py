"""The Redis that holds the gateway's counters (quota use, rate-limit windows).

``ckanext.sanyi.delivery.redis_url`` names it; empty (the default) means CKAN's own
``ckan.redis.url``. One connection pool per URL and process. Operations time out quickly
(a dead Redis refuses calls at once rather than holding them) and a command is retried at
most once after a connection error: a retried increment can only count a call twice, never
grant one twice (see :mod:`.quota`).
"""
from __future__ import annotations

import threading

import ckan.plugins.toolkit as tk
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

__all__ = ["client", "url", "CounterError", "SOCKET_TIMEOUT"]

SOCKET_TIMEOUT = 1.0  # seconds a command may take before the call is refused
CounterError = (redis.ConnectionError, redis.TimeoutError, redis.ResponseError)

_pools: dict[str, redis.ConnectionPool] = {}
_lock = threading.Lock()


def url() -> str:
    """The counters' Redis URL (``ckanext.sanyi.delivery.redis_url``, else CKAN's)."""
    return str(tk.config.get("ckanext.sanyi.delivery.redis_url", "") or "").strip() \
        or str(tk.config.get("ckan.redis.url", ""))


def client(address: str | None = None) -> redis.Redis:
    """A client of the counters' Redis (or of ``address``), sharing one pool per URL."""
    address = address or url()
    pool = _pools.get(address)
    if pool is None:
        with _lock:
            pool = _pools.get(address)
            if pool is None:
                pool = redis.ConnectionPool.from_url(
                    address, socket_timeout=SOCKET_TIMEOUT, socket_connect_timeout=SOCKET_TIMEOUT,
                    retry=Retry(NoBackoff(), 1), retry_on_error=[redis.ConnectionError],
                    health_check_interval=0)
                _pools[address] = pool
    return redis.Redis(connection_pool=pool)
