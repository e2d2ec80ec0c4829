"""The call pipeline of the delivery API: ``POST /api/delivery/v1/<product_name>/<operation>``.

JSON in (the operation's input object), JSON out::

    {"request_id", "product", "operation", "result": {...},
     "usage": {"quota", "used", "remaining"}}

with ``X-Request-ID`` (and ``X-RateLimit-Limit/-Remaining/-Reset`` while a rate limit is set)
on every answer. A refusal is ``{"error", "error_description", "message": {"zh", "en"},
"request_id"}`` (:mod:`.http`), plus ``errors`` (``[{"field", "zh", "en"}]``) for
``invalid_input``, ``missing`` (the data items lacking) for ``data_items_exceeded`` and
``usage`` for ``quota_exhausted``.

The order of the checks
-----------------------
Before the call is a call of an operation (none of these is ledgered: nothing was read,
no caller is known yet):

0. only POST (405 ``invalid_request`` with ``Allow``); the path must name an operation of
   a product in the catalog (404 ``not_found``: a route table built from the catalog, one
   query a minute, so unknown names cost no query); the body at most
   ``ckanext.sanyi.delivery.max_body_bytes`` (default 64 KiB: 413 ``request_too_large``,
   decided on ``Content-Length`` or while reading, never reading more).

Then, in this order, each refusal ledgered and nothing run in the domain:

1. the access token (``Authorization: Bearer``) is live: known, unexpired, not revoked, its
   client active (401 ``invalid_token``, ``WWW-Authenticate: Bearer realm="sanyi-delivery",
   error="invalid_token"``);
2. the entitlement: ``suspended`` (403, and the alerts hook), any other status than active
   (403 ``entitlement_inactive``), today (Asia/Shanghai, :func:`..common.clock.today`) outside
   its inclusive period (403 ``outside_period``);
3. the URL's product is the entitlement's product and the token's scope covers the operation
   (403 ``out_of_scope``, alerts hook);
4. the operation's reads are within the approved data items (403 ``data_items_exceeded``,
   alerts hook; 503 ``temporarily_unavailable`` when a resource it reads is not in the catalog);
   then the input: the body a JSON object (400 ``invalid_request``; an empty body is ``{}``),
   valid under the operation's schema (400 ``invalid_input``, every bad field in Chinese and
   English). The input is checked *before* the quota: a bad input consumes no quota and is
   not counted by the rate limit (like the refusals 1-4, it costs one token query and one
   ledger row, and reads nothing);
5. the quota (:func:`.quota.reserve`: 429 ``quota_exhausted``, ``Retry-After`` when the quota
   renews; 503 ``temporarily_unavailable`` when the counters cannot be reached), alerts hook;
6. the rate limit of the client (:func:`.ratelimit.hit`: 429 ``rate_limited`` with
   ``Retry-After`` and the ``X-RateLimit-*`` figures); the quota reserved in 5 is given back.

Then the operation runs inside the domain (:func:`.operations.engine.run`); a domain that
cannot be reached is 503 ``temporarily_unavailable`` (the quota given back). Anything else
unexpected is a 500 ``server_error`` with the request id, logged, and ledgered when the
caller is known.

The ledger (数据流转台账)
-----------------------
Every call that passed step 0 is one row, granted or refused with its code. A granted call's
row is written in the transaction that holds the quota reservation and committed with it
(:mod:`.call_store`: the token read with the entitlement's shared lock in one statement, the
row and the commit in another; :func:`.quota.take_held`). A refused call's transaction is
ended first; its row is written through CKAN's session (:func:`.ledger.record`), the alerts
hook in the same transaction. The input is stored only as its HMAC
(:func:`.ledger.input_hash`: of the canonical JSON, or of the raw bytes of a body that is not
JSON). Refusals at step 1 are ledgered within a bound, so that an anonymous flood cannot fill
a table whose rows are kept three years: a token that was issued once (expired, revoked, its
client revoked) is ledgered under its client, merchant and entitlement, an unknown, malformed
or missing token under no one; at most
``ckanext.sanyi.delivery.ledger_unauthenticated_per_minute`` (default 10) such rows per
client and per minute, and as many for all the anonymous ones together (a Redis counter; the
rest are counted there and logged once a minute, not ledgered).

The benchmark's no-op
---------------------
``ckanext.sanyi.delivery.bench_noop = true`` lets a call with the header
``X-Sanyi-Bench-Noop: 1`` take the whole path above but answer ``{"noop": true}`` instead of
running the operation (bench/delivery.py measures the gateway's own cost so). It is honoured
only in a benchmark's scratch database (CKAN's database named ``ckan_sanyi_bench…``); with
any other database CKAN refuses to start (:func:`check_bench_config`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import redis
import sqlalchemy as sa
from flask import Response, has_request_context
from werkzeug.wrappers import Request

from ..common import clock
from ..common.inputs import find_problem
from . import call_store, clients, counters, ledger, quota, ratelimit
from .datadomain import catalog_link, sources
from .http import NO_STORE, json_response, request_id
from .operations import engine, spec
from .operations.errors import DataItemsExceeded, InvalidInput, OperationUnavailable

__all__ = ["handle", "ERRORS", "REALM", "routes", "route", "forget_caches", "max_body_bytes",
           "bench_noop_enabled", "check_bench_config", "BENCH_HEADER", "BENCH_DB_PREFIX",
           "records_of", "CALL_PATH"]

log = logging.getLogger(__name__)

CALL_PATH = "/api/delivery/v1/{product}/{operation}"
REALM = "sanyi-delivery"
BENCH_HEADER = "X-Sanyi-Bench-Noop"
BENCH_DB_PREFIX = "ckan_sanyi_bench"
MAX_BODY = "ckanext.sanyi.delivery.max_body_bytes"
UNAUTH_PER_MINUTE = "ckanext.sanyi.delivery.ledger_unauthenticated_per_minute"
BENCH_NOOP = "ckanext.sanyi.delivery.bench_noop"
DEFAULT_MAX_BODY = 64 * 1024
DEFAULT_UNAUTH_PER_MINUTE = 10
_UNAUTH_KEY = "sanyi:unauth:"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,200}$")
_BEARER = re.compile(r"^\s*[Bb][Ee][Aa][Rr][Ee][Rr]\s+(\S+)\s*$")

# code -> (HTTP status, zh, en): every refusal the call endpoint answers (the OpenAPI
# description and the documentation page list them from here).
ERRORS: dict[str, tuple[int, str, str]] = {
    "invalid_token": (401, "访问令牌缺失、无效、已过期或已撤销",
                      "The access token is missing, invalid, expired or revoked"),
    "entitlement_inactive": (403, *clients.ENTITLEMENT_REFUSALS["entitlement_inactive"]),
    "outside_period": (403, *clients.ENTITLEMENT_REFUSALS["outside_period"]),
    "suspended": (403, "授权已暂停，暂停期间不能调用", "The entitlement is suspended: no call is "
                  "answered while it is"),
    "out_of_scope": (403, "该令牌的授权不包含此产品或此数据服务",
                     "The token's entitlement does not cover this product or operation"),
    "data_items_exceeded": (403, "该数据服务读取的数据项超出授权批准的数据项（最小必要）",
                            "The operation reads data items beyond those the entitlement "
                            "approved (minimum necessary)"),
    "invalid_request": (400, "请求格式不正确：请求体须为 JSON 对象（UTF-8）",
                        "The request is malformed: the body must be a JSON object (UTF-8)"),
    "invalid_input": (400, "输入无效", "The input is invalid"),
    "quota_exhausted": (429, "授权额度已用尽", "The entitlement's quota is used up"),
    "rate_limited": (429, "调用过于频繁，请稍后再试", "Too many calls: try again later"),
    "not_found": (404, "没有这个数据服务：请核对产品名称和数据服务名称",
                  "No such operation: check the product name and the operation name"),
    "request_too_large": (413, "请求体过大", "The request body is too large"),
    "temporarily_unavailable": (503, "服务暂时不可用，请稍后再试",
                                "The service is temporarily unavailable: try again later"),
    "server_error": (500, "服务器内部错误", "Internal server error"),
}
ALERTED = ("suspended", "out_of_scope", "data_items_exceeded", "quota_exhausted")


# -- configuration ------------------------------------------------------------------------------
def _int_option(key: str, default: int, low: int, high: int) -> int:
    try:
        value = int(str(tk.config.get(key, None) or default).strip())
    except (TypeError, ValueError):
        return default
    return max(low, min(value, high))


def max_body_bytes() -> int:
    """The largest request body the call endpoint reads (``ckanext.sanyi.delivery.max_body_bytes``)."""
    return _int_option(MAX_BODY, DEFAULT_MAX_BODY, 1024, 16 * 1024 * 1024)


def _unauth_per_minute() -> int:
    return _int_option(UNAUTH_PER_MINUTE, DEFAULT_UNAUTH_PER_MINUTE, 0, 100_000)


def _database_name() -> str:
    return _database_of(str(tk.config.get("sqlalchemy.url", "") or ""))


@functools.lru_cache(maxsize=4)
def _database_of(url: str) -> str:
    try:
        return sa.engine.make_url(url).database or ""
    except Exception:
        return ""


def bench_noop_enabled() -> bool:
    """Is the benchmark's no-op allowed here (the switch on, in a benchmark's database)?"""
    return tk.asbool(tk.config.get(BENCH_NOOP, False)) and \
        _database_name().startswith(BENCH_DB_PREFIX)


def check_bench_config() -> None:
    """Refuse (``CkanConfigurationException``) the no-op switch outside a benchmark database."""
    if tk.asbool(tk.config.get(BENCH_NOOP, False)) and not bench_noop_enabled():
        from ckan.exceptions import CkanConfigurationException
        raise CkanConfigurationException(
            f"{BENCH_NOOP} is only for bench/delivery.py: CKAN's database must be a benchmark "
            f"database ({BENCH_DB_PREFIX}...), not {_database_name()!r}")


# -- the route table and the catalog resources (cached per process) -----------------------------
@dataclasses.dataclass(frozen=True)
class Route:
    product: str                 # the product's catalog name (the URL's segment)
    scenario: str                # its key in the operation definitions
    title: str
    private: bool                # not listed to the public (the description leaves it out)
    operation: spec.Operation


class _Cache:
    """A value rebuilt at most every ``ttl`` seconds (at most every ``miss`` seconds on demand)."""

    def __init__(self, build: Callable[[], Any], ttl: float, miss: float) -> None:
        self._build, self._ttl, self._miss = build, ttl, miss
        self._lock = threading.Lock()
        self._value: Any = None
        self._at = float("-inf")

    def get(self, *, stale: bool = False) -> Any:
        age = time.monotonic() - self._at
        if self._value is None or age >= self._ttl or (stale and age >= self._miss):
            with self._lock:
                age = time.monotonic() - self._at
                if self._value is None or age >= self._ttl or (stale and age >= self._miss):
                    self._value, self._at = self._build(), time.monotonic()
        return self._value

    def clear(self) -> None:
        with self._lock:
            self._value, self._at = None, float("-inf")


def _build_routes() -> dict[str, dict[str, Route]]:
    pkg = model.package_table
    rows = model.Session.execute(
        sa.select(pkg.c.name, pkg.c.title, pkg.c.extras["scenario"].astext, pkg.c.private)
        .where(pkg.c.type == "product", pkg.c.state == "active")
        .order_by(pkg.c.title, pkg.c.name)).all()
    table: dict[str, dict[str, Route]] = {}
    for name, title, scenario, private in rows:
        key = (scenario or title or "").strip()
        ops = spec.PRODUCTS.get(key)
        if ops:
            table[name] = {op.name: Route(name, key, title or name, bool(private), op)
                           for op in ops}
    return table


_routes = _Cache(_build_routes, ttl=60.0, miss=1.0)
_resources = _Cache(catalog_link.resources, ttl=60.0, miss=60.0)


def routes() -> dict[str, dict[str, Route]]:
    """``{product catalog name: {operation name: Route}}`` of the catalog's products."""
    return _routes.get()


