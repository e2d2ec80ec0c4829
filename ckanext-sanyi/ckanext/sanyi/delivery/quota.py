"""Quota counters: each granted call consumes its entitlement's quota, atomically, at most once.

What counts (the entitlement's ``quota_unit``, from the application's billing unit):

* ``call`` (按服务次数): one unit per granted call; the call is refused once ``quota`` calls
  were granted.
* ``record`` (按数据调用量): the records of a granted call's answer, at least one per call.
  :func:`reserve` takes one unit before the operation runs (so an exhausted quota runs
  nothing) and :meth:`Grant.settle` raises it to the answer's records afterwards; an answer
  that would go past the quota is withheld and refused (the rules allow no silent overage).
* ``month``, ``year`` (按服务时间), ``copy`` (按份数): the quota is time or copies, bounded by
  the entitlement's period, not by calls: calls are counted (one unit each) but never
  refused here (``Grant.quota`` is None).

The quota covers the entitlement's whole period and never renews, so
:class:`QuotaExhausted` carries ``retry_after=None``; the field exists for quotas per period.

Where the count lives
---------------------
Redis holds the running count of each entitlement in a hash ``sanyi:quota:<entitlement id>``
(``used``, and ``rid``: the run id of the Redis server that built it). PostgreSQL holds the
record: the granted rows of the ledger (:mod:`.ledger`), whose ``units`` sum to the count. On
the happy path a call costs one statement in its own transaction (a savepoint and a shared
advisory lock on the entitlement) and one Redis round trip (a Lua script that checks and
increments in one step, so under any concurrency at most ``quota`` units are handed out).

Reconciliation (the count survives a Redis restart, no call is granted twice)
---------------------------------------------------------------------------
* A caller takes ``pg_advisory_xact_lock_shared(NAMESPACE, hashtext(entitlement))`` in the
  call's transaction *before* its Redis reservation and keeps it until that transaction ends,
  the transaction that writes the call's ledger row. So while a caller holds the lock, its
  reservation is either in Redis only (in flight) or committed in the ledger with it.
* The script answers "missing" when the hash is absent (Redis restarted empty, the key
  expired, was flushed) *or* when its ``rid`` is not the running server's run id (Redis
  came back from a snapshot or an AOF that may predate some grants: a stale count is
  never trusted).
* On "missing" the caller rolls back to its savepoint (which drops its shared lock, so two
  rebuilding callers cannot deadlock), then rebuilds inside a new savepoint of the same
  transaction: it takes the *exclusive* lock, which waits until every in-flight caller has
  committed or rolled back (and makes later callers wait behind it), counts the ledger's
  granted units (READ COMMITTED: the count sees every commit before it; another isolation
  level is refused), writes ``used`` with the current run id, and rolls back to that
  savepoint, releasing the lock. Then it reserves again. Several rebuilders of one
  entitlement queue on the exclusive lock; each writes the same exact count.
* A reservation released before its transaction ends (:meth:`Grant.release`, run by
  :func:`reserve` when the block raises: the operation failed, the rate limit refused the
  call, the ledger insert failed) gives the units back while the shared lock is still held,
  and only to the hash it was taken from (same run id), so a refund can never lower a count
  rebuilt from the ledger.

What can go wrong, and in which direction
-----------------------------------------
Every failure counts a call that was not granted; none grants one twice:

* the process dies between the reservation and the ledger commit (or the commit itself
  fails after the block): its transaction is rolled back by PostgreSQL, its lock released;
  Redis keeps the units, so the entitlement has that much less quota until its key is
  rebuilt: on expiry (:data:`KEY_TTL`, one day after the last rebuild), a Redis restart, or
  :func:`rebuild` called by an operator;
* a command retried after a lost reply (see :mod:`.counters`) may count a call twice, with
  the same remedy.

Redis unreachable: the call is refused with :class:`QuotaUnavailable` (answered 503
``temporarily_unavailable``); the quota is never counted from PostgreSQL alone while Redis is
down, as a count taken then would not be in Redis when it comes back.

One reservation per transaction: a transaction must not hold two entitlements' locks.

The gateway's calls (:func:`take_held`) take the shared lock in the statement that reads
their token (:mod:`.call_store`), outside CKAN's session: on "missing" they end that
transaction (the lock released), rebuild in CKAN's session (its own transaction, rolled
back) and reserve again in a new transaction holding the lock.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import ckan.model as model
import redis
import sqlalchemy as sa
from redis.commands.core import Script

from . import counters, ratelimit

__all__ = ["reserve", "take", "take_held", "HeldLock", "rebuild", "usage", "limit_of", "Grant", "QuotaExhausted",
           "QuotaUnavailable", "METERED", "NAMESPACE", "KEY_PREFIX", "KEY_TTL"]

METERED = ("call", "record")  # quota units that bound calls
NAMESPACE = 0x5351  # first key of the entitlement's advisory lock ("SQ")
KEY_PREFIX = "sanyi:quota:"
KEY_TTL = 86400  # seconds a rebuilt count lives in Redis before it is recounted
_SAVEPOINT = "sanyi_quota"
_RUN_ID = "local rid = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')\n"

# KEYS[1] the count; ARGV units, quota (-1: unbounded). {1, used, rid} granted,
# {0, used, rid} refused, {-1, 0, rid} no trustworthy count.
_RESERVE = _RUN_ID + """
local state = redis.call('HMGET', KEYS[1], 'used', 'rid')
if not state[1] or state[2] ~= rid then return {-1, 0, rid} end
local used, n, quota = tonumber(state[1]), tonumber(ARGV[1]), tonumber(ARGV[2])
if quota >= 0 and used + n > quota then return {0, used, rid} end
return {1, redis.call('HINCRBY', KEYS[1], 'used', n), rid}
"""
# The reservation and the client's rate limit in one round trip (:func:`take_held`):
# KEYS[1] the count, KEYS[2] the rate limit's key prefix; ARGV units, quota (-1: unbounded),
# limit, window (ms). As _RESERVE, the rate limit checked once the quota allows the call:
# {2, used, rid, count, reset ms, wait ms} refused by the rate limit (nothing counted),
# {1, used, rid, count, reset ms, 0} granted (both counted).
_RESERVE_SLIDE = _RUN_ID + ratelimit.SLIDE_FUNCTION + """
local state = redis.call('HMGET', KEYS[1], 'used', 'rid')
if not state[1] or state[2] ~= rid then return {-1, 0, rid} end
local used, n, quota = tonumber(state[1]), tonumber(ARGV[1]), tonumber(ARGV[2])
if quota >= 0 and used + n > quota then return {0, used, rid} end
local rate = slide(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
if rate[1] == 0 then return {2, used, rid, rate[2], rate[3], rate[4]} end
return {1, redis.call('HINCRBY', KEYS[1], 'used', n), rid, rate[2], rate[3], 0}
"""
# KEYS[1]; ARGV units (negative: give back), quota, rid of the reservation.
# {1, used} done, {0, used} refused (would pass the quota), {-1, 0} the count is not the one.
_ADJUST = _RUN_ID + """
local state = redis.call('HMGET', KEYS[1], 'used', 'rid')
if not state[1] or state[2] ~= rid or state[2] ~= ARGV[3] then return {-1, 0} end
local used, n, quota = tonumber(state[1]), tonumber(ARGV[1]), tonumber(ARGV[2])
if n > 0 and quota >= 0 and used + n > quota then return {0, used} end
return {1, redis.call('HINCRBY', KEYS[1], 'used', n)}
"""
# KEYS[1]; ARGV used, ttl.
_REBUILD = _RUN_ID + """
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'used', ARGV[1], 'rid', rid)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return rid
"""
_scripts: dict[str, Script] = {}
_scripts_lock = threading.Lock()


class QuotaExhausted(Exception):
    """The entitlement's quota is used up (429 ``quota_exhausted``)."""

    code = "quota_exhausted"

    def __init__(self, quota: int | None, used: int, retry_after: int | None = None) -> None:
        self.quota, self.used, self.retry_after = quota, used, retry_after
        super().__init__(f"quota exhausted: {used} of {quota} used")


