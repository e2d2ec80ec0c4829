"""Demo API clients (called at the end of ``ckan sanyi load-demo``, after the catalog, the
products, the accounts and the prices).

The demo merchant 健康保险科技有限公司 (account ``merchant``) is registered and verified by the
bureau; it applies for 智慧核保 for industrial use twice — 15,000 calls and 5 calls — and each
application goes through the real actions: submitted, approved by every data unit it draws
on and by the bureau, its order paid by bank transfer recorded by the operator. Each active
entitlement gets one demo client whose ``client_id`` and secret are fixed
(:data:`DEMO_CLIENTS`), so that the README can name them.

THE DEMO SECRETS ARE PUBLIC: a production portal never runs load-demo, or revokes the demo
clients (``sanyi_client_revoke``) before it opens. They are printed only with
``ckanext.sanyi.demo_passwords`` (as the demo passwords are).

Idempotent: every step looks at what is there first (a profile already verified, an
application already active, a client already created is left as it is), so running
load-demo again changes nothing.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..applications import access
from ..applications.model import application_table as at
from ..common import clock
from ..domain.credit_code import compute_check_char
from ..pricing.demo import demo_product_name
from . import clients

__all__ = ["DEMO_CLIENTS", "DEMO_MERCHANT", "load_demo_clients"]

MERCHANT_USER = "merchant"
PRODUCT_SCENARIO = "智慧核保(核保调查)"
_CREDIT_BODY = "91420800MA49DEM01"
DEMO_MERCHANT = {
    "company_name": "健康保险科技有限公司", "credit_code": _CREDIT_BODY + compute_check_char(_CREDIT_BODY),
    "contact_name": "王经理", "contact_phone": "0724-2345678",
    "contact_email": "merchant@sanyi.example.cn", "enterprise_size": "small"}
# (client_id, secret, quota in calls, scenario of its application) — DEMO ONLY: PUBLIC SECRETS
DEMO_CLIENTS = [
    ("demo-underwriting", "Sanyi-demo-underwriting-2026-REMOVE-IN-PRODUCTION", 15_000,
     "健康险智能核保（演示：重疾险、医疗险核保风控）"),
    ("demo-trial", "Sanyi-demo-trial-2026-REMOVE-IN-PRODUCTION", 5,
     "智能核保接口试用（演示：额度 5 次）"),
]


def _as(user: str, action: str, **data: Any) -> Any:
    return tk.get_action(action)({"user": user}, data)


def _merchant(bureau: str) -> dict[str, Any]:
    row = access.merchant_for(MERCHANT_USER)
    if row is None:
        _as(MERCHANT_USER, "sanyi_merchant_register", **DEMO_MERCHANT)
        row = access.merchant_for(MERCHANT_USER)
    if row["status"] != "verified":
        _as(bureau, "sanyi_merchant_verify", id=row["id"], decision="approve")
        row = access.merchant_for(MERCHANT_USER)
    return row


def _application(merchant: dict[str, Any], product: str, scenario: str) -> str | None:
    """The demo application of that scenario that is not dead (draft to active), if any."""
    found = model.Session.execute(
        sa.select(at.c.id).where(at.c.merchant_id == merchant["id"], at.c.product_name == product,
                                 at.c.scenario == scenario,
                                 at.c.status.notin_(("withdrawn", "rejected", "revoked",
                                                     "expired")))
        .order_by(at.c.created)).scalar()
    return str(found) if found else None


def _unit_reviewer(unit: str) -> str | None:
    for user_id in access.unit_user_ids([unit]):
        user = model.Session.get(model.User, user_id)
        if user is not None and user.state == "active":
            return user.name
    return None


def _drive(app_id: str, bureau: str, operator: str, today: dt.date) -> dict[str, Any]:
    """Take the application to ``active`` through the actions (from wherever it is)."""
    app = _as(MERCHANT_USER, "sanyi_application_show", id=app_id)
    if app["status"] in ("draft", "returned"):
        app = _as(MERCHANT_USER, "sanyi_application_submit", id=app_id)
    while app["status"] == "unit_review":
        pending = [u["name"] for u in app["required_units"] if u["name"] not in app["unit_decisions"]]
        reviewer = _unit_reviewer(pending[0])
        if reviewer is None:
            raise RuntimeError(f"no editor of {pending[0]} to review the demo application")
        app = _as(reviewer, "sanyi_application_review", id=app_id, unit=pending[0],
                  decision="approve", comment="同意（演示）")
    if app["status"] == "bureau_review":
        app = _as(bureau, "sanyi_application_review", id=app_id, decision="approve",
                  comment="同意（演示）")
    if app["status"] == "awaiting_payment":
        _as(operator, "sanyi_order_record_bank_transfer", id=app["order_id"],
            reference=f"DEMO-{app_id[:8]}", amount_fen=app["quote"]["amount_fen"],
            received_on=today.isoformat())
        app = _as(MERCHANT_USER, "sanyi_application_show", id=app_id)
    return app


def _apply(product: str, scenario: str, calls: int, today: dt.date) -> str:
    options = _as(MERCHANT_USER, "sanyi_application_data_items", product=product)
    app = _as(MERCHANT_USER, "sanyi_application_create", product=product, scenario=scenario,
              use="industrial", purpose="健康险投保人的智能核保与风险评估（演示）",
              data_items=[o["value"] for o in options["data_items"]],
              period_start=today.isoformat(),
              period_end=(today + dt.timedelta(days=364)).isoformat(),
              expected_volume=calls, billing_unit="call", quantity=calls)
    return str(app["id"])


def load_demo_clients(echo: Callable[[str], None] = print, today: dt.date | None = None,
                      bureau: str = "bureau", operator: str = "operator") -> list[dict[str, Any]]:
    """Build the demo merchant's entitlements and clients (see the module docstring);
    returns the clients."""
    today = today or clock.today()
    product = demo_product_name(PRODUCT_SCENARIO)
    if model.Package.get(product) is None:
        echo("接口客户端 / API clients: 智慧核保 not found (load the demo products first)")
        return []
    merchant = _merchant(bureau)
    made = []
    for client_id, secret, calls, scenario in DEMO_CLIENTS:
        app_id = _application(merchant, product, scenario) or \
            _apply(product, scenario, calls, today)
        app = _drive(app_id, bureau, operator, today)
        ent = app.get("entitlement")
        if app["status"] != "active" or ent is None:
            echo(f"  {client_id}: the application is {app['status']}, no client")
            continue
        row = clients.get(client_id)
        if row is None:
            user = model.User.get(MERCHANT_USER)
            row, _ = clients.create(user, ent["id"], client_id, client_id=client_id,
                                    secret=secret)
            model.Session.commit()
        made.append(dict(clients.as_dict(row), quota=ent["quota"], secret=secret))
    if tk.config.get("ckanext.sanyi.demo_passwords"):
        echo("演示接口客户端 / demo API clients (仅供演示，生产环境必须撤销 / demo only: revoke in "
             "production); token: POST /api/delivery/oauth/token, grant_type=client_credentials")
        for c in made:
            echo(f"  {c['client_id']:<18} {c['secret']:<52} {c['quota']:>6} calls")
    return made
