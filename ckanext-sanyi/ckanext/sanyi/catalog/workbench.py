"""Where each role lands after logging in, and the data unit's own workbench.

``/after-login`` (CKAN's ``ckan.auth.route_after_login``) sends a data-unit editor to
``/unit/workbench``, a merchant to its entitlements (我的授权), bureau staff to the supervision
page, operator staff to the orders; anyone else to CKAN's dashboard. The workbench lists the
resources of the editor's units, overdue first (then by due date), with the applications
waiting for the units' review beside them.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from flask import Blueprint

from ..common import roles
from ..common.user import page_context
from . import overdue

__all__ = ["sanyi_workbench", "landing_endpoint", "unit_orgs"]

sanyi_workbench = Blueprint("sanyi_workbench", __name__)
MAX_ROWS = 500  # resources shown on the workbench (a unit has tens to a few hundred)


def unit_orgs(user: model.User) -> list[model.Group]:
    """The data units (not the bureau, not the operator) whose resources ``user`` edits."""
    ids = overdue.editable_org_ids(user) if not user.sysadmin else []
    skip = {roles.bureau_org(), roles.operator_org()}
    groups = model.Session.query(model.Group).filter(
        model.Group.id.in_(ids or [""]), model.Group.state == "active",
        model.Group.is_organization.is_(True)).order_by(model.Group.title).all()
    return [g for g in groups if g.name not in skip]


def _is_merchant(user: model.User) -> bool:
    from ..applications import access
    return access.merchant_for(user) is not None


def landing_endpoint(user: model.User) -> str:
    if user.sysadmin:
        return "dashboard.datasets"
    if roles.is_bureau_staff(user):
        return "sanyi_bureau_supervision.index"
    if roles.is_operator_staff(user):
        return "sanyi_payments.order_list"
    if unit_orgs(user):
        return "sanyi_workbench.workbench"
    if _is_merchant(user):
        return "sanyi_applications.merchant_entitlements"
    return "dashboard.datasets"


@sanyi_workbench.route("/after-login")
def after_login() -> Any:
    user = tk.g.userobj
    if not user:
        return tk.redirect_to("user.login")
    return tk.redirect_to(landing_endpoint(user))


@sanyi_workbench.route("/unit/workbench")
def workbench() -> Any:
    user = tk.g.userobj
    if not user:
        return tk.redirect_to("user.login", came_from=tk.url_for("sanyi_workbench.workbench"))
    orgs = unit_orgs(user)
    if not orgs:
        return tk.abort(403, tk.h.sanyi_t("只有数源单位的编辑人员可以使用本页面",
                                          "Only editors of a data unit may use this page"))
    try:
        queue = tk.get_action("sanyi_application_list")(
            page_context(), {"queue": True, "limit": 20})
    except (tk.NotAuthorized, tk.ValidationError):
        queue = {"count": 0, "results": []}
    rows = overdue.unit_resources([o.id for o in orgs], limit=MAX_ROWS)
    return tk.render("sanyi/workbench.html", {
        "orgs": orgs, "rows": rows, "overdue_count": sum(1 for r in rows if r["days_overdue"] > 0),
        "queue": queue})