class QuotaUnavailable(Exception):
    """The counters cannot be reached: the call is refused (503 ``temporarily_unavailable``)."""

    code = "temporarily_unavailable"


@dataclass
class Grant:
    """Units of an entitlement's quota reserved for one call.

    ``quota`` is None where calls are not bounded (see the module doc); ``used`` counts this
    call's units; ``units`` are the units this call holds (the ledger row's ``units``).
    """

    entitlement_id: str
    quota: int | None
    used: int
    units: int
    _redis: redis.Redis = field(repr=False)
    _rid: str = field(repr=False)
    released: bool = False

    @property
    def remaining(self) -> int | None:
        return None if self.quota is None else max(0, self.quota - self.used)

    def usage(self) -> dict[str, int | None]:
        """``{"quota", "used", "remaining"}`` of the call's answer."""
        return {"quota": self.quota, "used": self.used, "remaining": self.remaining}

    def settle(self, units: int) -> None:
        """Make the call hold ``units`` (records of its answer, at least 1); raises
        :class:`QuotaExhausted` if that passes the quota (the caller then refuses the call,
        and :func:`reserve` gives back what it holds), :class:`QuotaUnavailable` if the
        count was lost meanwhile."""
        units = max(1, int(units))
        if self.released:
            raise RuntimeError("settle after release")
        if units == self.units:
            return
        status, used = self._adjust(units - self.units)
        if status == 0:
            raise QuotaExhausted(self.quota, used)
        if status < 0:
            raise QuotaUnavailable("the quota count was lost during the call")
        self.used, self.units = used, units

    def release(self) -> None:
        """Give the call's units back (idempotent). Must run before the call's transaction
        ends; a count rebuilt since the reservation is left alone."""
        if self.released:
            return
        self.released = True
        try:
            self._adjust(-self.units)
        except counters.CounterError:
            pass  # Redis is gone: its count is rebuilt from the ledger, without this call

    def _adjust(self, delta: int) -> tuple[int, int]:
        quota = -1 if self.quota is None else self.quota
        out = _run(self._redis, "adjust", [key(self.entitlement_id)], [delta, quota, self._rid])
        return int(out[0]), int(out[1])


