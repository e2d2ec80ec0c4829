"""Helpers of the gateway tests (no fixtures here; ``gateway_world`` is in conftest.py).

``entitle(world, ...)`` adds an active entitlement (rows written directly, as an approved
application leaves them) with an API client created through :func:`clients.create`;
``token(app, ent)`` asks the OAuth endpoint for a token over HTTP; ``call(app, token, ...)``
calls the gateway.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import sqlalchemy as sa
from ckan import model
from client_calls import token_request

from ckanext.sanyi.applications.model import application_table, entitlement_table
from ckanext.sanyi.delivery import clients
from ckanext.sanyi.delivery.model import ledger_table
from ckanext.sanyi.delivery.operations import spec

P1, P2, P3, ABSENT = ("420802195803124021", "420804197206152317", "420881199009235625",
                      "420822196511080012")
CONSENT = "AUTH-2026-000123"
UNDERWRITING, CLAIMS = "智慧核保(核保调查)", "理赔调查(核赔调查)"
# 2026-12-01 10:00 in Beijing: the small domain's today, inside every period below
NOON = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def product_name(scenario: str) -> str:
    return "p-" + hashlib.sha1(scenario.encode()).hexdigest()[:12]


def call_url(product: str, operation: str) -> str:
    return f"/api/delivery/v1/{product}/{operation}"


def risk_input(number: str = P1, **extra: Any) -> dict[str, Any]:
    return {"id_number": number, "consent_ref": CONSENT, **extra}


def entitle(world: dict[str, Any], *, scenario: str = UNDERWRITING, quota: int = 100,
            unit: str = "call", items: list[str] | None = None, status: str = "active",
            period: tuple[dt.date, dt.date] = (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
            scope: str | None = None) -> dict[str, Any]:
    """An entitlement of the world's merchant to the product of ``scenario`` (data items: what
    its operation reads, unless ``items``), with one API client (``client_id``, ``secret``).
    The client is created while the entitlement is active and then set to ``status``."""
    name = product_name(scenario)
    pkg = model.Package.get(name)
    op = spec.PRODUCTS[scenario][0]
    data_items = world["items"][op.name] if items is None else items
    firm = world["merchant"]
    app_row = {"id": str(uuid.uuid4()), "merchant_id": firm["id"], "applicant_id": world["user"],
               "product_id": pkg.id, "product_name": name, "product_title": pkg.title,
               "scenario": "测试场景", "use": "industrial", "purpose": "核保风险评估（测试）",
               "data_items": data_items, "expected_volume": max(1, quota),
               "billing_unit": unit, "quantity": max(1, quota), "status": "active",
               "required_units": [], "unit_decisions": {},
               "period_start": period[0], "period_end": period[1]}
    model.Session.execute(application_table.insert().values(**app_row))
    ent = {"id": str(uuid.uuid4()), "application_id": app_row["id"], "merchant_id": firm["id"],
           "product_id": pkg.id, "product_name": name, "purpose": app_row["purpose"],
           "use": "industrial", "data_items": data_items, "quota": quota, "quota_unit": unit,
           "status": "active", "period_start": period[0], "period_end": period[1]}
    model.Session.execute(entitlement_table.insert().values(**ent))
    row, secret = clients.create(model.User.get(world["user"]), ent["id"],
                                 f"客户端-{ent['id'][:8]}", scope)
    if status != "active":
        set_status(ent["id"], status)
    model.Session.commit()
    return dict(ent, product=name, operation=op.name, client_id=row["client_id"],
                client_secret=secret, client_pk=row["id"])


def set_status(entitlement_id: str, status: str) -> None:
    model.Session.execute(entitlement_table.update()
                          .where(entitlement_table.c.id == entitlement_id).values(status=status))
    model.Session.commit()


def token(app, ent: dict[str, Any], **form: Any) -> str:
    res = token_request(app, ent, **form)
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.json["access_token"]


def call(app, access_token: str | None, product: str, operation: str,
         payload: Any = None, *, body: bytes | str | None = None,
         headers: dict[str, str] | None = None, method: str = "post") -> Any:
    """One call over the test app; ``payload`` as JSON, or ``body`` as it is."""
    headers = dict(headers or {})
    if access_token is not None:
        headers["Authorization"] = f"Bearer {access_token}"
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["data"] = body
    elif payload is not None:
        kwargs["data"] = json.dumps(payload, ensure_ascii=False)
        headers["Content-Type"] = "application/json"
    return getattr(app, method)(call_url(product, operation), **kwargs)


def ledger_rows(**where: Any) -> list[dict[str, Any]]:
    t = ledger_table
    stmt = sa.select(t).order_by(t.c.id)
    for key, value in where.items():
        stmt = stmt.where(t.c[key] == value)
    rows = [dict(r) for r in model.Session.execute(stmt).mappings()]
    model.Session.commit()
    return rows


def rows_as_text(**where: Any) -> str:
    """Every ledger row matching ``where`` as JSON text (to look for a raw input in it)."""
    return json.dumps(ledger_rows(**where), default=str, ensure_ascii=False)

