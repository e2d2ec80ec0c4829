"""The known world of the supervision view's tests (no tests here; each test module
builds its world through ``sanyi_db.layer`` in a fixture of its own).

``build_view_world`` (on the application tests' ``world``): a user with no role and a second bureau editor (``bureau_two``); entitlements
active (merchant_user, 个人健康画像与风险预警), suspended (merchant_two, same product) and
expired (a third free application whose period was moved into the past, then expired by
the daily job); applications waiting at the data units (慢病线上开处方, submitted) and at
the bureau (a free one the unit approved); ledger rows on known Beijing days; one open
over-scope alert; a revenue cap for this year at 85 % (warning) and last year's at 110 %
(exceeded); two overdue catalog resources (市医保局, 市药监局); two filed products, one
filed by the operator and one last changed by ``bureau_user``.

The calls (Beijing days, D = today - 2):
    D   10:00  granted × 3 (health-profile, reading hypertension)    → D
    D   23:30  refused out_of_scope × 2, quota_exhausted × 1          → D
    D+1 00:30  granted × 2 (chronic-refill, reading insured)          → D+1 (UTC: D)
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from applications_support import TODAY, call_as, system, to_status
from ckan import model
from ckan.tests import factories
from sqlalchemy import text

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import alerts, ledger

D = TODAY - dt.timedelta(days=2)
LOGIN_PASSWORD = "Sanyi-test-2026"


def csrf_token(app: Any, url: str = "/user/login") -> str:
    """The CSRF token the page at ``url`` hands the current session."""
    page = app.get(url).get_data(as_text=True)
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)
BJ = clock.local_tz()


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A Beijing wall-clock time as aware UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BJ) \
        .astimezone(dt.timezone.utc)


def _call(ent: dict[str, Any], outcome: str, when: dt.datetime, *, error: str | None = None,
          product: str | None = None, fields: list[str] | None = None) -> None:
    ledger.record(request_id=f"req-{uuid.uuid4().hex[:12]}", outcome=outcome, error=error,
                  units=1 if outcome == "granted" else 0,
                  product=product or ent["product_name"], operation="risk-assessment",
                  merchant_id=ent["merchant_id"], client_id="sanyi_test_client",
                  entitlement_id=ent["id"], fields_read=fields or [], answer_bytes=10,
                  latency_ms=1.0, at=when)


def _resource(user: str, org: str, name: str, title: str, days_ago: int) -> None:
    call_as(user, "package_create", name=name, title=title, owner_org=org, domain="health",
            delivery_methods=["api"], update_cycle="monthly", grade_level="L2",
            open_attribute="authorized",
            last_updated=(TODAY - dt.timedelta(days=days_ago)).isoformat())


def _product(name: str, title: str, status: str = "filed") -> dict[str, Any]:
    return call_as("operator_user", "package_create", type="product", name=name, title=title,
                   owner_org="san-yi-yun-ying", category="industrial", scenario=title,
                   product_forms=["api"], supplying_units=["shi-wei-jian-wei"],
                   source_resources=["hypertension"], status=status)


def make_products() -> dict[str, Any]:
    """Two filed products: ``by_operator`` (filed by operator_user) and ``by_bureau`` (its
    content last changed by bureau_user, who therefore cannot approve it)."""
    factories.User(name="bureau_two")
    model.Session.commit()
    call_as("sysadmin", "organization_member_create", id="shi-shu-ju-ju", username="bureau_two",
            role="editor")
    by_operator = _product("filed-underwriting", "智慧核保（待审）")
    by_bureau = _product("filed-claims", "理赔调查（待审）")
    by_bureau = call_as("bureau_user", "package_patch", id=by_bureau["id"],
                        title="理赔调查（数据局修改）")
    return {"by_operator": by_operator, "by_bureau": by_bureau}


def ready_to_sign_in() -> None:
    """Every user's password set to the tests' and ``last_active`` to now, so that
    :func:`sign_in` and the requests after it write nothing (within CKAN's 10 minutes of
    ``ckan.user.last_active_interval``) and the world is reused by the next test."""
    for user in model.Session.query(model.User).all():
        user.password = LOGIN_PASSWORD
        user.last_active = dt.datetime.utcnow()
    model.Session.commit()


def sign_in(app: Any, name: str | None) -> None:
    """Log ``app``'s client in as ``name`` (None: out) by the login form, writing nothing."""
    app.client.delete_cookie("ckan", domain="127.0.0.1")
    if name is None:
        return
    res = app.post("/user/login", data={"login": name, "password": LOGIN_PASSWORD,
                                        "_csrf_token": csrf_token(app)}, follow_redirects=False)
    assert res.status_code == 302, f"login of {name} failed: {res.status_code}"


