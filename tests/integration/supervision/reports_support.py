"""The known world of the report tests (no tests here).

``report_world`` (through ``sanyi_db.layer``, on the application tests' ``world``): a user
with no role; an active free entitlement of merchant_user (个人健康画像与风险预警) and an
active paid one of merchant_two (慢病线上开处方, 15,000 calls at 0.30 yuan = 450,000 fen, paid
by bank transfer); a rejected application; ledger rows on known Beijing times of the
current quarter ``Q`` (the quarter of today in Beijing) and two just before it; one open
over-scope alert. The report tests read the quarter ``Q``; submitting needs it ended, so
those tests freeze the clock at ``AFTER`` (two days after Q's last day).

Calls in Q (Beijing):  Q.first 00:05  granted × 4  merchant_user  (hypertension)
                       Q.first 12:00  granted × 3  merchant_two   (hypertension, insured)
                       Q.first 12:00  refused out_of_scope × 2  merchant_two
Before Q:              Q.first − 1 day 23:55  granted × 5 merchant_user (the last quarter)
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from applications_support import TODAY, call_as, to_status
from ckan import model
from ckan.tests import factories
from sqlalchemy import text

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import alerts, ledger
from ckanext.sanyi.domain.report_periods import quarter_of

Q = quarter_of(TODAY)
BJ = clock.local_tz()
AFTER = dt.datetime.combine(Q.last + dt.timedelta(days=2), dt.time(10, 0), BJ)
LOGIN_PASSWORD = "Sanyi-test-2026"
COUNTS = {"granted_mine": 4, "granted_theirs": 3, "refused_theirs": 2, "before": 5}


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BJ).astimezone(dt.timezone.utc)


def call(ent: dict[str, Any], outcome: str, when: dt.datetime, fields: list[str],
         error: str | None = None) -> None:
    ledger.record(request_id=f"req-{uuid.uuid4().hex[:12]}", outcome=outcome, error=error,
                  units=1 if outcome == "granted" else 0, product=ent["product_name"],
                  operation="risk-assessment", merchant_id=ent["merchant_id"],
                  client_id="sanyi_test_client", entitlement_id=ent["id"],
                  fields_read=fields if outcome == "granted" else [], answer_bytes=10,
                  latency_ms=1.0, at=when)


def build_report_world(world: dict[str, Any]) -> dict[str, Any]:
    factories.User(name="no_role")
    mine = to_status("active", free=True)
    theirs = to_status("active", user="merchant_two")
    to_status("rejected")
    first = Q.first
    for _ in range(COUNTS["granted_mine"]):
        call(mine["entitlement"], "granted", at(first, 0, 5), ["hypertension:随访日期"])
    for _ in range(COUNTS["granted_theirs"]):
        call(theirs["entitlement"], "granted", at(first, 12),
             ["hypertension:患者编号", "insured:参保状态"])
    for _ in range(COUNTS["refused_theirs"]):
        call(theirs["entitlement"], "refused", at(first, 12), [], error="out_of_scope")
        alerts.on_refusal({"entitlement_id": theirs["entitlement"]["id"]}, "out_of_scope",
                          at(first, 12), operation="risk-assessment")
    for _ in range(COUNTS["before"]):
        call(mine["entitlement"], "granted", at(first - dt.timedelta(days=1), 23, 55),
             ["hypertension:随访日期"])
    for user in model.Session.query(model.User).filter(model.User.state == "active"):
        user.password = LOGIN_PASSWORD
        user.last_active = dt.datetime.utcnow()  # no write by CKAN on the first page view
    model.Session.commit()
    return dict(world, mine=mine, theirs=theirs)


def layer(world: dict[str, Any], sanyi_db: Any, request: Any) -> dict[str, Any]:
    """The body of each test module's ``report_world`` fixture (built once per module)."""
    return sanyi_db.layer(request, lambda: build_report_world(world))


def csrf_token(app: Any, url: str = "/user/login") -> str:
    page = app.get(url).get_data(as_text=True)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def sign_in(app: Any, name: str) -> None:
    """Log ``app``'s client in as ``name`` through the login form (the session cookie),
    writing nothing (the world set every password)."""
    app.client.delete_cookie("ckan", domain="127.0.0.1")
    res = app.post("/user/login", data={"login": name, "password": LOGIN_PASSWORD,
                                        "_csrf_token": csrf_token(app)}, follow_redirects=False)
    assert res.status_code == 302, f"login of {name} failed: {res.status_code}"


def sign_out(app: Any) -> None:
    app.client.delete_cookie("ckan", domain="127.0.0.1")


def ledger_totals(start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    """Straight from the ledger: granted, refused, units in ``[start, end)``."""
    model.Session.rollback()
    row = model.Session.execute(text(
        "SELECT count(*) FILTER (WHERE outcome = 'granted'), "
        "count(*) FILTER (WHERE outcome = 'refused'), coalesce(sum(units), 0) "
        "FROM sanyi_ledger WHERE at >= :s AND at < :e"), {"s": start, "e": end}).one()
    return {"granted": int(row[0]), "refused": int(row[1]), "units": int(row[2])}


def paid_fen(start: dt.datetime, end: dt.datetime) -> int:
    model.Session.rollback()
    return int(model.Session.execute(text(
        "SELECT coalesce(sum(amount_fen), 0) FROM sanyi_order WHERE status = 'paid' "
        "AND paid_at >= :s AND paid_at < :e"), {"s": start, "e": end}).scalar())


def table(figures: dict[str, Any], tid: str) -> dict[str, Any]:
    return next(t for t in figures["tables"] if t["id"] == tid)


__all__ = ["Q", "AFTER", "COUNTS", "TODAY", "layer", "sign_in", "sign_out",
           "csrf_token", "call", "at", "call_as", "ledger_totals", "paid_fen", "table"]
