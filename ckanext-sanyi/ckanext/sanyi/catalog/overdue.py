"""Which catalog resources are past their next update due date."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from sqlalchemy import and_

from ..common import clock
from ..domain import cycles


def editable_org_ids(user: model.User) -> list[str] | None:
    """Organisations whose datasets ``user`` may edit; None means all (sysadmin)."""
    if user.sysadmin:
        return None
    orgs = tk.get_action("organization_list_for_user")(
        {"user": user.name, "ignore_auth": True}, {"permission": "update_dataset"})
    return [o["id"] for o in orgs]


def overdue_resources(user: model.User | None = None, today: dt.date | None = None,
                      limit: int | None = None) -> list[dict[str, Any]]:
    today = today or clock.today()
    due = model.Package.extras["next_due"].astext
    q = (model.Session.query(model.Package, model.Group)
         .join(model.Group, model.Group.id == model.Package.owner_org)
         .filter(model.Package.type == "dataset", model.Package.state == "active",
                 and_(due != "", due < today.isoformat())))
    if user is not None:
        org_ids = editable_org_ids(user)
        if org_ids is not None:
            q = q.filter(model.Package.owner_org.in_(org_ids or [""]))
    q = q.order_by(due, model.Package.title)
    if limit:
        q = q.limit(limit)
    return [resource_row(pkg, org, today) for pkg, org in q]


def resource_row(pkg: model.Package, org: model.Group, today: dt.date) -> dict[str, Any]:
    """A catalog resource with its unit, update cycle, last update, due date and days overdue
    (0 unless its due date has passed)."""
    extras = pkg.extras or {}
    last, due = extras.get("last_updated", ""), extras.get("next_due", "")
    return {
        "id": pkg.id, "name": pkg.name, "title": pkg.title,
        "organization": org.name, "organization_title": org.title,
        "update_cycle": extras.get("update_cycle", ""), "last_updated": last,
        "next_due": due,
        "days_overdue": cycles.days_overdue(dt.date.fromisoformat(last[:10]),
                                            extras.get("update_cycle", ""), today)
        if last and due and due < today.isoformat() else 0,
    }


def unit_resources(org_ids: list[str], today: dt.date | None = None,
                   limit: int = 500) -> list[dict[str, Any]]:
    """The active catalog resources of these units, overdue first, then by due date."""
    today = today or clock.today()
    q = (model.Session.query(model.Package, model.Group)
         .join(model.Group, model.Group.id == model.Package.owner_org)
         .filter(model.Package.owner_org.in_(org_ids or [""]),
                 model.Package.type == "dataset", model.Package.state == "active")
         .order_by(model.Package.title).limit(limit))
    rows = [dict(resource_row(pkg, org, today), private=pkg.private) for pkg, org in q]
    rows.sort(key=lambda r: (r["days_overdue"] <= 0, r["next_due"] or "9999", r["title"]))
    return rows
