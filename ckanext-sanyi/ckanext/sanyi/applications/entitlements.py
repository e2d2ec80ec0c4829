"""Entitlements: what an active application allows (merchant, product, purpose, use, data
items, period, quota), one per application.

The entitlement's status follows its application's: ``active``, ``suspended``, ``expired``,
``revoked`` (changes go through :mod:`.lifecycle`). The period is inclusive: an entitlement
is valid through ``period_end`` and expires the day after. Its quota is the application's
``quantity`` in its ``billing_unit``.
"""
from __future__ import annotations

import uuid
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ..common import audit
from ..common.ids import id_problem
from .model import entitlement_table as t

__all__ = ["create_for", "get", "for_application", "as_dict", "AUDITED", "STATUS_TEXT"]

AUDITED = ("status", "period_start", "period_end", "quota", "quota_unit", "purpose", "use",
           "data_items", "product_name", "application_id")
STATUS_TEXT = {"active": ("有效", "active"), "suspended": ("已暂停", "suspended"),
               "expired": ("已到期", "expired"), "revoked": ("已撤销", "revoked")}


def create_for(app: dict[str, Any], actor_name: str) -> dict[str, Any]:
    """The entitlement of an application that has just become active (idempotent)."""
    existing = for_application(app["id"])
    if existing is not None:
        return existing
    row = {"id": str(uuid.uuid4()), "application_id": app["id"], "merchant_id": app["merchant_id"],
           "product_id": app["product_id"], "product_name": app["product_name"],
           "purpose": app["purpose"], "use": app["use"], "data_items": list(app["data_items"]),
           "period_start": app["period_start"], "period_end": app["period_end"],
           "quota": app["quantity"], "quota_unit": app["billing_unit"], "status": "active"}
    model.Session.execute(t.insert().values(**row))
    audit.record(actor_name, "sanyi_entitlement_create", "entitlement", row["id"], before=None,
                 after={k: row[k] for k in AUDITED})
    return get(row["id"])


def get(entitlement_id: str, *, lock: bool = False) -> dict[str, Any] | None:
    if entitlement_id and id_problem(entitlement_id) is not None:  # NUL, surrogate: none such
        return None
    stmt = sa.select(t).where(t.c.id == str(entitlement_id or ""))
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    return dict(row) if row else None


def for_application(application_id: str) -> dict[str, Any] | None:
    row = model.Session.execute(sa.select(t).where(t.c.application_id == application_id)) \
        .mappings().first()
    return dict(row) if row else None


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "application_id", "merchant_id", "product_id", "product_name",
                               "purpose", "use", "quota", "quota_unit", "status")}
    out.update(data_items=list(row["data_items"]),
               period_start=row["period_start"].isoformat(),
               period_end=row["period_end"].isoformat(),
               status_label=STATUS_TEXT[row["status"]][0],
               status_label_en=STATUS_TEXT[row["status"]][1],
               **{k: row[k].isoformat() if row[k] else None for k in ("created", "modified", "ended")})
    return out