def key(entitlement_id: str) -> str:
    return KEY_PREFIX + entitlement_id


def limit_of(entitlement: Mapping[str, Any]) -> int | None:
    """The quota that bounds calls, or None when the quota unit does not count calls."""
    return int(entitlement["quota"]) if entitlement.get("quota_unit") in METERED else None


@contextlib.contextmanager
def reserve(entitlement: Mapping[str, Any], *, units: int = 1, session: Any = None,
            redis_client: redis.Redis | None = None) -> Iterator[Grant]:
    """Reserve ``units`` of ``entitlement``'s quota for one call, in ``session``'s transaction
    (CKAN's ``model.Session`` by default) which must then write the call's ledger row and
    commit. An exception in the block gives the units back and propagates.

    Raises :class:`QuotaExhausted` or :class:`QuotaUnavailable` before the block runs.
    ``redis_client`` overrides the counters' Redis (tests).
    """
    grant = take(entitlement, units=units, session=session, redis_client=redis_client)
    try:
        yield grant
    except BaseException:
        grant.release()
        raise


def take(entitlement: Mapping[str, Any], *, units: int = 1, session: Any = None,
         redis_client: redis.Redis | None = None) -> Grant:
    """:func:`reserve` without the block: the caller calls :meth:`Grant.release` itself if
    the call fails before its ledger row is committed."""
    session = session if session is not None else model.Session
    client = redis_client if redis_client is not None else counters.client()
    ent_id = str(entitlement["id"])
    limit = limit_of(entitlement)
    for _ in range(3):
        session.execute(sa.text(f"SAVEPOINT {_SAVEPOINT}; "
                                "SELECT pg_advisory_xact_lock_shared(:ns, hashtext(:ent))"),
                        {"ns": NAMESPACE, "ent": ent_id})
        try:
            status, used, rid = _run(client, "reserve", [key(ent_id)],
                                     [units, -1 if limit is None else limit])
        except counters.CounterError as err:
            _drop_lock(session)
            raise QuotaUnavailable(str(err)) from err
        if status == 1:
            return Grant(ent_id, limit, int(used), units, client, _text(rid))
        _drop_lock(session)
        if status == 0:
            raise QuotaExhausted(limit, int(used))
        rebuild(ent_id, session=session, redis_client=client)
    raise QuotaUnavailable("the quota count could not be rebuilt")


class HeldLock(Protocol):
    """A transaction holding the entitlement's shared lock (:class:`.call_store.CallTx`)."""

    def rollback(self) -> None: ...

    def relock(self, entitlement_id: str) -> None: ...


