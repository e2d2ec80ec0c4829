"""Reading: application and entitlement dicts for the API and the pages, lists filtered by
who is asking, the trace and each user's queue.

Queues (what waits for the user): a data unit's editors — applications in unit review that
their unit has not decided on; the bureau — applications in bureau review and merchants
pending verification; a merchant — its drafts, returned applications and those awaiting
payment.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from ..common import audit
from ..domain.approval import Status, allowed_events
from . import access, attachments, entitlements, forms, merchants, products
from .model import application_table as t
from .model import entitlement_table as et
from .model import merchant_table as mt
from .model import review_table as rt
from .service import state_of

__all__ = ["application_dict", "list_applications", "list_entitlements", "trace", "queue_count",
           "STATUS_EN"]

STATUS_EN = {s.value: s.value.replace("_", " ") for s in Status}
_MERCHANT_QUEUE = (Status.DRAFT.value, Status.RETURNED.value, Status.AWAITING_PAYMENT.value)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _org_titles(names: Any) -> dict[str, str]:
    names = list(names)
    if not names:
        return {}
    rows = model.Session.query(model.Group.name, model.Group.title) \
        .filter(model.Group.name.in_(names)).all()
    return {n: t or n for n, t in rows}


def application_dict(app: dict[str, Any], viewer: model.User | None = None, *,
                     detail: bool = False) -> dict[str, Any]:
    status = Status(app["status"])
    merchant = merchants.get(app["merchant_id"])
    applicant = model.Session.get(model.User, app["applicant_id"])
    titles = _org_titles(app["required_units"])
    out: dict[str, Any] = {
        "id": app["id"], "human_ref": app.get("human_ref"), "version": app["version"],
        "product": {"id": app["product_id"], "name": app["product_name"],
                    "title": app["product_title"]},
        "merchant": {k: merchant[k] for k in ("id", "company_name", "credit_code",
                                              "enterprise_size", "status")},
        "applicant": applicant.name if applicant else None,
        "scenario": app["scenario"], "use": app["use"],
        "use_label": forms.USES[app["use"]][0], "use_label_en": forms.USES[app["use"]][1],
        "purpose": app["purpose"], "data_items": list(app["data_items"]),
        "period_start": _iso(app["period_start"]), "period_end": _iso(app["period_end"]),
        "expected_volume": app["expected_volume"], "billing_unit": app["billing_unit"],
        "billing_unit_label": forms.UNITS.get(app["billing_unit"], ("", ""))[0],
        "quantity": app["quantity"],
        "status": status.value, "status_label": status.zh, "status_label_en": STATUS_EN[status.value],
        "required_units": [{"name": u, "title": titles.get(u, u),
                            "decision": app["unit_decisions"].get(u)}
                           for u in app["required_units"]],
        "unit_decisions": dict(app["unit_decisions"]),
        "quote": app["quote"], "order_id": app["order_id"], "payment_ref": app["payment_ref"],
        **{k: _iso(app[k]) for k in ("created", "modified", "submitted", "decided")},
    }
    if detail:
        out.update(_details(app, viewer))
    return out


def _details(app: dict[str, Any], viewer: model.User | None) -> dict[str, Any]:
    try:
        options = {o["value"]: o for o in products.item_options(products.load_product(app["product_id"]))}
    except Exception:
        options = {}
    items = [options.get(i) or {"value": i, "resource": i.split(":", 1)[0],
                                "resource_title": i.split(":", 1)[0],
                                "field": i.split(":", 1)[1] if ":" in i else None,
                                "organization": "", "sensitive": False}
             for i in app["data_items"]]
    reviews = model.Session.execute(sa.select(rt).where(rt.c.application_id == app["id"])
                                    .order_by(rt.c.id)).mappings()
    ent = entitlements.for_application(app["id"])
    actor = access.actor_for(viewer, app, reviewing=True) if viewer is not None else None
    events = [e.value for e in allowed_events(state_of(app), actor)] if actor else []
    return {
        "data_item_details": items,
        "attachments": attachments.for_application(app["id"]),
        "reviews": [_review(r) for r in reviews],
        "entitlement": entitlements.as_dict(ent) if ent else None,
        "trace": trace(app, ent),
        "allowed_events": events,
        "viewer_role": actor.role.value if actor else None,
        "viewer_unit": actor.unit_id if actor else None,
    }


def _review(row: Any) -> dict[str, Any]:
    """A review as the API gives it: the data unit it was made for as ``organization``
    (empty for the bureau's)."""
    out = dict(row, created=_iso(row["created"]))
    out["organization"] = out.pop("unit", "") or ""
    return out


def trace(app: dict[str, Any], ent: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every audit record of the application, its entitlement and its order, oldest first."""
    ids = [app["id"]] + [x for x in ((ent or {}).get("id"), app.get("order_id")) if x]
    a = audit.audit_table
    rows = model.Session.execute(sa.select(a).where(a.c.object_id.in_(ids))
                                 .order_by(a.c.id)).mappings()
    return [{"id": r["id"], "actor": r["actor"], "action": r["action"],
             "object_type": r["object_type"], "object_id": r["object_id"],
             "before": r["before"], "after": r["after"], "created": _iso(r["created"])}
            for r in rows]


def _visible(viewer: model.User) -> Any:
    """SQL condition: applications ``viewer`` may see (None: all)."""
    if access.is_bureau(viewer):
        return None
    units = sorted(access.unit_names(viewer))
    cond = t.c.applicant_id == viewer.id
    if units:
        cond = sa.or_(cond, sa.and_(t.c.status != Status.DRAFT.value,
                                    t.c.required_units.has_any(pg.array(units))))
    return cond


def _queue(viewer: model.User) -> Any:
    parts = [sa.and_(t.c.applicant_id == viewer.id, t.c.status.in_(_MERCHANT_QUEUE))]
    if access.is_bureau(viewer):
        parts.append(t.c.status == Status.BUREAU_REVIEW.value)
    for unit in sorted(access.unit_names(viewer)):
        parts.append(sa.and_(t.c.status == Status.UNIT_REVIEW.value,
                             t.c.required_units.contains([unit]),
                             sa.not_(t.c.unit_decisions.has_key(unit))))
    return sa.or_(*parts)


def list_applications(viewer: model.User, *, status: list[str] | None = None,
                      queue: bool = False, mine: bool = False, product: str | None = None,
                      limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    conds = [c for c in (_visible(viewer), _queue(viewer) if queue else None) if c is not None]
    if mine:
        conds.append(t.c.applicant_id == viewer.id)
    if status:
        conds.append(t.c.status.in_(status))
    if product:
        conds.append(sa.or_(t.c.product_id == product, t.c.product_name == product))
    where = sa.and_(sa.true(), *conds)
    total = int(model.Session.execute(sa.select(sa.func.count()).select_from(t).where(where))
                .scalar_one())
    rows = model.Session.execute(sa.select(t).where(where).order_by(t.c.modified.desc(), t.c.id)
                                 .limit(limit).offset(offset)).mappings()
    return total, [dict(r) for r in rows]


def queue_count(viewer: model.User) -> int:
    """Items waiting for ``viewer``: applications to act on, merchants to verify (bureau)."""
    n = list_applications(viewer, queue=True, limit=0)[0]
    if access.is_bureau(viewer):
        n += merchants.list_merchants("pending", limit=0)[0]
    return n


def list_entitlements(viewer: model.User, *, status: list[str] | None = None, mine: bool = False,
                      limit: int = 50, offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    stmt = sa.select(et, mt.c.company_name).join(mt, mt.c.id == et.c.merchant_id) \
        .join(t, t.c.id == et.c.application_id)
    count = sa.select(sa.func.count()).select_from(et.join(t, t.c.id == et.c.application_id))
    visible = _visible(viewer)
    conds = [visible] if visible is not None else []
    if mine:
        conds.append(t.c.applicant_id == viewer.id)
    if status:
        conds.append(et.c.status.in_(status))
    where = sa.and_(sa.true(), *conds)
    total = int(model.Session.execute(count.where(where)).scalar_one())
    rows = model.Session.execute(stmt.where(where).order_by(et.c.created.desc(), et.c.id)
                                 .limit(limit).offset(offset)).mappings()
    return total, [dict(entitlements.as_dict(r), company_name=r["company_name"]) for r in rows]