def route(product: str, operation: str) -> Route | None:
    """The route of a call path, or None. Names that cannot be a route cost no query; an
    unknown pair refreshes the table at most once a second."""
    if not (_NAME.match(product) and _NAME.match(operation)) or spec.get(operation) is None:
        return None
    found = _routes.get().get(product, {}).get(operation)
    if found is None:
        found = _routes.get(stale=True).get(product, {}).get(operation)
    return found


def forget_caches() -> None:
    """Drop the route table and the catalog resources (tests that change the catalog)."""
    _routes.clear()
    _resources.clear()


_redis_lock = threading.Lock()
_redis_clients: dict[str, redis.Redis] = {}


def _counters() -> redis.Redis:
    """The counters' Redis client, one per URL and process (building one per call costs
    more than the call's two Redis round trips)."""
    address = counters.url()
    found = _redis_clients.get(address)
    if found is None:
        with _redis_lock:
            found = _redis_clients.setdefault(address, counters.client(address))
    return found


def records_of(op: spec.Operation, result: Mapping[str, Any]) -> int:
    """Records of an answer (quotas counted by data volume, 按数据调用量): the cells of an
    aggregate answer, else one (an answer about one person)."""
    cells = result.get("cells")
    return max(1, len(cells)) if isinstance(cells, list) else 1