def take_held(entitlement: Mapping[str, Any], held: HeldLock, *, units: int = 1,
              redis_client: redis.Redis, client_id: str | None = None,
              rate: ratelimit.Rule | None = None) -> tuple[Grant, ratelimit.Window | None]:
    """:func:`take` for a caller whose transaction ``held`` already holds the entitlement's
    shared lock and will write the call's ledger row; with ``rate``, the rate limit of
    ``client_id`` is counted in the same round trip once the quota allows the call (raises
    :class:`.ratelimit.RateLimited`, the quota untouched). On a refusal (raised as by
    :func:`take`) the transaction is rolled back; on a count to rebuild it is rolled back,
    the count rebuilt in CKAN's session and the lock taken again in a new one. Answers the
    grant and the rate limit's window (None without ``rate``)."""
    ent_id = str(entitlement["id"])
    limit = limit_of(entitlement)
    bound = -1 if limit is None else limit
    for _ in range(3):
        try:
            if rate is None or client_id is None:
                out = _run(redis_client, "reserve", [key(ent_id)], [units, bound])
            else:
                out = _run(redis_client, "reserve_slide",
                           [key(ent_id), ratelimit.key_prefix(client_id, rate)],
                           [units, bound, rate.limit, rate.window * 1000])
        except counters.CounterError as err:
            held.rollback()
            raise QuotaUnavailable(str(err)) from err
        status, used, rid = int(out[0]), int(out[1]), _text(out[2])
        sliding = rate is not None and len(out) == 6
        if status == 1:
            window = ratelimit.outcome(rate, 1, int(out[3]), int(out[4]), 0) \
                if rate is not None and sliding else None
            return Grant(ent_id, limit, used, units, redis_client, rid), window
        held.rollback()
        if status == 2 and rate is not None and sliding:  # raises RateLimited
            ratelimit.outcome(rate, 0, int(out[3]), int(out[4]), int(out[5]))
        if status == 0:
            raise QuotaExhausted(limit, used)
        try:
            rebuild(ent_id, session=model.Session, redis_client=redis_client)
        finally:
            model.Session.rollback()
        held.relock(ent_id)
    held.rollback()
    raise QuotaUnavailable("the quota count could not be rebuilt")


def rebuild(entitlement_id: str, *, session: Any = None,
            redis_client: redis.Redis | None = None) -> int:
    """Recount ``entitlement_id``'s granted units from the ledger under the exclusive lock and
    store the count in Redis; returns it. Waits for in-flight calls of the entitlement."""
    from .ledger import granted_units  # the ledger imports nothing from here

    session = session if session is not None else model.Session
    client = redis_client if redis_client is not None else counters.client()
    session.execute(sa.text(f"SAVEPOINT {_SAVEPOINT}_rebuild; "
                            "SELECT pg_advisory_xact_lock(:ns, hashtext(:ent))"),
                    {"ns": NAMESPACE, "ent": entitlement_id})
    try:
        isolation = session.execute(sa.text("SELECT current_setting('transaction_isolation')")) \
            .scalar_one()
        if isolation != "read committed":
            raise RuntimeError(f"quota rebuild needs READ COMMITTED, not {isolation}")
        used = granted_units(entitlement_id, session=session)
        try:
            _run(client, "rebuild", [key(entitlement_id)], [used, KEY_TTL])
        except counters.CounterError as err:
            raise QuotaUnavailable(str(err)) from err
        return used
    finally:
        session.execute(sa.text(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}_rebuild"))


def usage(entitlement: Mapping[str, Any], *,
          redis_client: redis.Redis | None = None) -> dict[str, int | None]:
    """``{"quota", "used", "remaining"}`` for pages: Redis' count when it is trustworthy,
    else the ledger's granted units (nothing is written)."""
    from .ledger import granted_units

    client = redis_client if redis_client is not None else counters.client()
    limit = limit_of(entitlement)
    used: int | None = None
    try:
        status, count, _rid = _run(client, "reserve", [key(str(entitlement["id"]))], [0, -1])
        used = int(count) if status == 1 else None
    except counters.CounterError:
        pass
    if used is None:
        used = granted_units(str(entitlement["id"]))
    return {"quota": limit, "used": used,
            "remaining": None if limit is None else max(0, limit - used)}


def _drop_lock(session: Any) -> None:
    """Roll back to the reservation's savepoint: its shared lock is released."""
    session.execute(sa.text(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}"))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _run(client: redis.Redis, name: str, keys: list[str], args: list[Any]) -> Any:
    """Run one of the scripts on ``client`` (EVALSHA; loaded again after a Redis restart)."""
    script = _scripts.get(name)
    if script is None:
        with _scripts_lock:
            source = {"reserve": _RESERVE, "adjust": _ADJUST, "rebuild": _REBUILD,
                      "reserve_slide": _RESERVE_SLIDE}[name]
            script = _scripts.setdefault(name, client.register_script(source))
    return script(keys=keys, args=args, client=client)
