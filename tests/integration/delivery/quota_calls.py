"""Helpers of the quota, rate-limit and ledger tests (no fixtures here; ``own_redis`` is in
conftest.py): entitlement rows written directly, one simulated gateway call (reserve, ledger
row, commit), a private Redis server that a test may stop and start again."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
import sqlalchemy as sa
from ckan import model

from ckanext.sanyi.applications.model import application_table, entitlement_table, merchant_table
from ckanext.sanyi.delivery import ledger, quota
from ckanext.sanyi.delivery.model import ledger_table


def merchant(user_id: str | None = None) -> dict[str, Any]:
    """A committed verified merchant row for ``user_id`` (a user id; default: none such)."""
    n = uuid.uuid4().int % 10**6
    row = {"id": str(uuid.uuid4()), "user_id": user_id or str(uuid.uuid4()),
           "company_name": f"健康保险科技有限公司{n}", "credit_code": f"9142{uuid.uuid4().hex[:14]}",
           "contact_name": "张三", "contact_phone": "0724-1234567", "contact_email": "",
           "enterprise_size": "small", "status": "verified", "verify_comment": ""}
    model.Session.execute(merchant_table.insert().values(**row))
    model.Session.commit()
    return row


def entitlement(quota_: int = 500, unit: str = "call", merchant_id: str | None = None,
                **extra: Any) -> dict[str, Any]:
    """A committed active entitlement row, with the application row it needs (written
    directly, not through the application flow)."""
    merchant_id = merchant_id or merchant()["id"]
    period = {"period_start": dt.date(2026, 1, 1), "period_end": dt.date(2026, 12, 31)}
    app = {"id": str(uuid.uuid4()), "merchant_id": merchant_id, "applicant_id": "tester",
           "product_id": str(uuid.uuid4()), "product_name": "smart-underwriting",
           "scenario": "智慧核保", "use": "industrial", "purpose": "核保",
           "data_items": ["hypertension:患者编号"], "expected_volume": max(1, quota_),
           "billing_unit": unit, "quantity": max(1, quota_), "status": "active",
           "required_units": [], "unit_decisions": {}, **period}
    model.Session.execute(application_table.insert().values(**app))
    row = {"id": str(uuid.uuid4()), "application_id": app["id"], "merchant_id": merchant_id,
           "product_id": app["product_id"], "product_name": app["product_name"],
           "purpose": app["purpose"], "use": app["use"], "data_items": app["data_items"],
           "quota": quota_, "quota_unit": unit, "status": "active", **period}
    row.update(extra)
    model.Session.execute(entitlement_table.insert().values(**row))
    model.Session.commit()
    return row


def call(ent: dict[str, Any], n: int, *, hold: float = 0.0,
         redis_client: redis.Redis | None = None) -> str:
    """One gateway call as the gateway makes it, in the thread's own session: reserve, (hold
    the reservation ``hold`` seconds, as an operation would), write the ledger row, commit.
    Returns ``granted``, ``quota_exhausted`` or ``temporarily_unavailable``."""
    common = {"request_id": f"req-{n}", "merchant_id": ent["merchant_id"],
              "client_id": "sanyi_test_client", "entitlement_id": ent["id"],
              "product": ent["product_name"], "operation": "risk-assessment",
              "payload": {"id_number": "420802195803124021", "n": n}}
    try:
        try:
            with quota.reserve(ent, redis_client=redis_client) as grant:
                if hold:
                    time.sleep(hold)
                ledger.record(outcome="granted", units=grant.units,
                              fields_read=["hypertension:患者编号"], answer_bytes=120,
                              latency_ms=1.5, **common)
            model.Session.commit()
            return "granted"
        except (quota.QuotaExhausted, quota.QuotaUnavailable) as err:
            ledger.record(outcome="refused", error=err.code, **common)
            model.Session.commit()
            return err.code
    except BaseException:
        model.Session.rollback()
        raise


def ledger_counts(entitlement_id: str) -> dict[str, int]:
    """``{outcome or error code: rows}`` of an entitlement's ledger rows."""
    t = ledger_table
    rows = model.Session.execute(
        sa.select(sa.func.coalesce(t.c.error, t.c.outcome), sa.func.count())
        .where(t.c.entitlement_id == entitlement_id)
        .group_by(sa.func.coalesce(t.c.error, t.c.outcome))).all()
    model.Session.commit()
    return {key: int(n) for key, n in rows}


@dataclass
class OwnRedis:
    """A redis-server of the test's own, on a free port, with its data in ``directory``."""

    port: int
    directory: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                        "--save", "", "--appendonly", "no", "--dir", self.directory,
                        "--dbfilename", "dump.rdb", "--daemonize", "yes",
                        "--pidfile", os.path.join(self.directory, "redis.pid"),
                        "--logfile", os.path.join(self.directory, "redis.log")], check=True)
        probe = redis.Redis(port=self.port, socket_timeout=0.2)
        for _ in range(100):
            try:
                if probe.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("own redis-server did not start")

    def stop(self) -> None:
        """Stop at once, without saving (as a crash would)."""
        try:
            redis.Redis(port=self.port, socket_timeout=1).shutdown(nosave=True)
        except redis.ConnectionError:
            pass  # the server closes the connection as it exits
        for _ in range(100):
            try:
                redis.Redis(port=self.port, socket_timeout=0.2).ping()
                time.sleep(0.02)
            except redis.ConnectionError:
                return

    def run_id(self) -> str:
        return redis.Redis(port=self.port).info("server")["run_id"]

