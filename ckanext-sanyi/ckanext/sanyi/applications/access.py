"""Who is who relative to an application: merchant (the applicant), data unit, bureau.

* Bureau staff (数据局 editors; sysadmins count) see every application.
* A data unit's editors see the applications, other than drafts, that list their
  organisation among ``required_units`` (the product draws on its data).
* A merchant sees its own applications. The operator sees none (it takes no part in review;
  payments reach the service through :func:`.service.mark_paid`).
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ..common import roles
from ..common.user import as_user
from ..domain.approval import Actor, Role
from .model import merchant_table

__all__ = ["user_obj", "unit_names", "is_bureau", "merchant_for", "can_see", "actor_for",
           "bureau_user_ids", "unit_user_ids", "is_staff"]

_EDIT = ("editor", "admin")


def user_obj(user: Any) -> model.User | None:
    return as_user(user)


def _staff_orgs() -> set[str]:
    return {roles.bureau_org(), roles.operator_org()}


def unit_names(user: Any) -> set[str]:
    """Data units (organisation names) the user edits, the bureau and operator excluded."""
    obj = user_obj(user)
    if obj is None:
        return set()
    q = (model.Session.query(model.Group.name)
         .join(model.Member, model.Member.group_id == model.Group.id)
         .filter(model.Member.table_name == "user", model.Member.table_id == obj.id,
                 model.Member.state == "active", model.Member.capacity.in_(_EDIT),
                 model.Group.is_organization.is_(True), model.Group.state == "active"))
    return {name for (name,) in q} - _staff_orgs()


def is_bureau(user: Any) -> bool:
    return roles.is_bureau_staff(user_obj(user))


def is_staff(user: Any) -> bool:
    """Bureau, operator or data-unit staff (who may not register as a merchant)."""
    obj = user_obj(user)
    return bool(obj) and (roles.is_bureau_staff(obj) or roles.is_operator_staff(obj)
                          or bool(unit_names(obj)))


def merchant_for(user: Any) -> dict[str, Any] | None:
    obj = user_obj(user)
    if obj is None:
        return None
    row = model.Session.execute(sa.select(merchant_table)
                                .where(merchant_table.c.user_id == obj.id)).mappings().first()
    return dict(row) if row else None


def can_see(user: Any, app: dict[str, Any]) -> bool:
    obj = user_obj(user)
    if obj is None:
        return False
    if app["applicant_id"] == obj.id or is_bureau(obj):
        return True
    return app["status"] != "draft" and bool(unit_names(obj) & set(app["required_units"]))


def actor_for(user: Any, app: dict[str, Any], *, unit: str | None = None,
              reviewing: bool = False) -> Actor | None:
    """The domain actor ``user`` is for ``app``: None when the user has no part in it.

    ``reviewing`` prefers the data-unit role while the application is in unit review (a
    user who is both bureau staff and a unit editor reviews as the unit then); ``unit``
    picks one of several units the user edits.
    """
    obj = user_obj(user)
    if obj is None:
        return None
    units = unit_names(obj) & set(app["required_units"])
    if unit:
        units = units & {unit}
    if reviewing and units and (app["status"] == "unit_review" or not is_bureau(obj)):
        pending = [u for u in sorted(units) if u not in app["unit_decisions"]]
        return Actor(Role.DATA_UNIT, obj.id, (pending or sorted(units))[0])
    if is_bureau(obj):
        return Actor(Role.BUREAU, obj.id)
    if app["applicant_id"] == obj.id:
        return Actor(Role.MERCHANT, obj.id)
    if units:
        return Actor(Role.DATA_UNIT, obj.id, sorted(units)[0])
    return None


def _member_ids(org_names: set[str]) -> list[str]:
    if not org_names:
        return []
    q = (model.Session.query(model.Member.table_id)
         .join(model.Group, model.Member.group_id == model.Group.id)
         .join(model.User, model.User.id == model.Member.table_id)
         .filter(model.Group.name.in_(sorted(org_names)), model.Member.table_name == "user",
                 model.Member.state == "active", model.Member.capacity.in_(_EDIT),
                 model.User.state == "active", model.User.sysadmin.is_(False))
         .distinct())
    return sorted(uid for (uid,) in q)


def bureau_user_ids() -> list[str]:
    """Editors of the bureau organisation. Sysadmins (the site user among them, which is an
    admin of every organisation it created) are not notified."""
    return _member_ids({roles.bureau_org()})


def unit_user_ids(units: Any) -> list[str]:
    return _member_ids(set(units))