# -- one call ----------------------------------------------------------------------------------
class _Refused(Exception):
    def __init__(self, code: str, zh: str | None = None, en: str | None = None, *,
                 headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None,
                 status: int | None = None) -> None:
        default = ERRORS[code]
        self.code, self.status = code, status or default[0]
        self.zh, self.en = zh or default[1], en or default[2]
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})
        super().__init__(code)


@dataclasses.dataclass
class _Call:
    product: str
    operation: str
    at: dt.datetime
    started: float
    body: bytes = b""
    payload: Any = None          # the parsed input, once parsed
    parsed: bool = False
    info: clients.TokenInfo | None = None
    owner: Mapping[str, Any] | None = None   # a dead token's client (ledger of step 1)
    tx: call_store.CallTx = dataclasses.field(default_factory=call_store.CallTx)

    def latency_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000.0

    def hashed_input(self) -> str | None:
        if self.parsed:
            return ledger.input_hash(self.payload)
        if not self.body.strip():
            return None
        try:
            return ledger.input_hash(_parse(self.body))
        except _Refused:
            return ledger.input_hash(self.body)


def _parse(body: bytes) -> Any:
    """The JSON value of a body (``{}`` when empty) or ``invalid_request``."""
    if not body.strip():
        return {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Refused("invalid_request") from None
    if not isinstance(value, dict):
        raise _Refused("invalid_request")
    if find_problem(value) is not None:  # NUL, lone surrogates, nesting past 64
        raise _Refused("invalid_request", "请求体含有无法处理的字符（NUL、孤立代理项）或嵌套过深",
                       "The body holds characters that cannot be processed (NUL, lone "
                       "surrogates) or is nested too deep")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _read_body(request: Request) -> bytes:
    limit = max_body_bytes()
    length = request.content_length
    if length is not None and length > limit:
        raise _Refused("request_too_large", f"请求体不能超过 {limit} 字节",
                       f"The request body may be at most {limit} bytes")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise _Refused("request_too_large", f"请求体不能超过 {limit} 字节",
                       f"The request body may be at most {limit} bytes")
    return data


def _bearer(request: Request) -> str | None:
    match = _BEARER.match(request.headers.get("Authorization", "") or "")
    return match.group(1) if match else None


def handle(request: Request, product: str, operation: str) -> Response:
    """The answer to one call (see the module doc). ``request`` is Flask's or a plain
    werkzeug request (:mod:`.gateway_wsgi`, ahead of Flask)."""
    call = _Call(str(product)[:200], str(operation)[:200], clock.now_utc(), time.perf_counter())
    try:
        return _pipeline(request, call)
    except _Refused as refusal:
        call.tx.rollback()
        return _answer_refusal(call, refusal)
    except sa.exc.SQLAlchemyError:
        call.tx.rollback()
        _rollback()
        log.warning("delivery call %s: the portal's database failed", request_id(), exc_info=True)
        return _response(_Refused("temporarily_unavailable"))
    except Exception:
        call.tx.rollback()
        _rollback()
        log.exception("delivery call %s failed", request_id())
        return _answer_refusal(call, _Refused("server_error"))
    finally:
        call.tx.rollback()  # a no-op once the call's transaction has ended


def _pipeline(request: Request, call: _Call) -> Response:
    if request.method != "POST":
        raise _Refused("invalid_request", "只接受 POST 请求", "Only POST is accepted", status=405,
                       headers={"Allow": "POST"})
    found = route(call.product, call.operation)
    if found is None:
        raise _Refused("not_found")
    op = found.operation
    call.body = _read_body(request)
    resources = _resources.get()  # before the call's transaction: it may query
    # 1. the token (its transaction opened, the entitlement's shared lock taken)
    token = _bearer(request)
    row = call.tx.open(clients.token_hash(token)) if token and _TOKEN.match(token) else None
    info = call_store.token_info(row, call.at) if row is not None else None
    if info is None:
        if row is not None:  # issued once: expired, revoked, its client revoked
            call.owner = {k: row[k] for k in ("client_id", "merchant_id", "entitlement_id")}
        raise _Refused("invalid_token", headers={"WWW-Authenticate": _challenge()})
    call.info = info
    # 2. the entitlement: status, then period (Beijing days)
    today = call.at.astimezone(clock.local_tz()).date()
    if info.entitlement_status == "suspended":
        call.tx.rollback()
        zh, en = _suspension_text(info.entitlement_id)
        raise _Refused("suspended", zh, en)
    refusal = info.refusal(today)
    if refusal is not None:
        raise _Refused(refusal)
    # 3. product and operation within the token's entitlement and scope
    if not info.covers(call.product, op.name):
        raise _Refused("out_of_scope")
    # 4. the operation's reads within the approved data items
    try:
        engine.check_reads(op, info.data_items, resources=resources)
    except DataItemsExceeded as err:
        raise _Refused("data_items_exceeded", err.zh, err.en,
                       extra={"missing": list(err.missing)}) from None
    except OperationUnavailable as err:
        raise _Refused("temporarily_unavailable", err.zh, err.en) from None
    #    the input (before the quota: a bad input consumes none)
    call.payload, call.parsed = _parse(call.body), True
    try:
        typed = engine.validate_input(op, call.payload, today=today)
    except InvalidInput as err:
        raise _Refused("invalid_input", f"输入无效：{err.zh}", f"Invalid input: {err.en}",
                       extra={"errors": err.as_list()}) from None
    # 5. quota, 6. rate limit, then the operation
    return _granted(request, call, found, typed, today, resources)


def _granted(request: Request, call: _Call, found: Route, typed: Any, today: dt.date,
             resources: Mapping[str, Mapping[str, Any]]) -> Response:
    """Steps 5 and 6, the operation and the ledger row, in the call's transaction
    (:class:`.call_store.CallTx`, holding the entitlement's shared lock since step 1)."""
    info = call.info
    assert info is not None
    op = found.operation
    entitlement = {"id": info.entitlement_id, "quota": info.quota, "quota_unit": info.quota_unit}
    counts = _counters()
    try:  # 5. and 6. in one round trip to Redis
        grant, window = quota.take_held(entitlement, call.tx, redis_client=counts,
                                        client_id=info.client_id, rate=ratelimit.rule())
    except quota.QuotaExhausted as err:
        raise _quota_refusal(err) from None
    except quota.QuotaUnavailable:
        raise _Refused("temporarily_unavailable") from None
    except ratelimit.RateLimited as err:
        raise _Refused("rate_limited", headers={**err.window.headers(),
                                                "Retry-After": str(err.retry_after)}) from None
    try:
        noop = request.headers.get(BENCH_HEADER) == "1" and bench_noop_enabled()
        if noop:
            result: dict[str, Any] = {"noop": True}
            items: list[str] = []
        else:
            try:
                answer = engine.run(op, typed, today=today)
            except (sa.exc.SQLAlchemyError, OperationUnavailable, OSError):
                log.warning("delivery call %s: the data domain failed", request_id(),
                            exc_info=True)
                raise _Refused("temporarily_unavailable") from None
            result = answer.result
            items = _data_items(answer.fields_read, resources)
            if info.quota_unit == "record":
                grant.settle(records_of(op, result))
        body = {"request_id": request_id(), "product": found.product,
                "operation": op.name, "result": result, "usage": grant.usage()}
        text = json.dumps(body, ensure_ascii=False)
        row = ledger.row(request_id=request_id(), outcome="granted", product=found.product,
                         operation=op.name, merchant_id=info.merchant_id,
                         client_id=info.client_id, entitlement_id=info.entitlement_id,
                         units=grant.units, payload=call.payload, fields_read=items,
                         answer_bytes=len(text.encode("utf-8")), latency_ms=call.latency_ms(),
                         at=call.at)
    except BaseException as err:
        grant.release()
        call.tx.rollback()
        if isinstance(err, quota.QuotaExhausted):  # the answer's records pass the quota
            raise _quota_refusal(err) from None
        if isinstance(err, quota.QuotaUnavailable):
            raise _Refused("temporarily_unavailable") from None
        raise
    try:
        call.tx.commit_row(row)
    except sa.exc.DBAPIError as err:
        if getattr(err, "committed", None) is False:  # nothing committed: give the units back
            grant.release()
        raise  # 503 (handle); a commit that may have happened keeps its units counted
    headers = dict(NO_STORE)
    if window is not None:
        headers.update(window.headers())
    response = Response(text, status=200, content_type="application/json;charset=utf-8")
    return _finish(response, headers)


def _quota_refusal(err: quota.QuotaExhausted) -> _Refused:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after else {}
    usage = {"quota": err.quota, "used": err.used,
             "remaining": None if err.quota is None else max(0, err.quota - err.used)}
    return _Refused("quota_exhausted", headers=headers, extra={"usage": usage})


def _data_items(fields_read: tuple[str, ...], resources: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The data items (``"<resource name>:<中文字段名>"``) of the columns an answer read."""
    tables = tuple(sorted({column.partition(".")[0] for column in fields_read}))
    names = tuple((resources.get(t) or {}).get("name") for t in tables)
    return list(_items_of(tuple(fields_read), tuple(zip(tables, names, strict=True))))


@functools.lru_cache(maxsize=1024)
def _items_of(fields_read: tuple[str, ...],
              names: tuple[tuple[str, str | None], ...]) -> tuple[str, ...]:
    """:func:`_data_items` for columns read and the catalog names of their tables (an
    operation reads the same columns call after call: worked out once)."""
    by_table = dict(names)
    items = []
    for column in fields_read:
        table, _, name = column.partition(".")
        res_name = by_table.get(table)
        try:
            zh = sources.by_table(table).field(name).zh
        except KeyError:
            zh = name
        items.append(f"{res_name}:{zh}" if res_name else column)
    return tuple(sorted(set(items)))


def _finish(response: Response, headers: Mapping[str, str]) -> Response:
    for key, value in headers.items():
        response.headers[key] = value
    response.headers["X-Request-ID"] = request_id()
    if has_request_context():  # answered inside Flask: CKAN's after_request marks it private
        from flask import request
        request.environ["__no_cache__"] = True
    return response


# -- refusals ----------------------------------------------------------------------------------
def _challenge(description: str = ERRORS["invalid_token"][2]) -> str:
    return f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'


def _suspension_text(entitlement_id: str) -> tuple[str, str]:
    alerts = _alerts()
    if alerts is not None:
        try:
            found = alerts.suspension_of(entitlement_id)
        except Exception:
            log.exception("the suspension of %s could not be read", entitlement_id)
            found = None
        if found is not None:
            return found.message
    return ERRORS["suspended"][1], ERRORS["suspended"][2]


def _alerts() -> Any:
    """:mod:`.alerts` (over-scope supervision), or None where it is not installed."""
    try:
        from . import alerts
    except ModuleNotFoundError as err:
        if err.name != f"{__package__}.alerts":
            raise
        return None
    return alerts


def _raise_alert(call: _Call, code: str) -> None:
    """The alerts hook of a refusal 3-5 (and ``suspended``), in the ledger row's transaction."""
    if code not in ALERTED or call.info is None:
        return
    alerts = _alerts()
    if alerts is None:
        return
    alerts.on_refusal(call.info, code, call.at, operation=call.operation)


_NOT_A_CALL = ("not_found", "request_too_large")  # and 405: refused before the call is one


def _answer_refusal(call: _Call, refusal: _Refused) -> Response:
    if refusal.code not in _NOT_A_CALL and refusal.status != 405:
        try:
            _ledger_refusal(call, refusal)
        except Exception:
            _rollback()
            log.exception("delivery call %s: its refusal (%s) could not be ledgered",
                          request_id(), refusal.code)
            if refusal.code != "server_error":
                return _response(_Refused("temporarily_unavailable"))
    return _response(refusal)


def _ledger_refusal(call: _Call, refusal: _Refused) -> None:
    """The refused call's ledger row, the alerts hook in the same transaction, committed.
    Without a live token the row is written within the per-minute bound only."""
    info, owner = call.info, call.owner
    if info is None:
        key = str(owner["client_id"]) if owner else "anonymous"
        if not _may_ledger_unauthenticated(key):
            return
    who = ({"merchant_id": info.merchant_id, "client_id": info.client_id,
            "entitlement_id": info.entitlement_id} if info is not None else
           {k: owner[k] for k in ("merchant_id", "client_id", "entitlement_id")} if owner
           else {})
    ledger.record(request_id=request_id(), outcome="refused", error=refusal.code,
                  product=call.product, operation=call.operation,
                  hashed_input=call.hashed_input(), latency_ms=call.latency_ms(), at=call.at,
                  **who)
    _raise_alert(call, refusal.code)
    model.Session.commit()


def _response(refusal: _Refused) -> Response:
    body = {"error": refusal.code, "error_description": refusal.en,
            "message": {"zh": refusal.zh, "en": refusal.en}, "request_id": request_id(),
            **refusal.extra}
    return json_response(body, refusal.status, {**NO_STORE, **refusal.headers})


def _minute() -> int:
    return int(time.time() // 60)


def _may_ledger_unauthenticated(key: str) -> bool:
    """Under the per-minute bound of step-1 refusals ledgered for ``key``?"""
    limit = _unauth_per_minute()
    if limit <= 0:
        return False
    name = f"{_UNAUTH_KEY}{key}:{_minute()}"
    try:
        pipe = _counters().pipeline(transaction=False)
        pipe.incr(name)
        pipe.expire(name, 120)
        count = int(pipe.execute()[0])
    except counters.CounterError:
        return False
    if count == limit + 1:
        log.warning("more than %s unauthenticated delivery calls this minute for %s: the "
                    "rest of the minute is counted in Redis (%s), not ledgered", limit, key, name)
    return count <= limit


def _rollback() -> None:
    from ..common.session import rollback
    rollback()