def build_view_world(world: dict[str, Any]) -> dict[str, Any]:
    factories.User(name="no_role")
    active = to_status("active", free=True)
    suspended = to_status("active", free=True, user="merchant_two")
    call_as("bureau_user", "sanyi_entitlement_suspend", id=suspended["entitlement"]["id"],
            reason="超范围调用核查")
    expired = to_status("active", free=True)
    model.Session.execute(text(
        "UPDATE sanyi_entitlement SET period_start = :s, period_end = :e WHERE id = :i"),
        {"s": TODAY - dt.timedelta(days=60), "e": TODAY - dt.timedelta(days=5),
         "i": expired["entitlement"]["id"]})
    model.Session.execute(text(
        "UPDATE sanyi_application SET period_start = :s, period_end = :e WHERE id = :i"),
        {"s": TODAY - dt.timedelta(days=60), "e": TODAY - dt.timedelta(days=5),
         "i": expired["id"]})
    model.Session.commit()
    from ckanext.sanyi.applications import lifecycle
    assert lifecycle.expire_due(TODAY, "sysadmin") == [expired["entitlement"]["id"]]
    unit_wait = to_status("unit_review")
    bureau_wait = to_status("bureau_review", free=True)
    ent = active["entitlement"]
    for _ in range(3):
        _call(ent, "granted", at(D, 10), fields=["hypertension:随访日期"])
    for code in ("out_of_scope", "out_of_scope", "quota_exhausted"):
        _call(ent, "refused", at(D, 23, 30), error=code)
    for _ in range(2):
        _call(ent, "granted", at(D + dt.timedelta(days=1), 0, 30), product="chronic-refill",
              fields=["insured:参保状态"])
    model.Session.commit()
    alerts.on_refusal({"entitlement_id": ent["id"]}, "out_of_scope", at(D, 23, 30),
                      operation="risk-assessment")
    model.Session.commit()
    year = TODAY.year
    for period, billed in ((year, 85_000), (year - 1, 110_000)):
        system("sanyi_revenue_cap_set", period=str(period), allowed_cost_fen=60_000,
               allowed_profit_fen=30_000, tax_fen=10_000)
        system("sanyi_revenue_billed_set", period=str(period), billed_fen=billed)
    _resource("yb_editor", "shi-yi-bao-ju", "claims-old", "医保结算清单（逾期）", 100)
    _resource("yj_editor", "shi-yao-jian-ju", "drugs-old", "药品不良反应（逾期）", 50)
    products = make_products()
    ready_to_sign_in()
    return dict(world, active=active, suspended=suspended, expired=expired,
                unit_wait=unit_wait, bureau_wait=bureau_wait, **products)


def build_queue_world(sanyi_orgs: dict[str, Any]) -> dict[str, Any]:
    """sanyi_orgs + a sysadmin, a no-role user, a published resource of 市卫健委 and the two
    filed products of :func:`make_products` (a small world: the queue's tests write)."""
    factories.Sysadmin(name="sysadmin")
    factories.User(name="no_role")
    call_as("wj_editor", "package_create", name="hypertension", title="高血压患者健康管理数据",
            owner_org="shi-wei-jian-wei", domain="health", delivery_methods=["api"],
            update_cycle="monthly", grade_level="L3", open_attribute="authorized",
            last_updated=TODAY.isoformat())
    products = make_products()
    ready_to_sign_in()
    return dict(sanyi_orgs, **products)


def status_of(product_id: str) -> tuple[str, bool]:
    model.Session.rollback()
    pkg = model.Package.get(product_id)
    return pkg.extras.get("status"), bool(pkg.private)


def audit_rows(product_id: str) -> list[tuple[str, str, Any]]:
    model.Session.rollback()
    return [tuple(r) for r in model.Session.execute(text(
        "SELECT actor, action, after FROM sanyi_audit WHERE object_type = 'product' "
        "AND object_id = :i ORDER BY id"), {"i": product_id})]


__all__ = ["build_view_world", "build_queue_world", "D", "at", "status_of", "audit_rows", "TODAY",
           "sign_in", "csrf_token"]
