"""Helpers of the supervision, billing and usage-page tests (no fixtures here; ``sup_world``
is in conftest.py). ``refuse`` records a refused call as the gateway does (its ledger row,
then :func:`alerts.on_refusal`, committed together), ``grant`` granted ones; the others read
back what they left (statuses, open alerts, audit actions, notifications).
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from ckan import model
from sqlalchemy import text

from ckanext.sanyi.delivery import alerts, ledger

T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)  # 10:00 Beijing time


def refuse(ent: dict[str, Any], code: str, at: dt.datetime | None = None,
           operation: str = "risk-assessment") -> alerts.Reaction | None:
    """One refused call of ``ent`` (an entitlement dict) as the gateway records it."""
    ledger.record(request_id=f"req-{uuid.uuid4().hex[:12]}", outcome="refused", error=code,
                  product=ent["product_name"], operation=operation,
                  merchant_id=ent["merchant_id"], client_id="sanyi_test_client",
                  entitlement_id=ent["id"], at=at)
    reaction = alerts.on_refusal({"entitlement_id": ent["id"]}, code, at, operation=operation)
    model.Session.commit()
    return reaction


def grant(ent: dict[str, Any], at: dt.datetime | None = None, n: int = 1) -> None:
    """``n`` granted calls of ``ent`` at ``at`` (one unit each), committed."""
    for _ in range(n):
        ledger.record(request_id=f"req-{uuid.uuid4().hex[:12]}", outcome="granted", units=1,
                      product=ent["product_name"], operation="risk-assessment",
                      merchant_id=ent["merchant_id"], client_id="sanyi_test_client",
                      entitlement_id=ent["id"], fields_read=["hypertension:患者编号"],
                      answer_bytes=100, latency_ms=1.0, at=at)
    model.Session.commit()


def status_of(ent_id: str) -> tuple[str, str]:
    """(entitlement status, its application's status), as committed."""
    model.Session.rollback()
    return tuple(model.Session.execute(text(
        "SELECT e.status, a.status FROM sanyi_entitlement e JOIN sanyi_application a "
        "ON a.id = e.application_id WHERE e.id = :i"), {"i": ent_id}).one())


def open_alerts(ent_id: str) -> dict[str, int]:
    """``{kind: count}`` of the entitlement's open alerts."""
    model.Session.rollback()
    rows = model.Session.execute(text(
        "SELECT kind, count FROM sanyi_alert WHERE entitlement_id = :i AND status = 'open'"),
        {"i": ent_id}).all()
    return {k: int(n) for k, n in rows}


def audit_actions(object_id: str) -> list[str]:
    model.Session.rollback()
    return [r[0] for r in model.Session.execute(text(
        "SELECT action FROM sanyi_audit WHERE object_id = :i ORDER BY id"), {"i": object_id})]


def notices(user_name: str) -> list[str]:
    model.Session.rollback()
    return [r[0] for r in model.Session.execute(text(
        "SELECT n.subject_zh FROM sanyi_notification n JOIN \"user\" u ON u.id = n.user_id "
        "WHERE u.name = :u ORDER BY n.id"), {"u": user_name})]

