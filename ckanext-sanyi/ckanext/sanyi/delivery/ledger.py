"""The data-flow ledger (数据流转台账): one row per gateway call, granted or refused.

Each row (``sanyi_ledger``, :mod:`.model`) names when (``at``, UTC), the request, the
merchant, the API client (its public ``client_id``), the entitlement, the product and
operation, the outcome (``granted`` / ``refused``) with the refusal's error code, the quota
``units`` a granted call consumed (:mod:`.quota` rebuilds its counts from them), an HMAC of
the input, the data items read (``fields_read``) and the catalog resources they belong to
(``resources``, the part of each item before ``:``, so a data unit's rows are found by an
index), the size of the answer and the call's latency.

* **Never the raw input:** ``input_hash`` is HMAC-SHA256, keyed with
  ``ckanext.sanyi.ledger.hash_key`` (else derived from CKAN's ``SECRET_KEY``), of the input's
  canonical JSON (keys sorted, no spaces, UTF-8). An identity number has too few values for
  a plain digest to hide it; without the key the HMAC cannot be recomputed, with it the same
  input gives the same hash, so a supervisor holding an input can find its calls.
* **Append-only:** a trigger refuses UPDATE, and DELETE of any row younger than three years
  (the legal minimum, kept by the database whatever the configuration says).
  :func:`purge` deletes what is older than ``ckanext.sanyi.ledger.retention_years``
  (default 3; a value under 3 stops CKAN at startup, :mod:`.validators`).
* **Chaining:** ``seq``, ``prev_hash`` and ``row_hash`` are never given here: the database
  assigns them in the inserting transaction, whoever inserts (:func:`record` in CKAN's
  session, the gateway's granted calls in their own transaction, :mod:`.call_store`; a
  trigger of migration ``0010_hash_chains``, rules in :mod:`ckanext.sanyi.domain.chain`).
  The log's head row stays locked until that transaction ends, so keep the insert late in
  it. :func:`purge` removes rows one by one and leaves the chain without a recorded start
  (``ckan sanyi audit verify`` reports the gap); ``ckan sanyi audit archive`` removes whole
  months after writing them to a signed file (:mod:`ckanext.sanyi.supervision.checkpoints`).

A granted call's row must be written in the transaction that holds its quota reservation
(:func:`.quota.reserve`), CKAN's ``model.Session`` by default.
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from .model import OUTCOMES
from .model import ledger_table as t

__all__ = ["record", "row", "input_hash", "resources_of", "granted_units", "retention_years",
           "purge", "MIN_RETENTION_YEARS", "OUTCOMES"]

MIN_RETENTION_YEARS = 3
_KEY_LABEL = b"sanyi-ledger-input-hash"
_insert = t.insert().returning(t.c.id)


def _hash_key() -> bytes:
    configured = str(tk.config.get("ckanext.sanyi.ledger.hash_key", "") or "")
    if configured:
        return configured.encode("utf-8")
    secret = str(tk.config.get("SECRET_KEY", "") or tk.config.get("beaker.session.secret", "")
                 or "")
    if not secret:
        raise RuntimeError("ckanext.sanyi.ledger.hash_key (or SECRET_KEY) must be set")
    return _derived_key(secret)


@functools.lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    """The key derived from CKAN's secret (once per secret and process: every call hashes)."""
    return hmac.new(secret.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def canonical(payload: Any) -> bytes:
    """The canonical JSON of an input: keys sorted, no whitespace, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8", "surrogatepass")


def input_hash(payload: Any) -> str:
    """HMAC-SHA256 (hex) of the input: its canonical JSON, or the raw body when ``payload``
    is ``bytes`` (a body that was not JSON)."""
    body = payload if isinstance(payload, bytes) else canonical(payload)
    return hmac.new(_hash_key(), body, hashlib.sha256).hexdigest()


def resources_of(fields_read: Iterable[str]) -> list[str]:
    """The catalog resources (package names) of data items ``"<resource>:<field>"``."""
    return sorted({str(item).split(":", 1)[0] for item in fields_read if item})


def row(*, request_id: str, outcome: str, product: str = "", operation: str = "",
        merchant_id: str | None = None, client_id: str | None = None,
        entitlement_id: str | None = None, error: str | None = None, units: int = 0,
        payload: Any = None, hashed_input: str | None = None,
        fields_read: Iterable[str] = (), answer_bytes: int = 0, latency_ms: float = 0.0,
        at: dt.datetime | None = None) -> dict[str, Any]:
    """The column values of one row (see :func:`record`, which inserts them); ``at`` is left
    out when None (the database's clock)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}: {outcome!r}")
    if (outcome == "refused") != bool(error):
        raise ValueError("a refused call has an error code, a granted one none")
    items = [str(item) for item in fields_read]
    values: dict[str, Any] = {
        "request_id": request_id, "merchant_id": merchant_id, "client_id": client_id,
        "entitlement_id": entitlement_id, "product": product or "", "operation": operation or "",
        "outcome": outcome, "error": error or None,
        "units": int(units) if outcome == "granted" else 0,
        "input_hash": hashed_input if hashed_input is not None
        else (None if payload is None else input_hash(payload)),
        "fields_read": items, "resources": resources_of(items),
        "answer_bytes": max(0, int(answer_bytes)),
        "latency_ms": Decimal(f"{max(0.0, float(latency_ms)):.3f}")}
    if at is not None:
        values["at"] = at
    return values


def record(*, session: Any = None, **fields: Any) -> int:
    """Append one row in ``session``'s transaction (not committed); returns its id.

    ``fields`` are :func:`row`'s: ``payload`` is the call's input (hashed by
    :func:`input_hash`, never stored); ``hashed_input`` passes a hash already computed. A
    refused call has an ``error`` code and no units; a granted one no error. ``at`` defaults
    to the database's clock.
    """
    values = row(**fields)
    session = session if session is not None else model.Session
    return int(session.execute(_insert, values).scalar_one())


def granted_units(entitlement_id: str, *, session: Any = None) -> int:
    """Quota units consumed by the entitlement's granted calls (committed ones)."""
    session = session if session is not None else model.Session
    stmt = (sa.select(sa.func.coalesce(sa.func.sum(t.c.units), 0))
            .where(t.c.entitlement_id == entitlement_id, t.c.outcome == "granted"))
    return int(session.execute(stmt).scalar_one())


def retention_years() -> int:
    """``ckanext.sanyi.ledger.retention_years`` (never under the legal three)."""
    return max(MIN_RETENTION_YEARS,
               int(tk.config.get("ckanext.sanyi.ledger.retention_years") or MIN_RETENTION_YEARS))


def purge(*, now: dt.datetime | None = None, session: Any = None) -> int:
    """Delete the rows older than the retention period; returns how many (not committed)."""
    from ..common import clock

    now = now or clock.now_utc()
    years = retention_years()
    try:
        cutoff = now.replace(year=now.year - years)
    except ValueError:  # 29 February
        cutoff = now.replace(year=now.year - years, day=28)
    session = session if session is not None else model.Session
    return int(session.execute(t.delete().where(t.c.at < cutoff)).rowcount or 0)
