"""Pages of ckanext-sanyi: the overdue list on the dashboard, one-step "mark updated"."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint

from ..common import csrf, inputs, session
from ..common.errors import error_lines
from ..common.helpers import sanyi_t
from ..common.i18n_text import bi
from ..common.user import page_context
from .import_views import sanyi_catalog_import
from .workbench import sanyi_workbench

__all__ = ["sanyi", "sanyi_catalog_import", "sanyi_workbench"]

sanyi = Blueprint("sanyi", __name__)
# for every request of the app, not only this blueprint's
sanyi.before_app_request(csrf.guard)
sanyi.before_app_request(inputs.guard)
sanyi.teardown_app_request(session.teardown)


@sanyi.route("/dashboard/overdue")
def dashboard_overdue():
    if not tk.g.user:
        return tk.redirect_to("user.login")
    rows = tk.get_action("sanyi_overdue_list")(page_context(), {})["results"]
    user_dict = {"name": tk.g.userobj.name, "display_name": tk.g.userobj.display_name}
    return tk.render("sanyi/dashboard_overdue.html", {"rows": rows, "user_dict": user_dict})


@sanyi.route("/dataset/<id>/mark-updated", methods=["POST"])
def mark_updated(id: str):
    try:
        tk.get_action("sanyi_mark_updated")(page_context(), {"id": id})
        tk.h.flash_success(sanyi_t("已标记为今日更新", "Marked as updated today"))
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有该资源的数源单位可以标记更新",
                                "Only the resource's data unit can mark it updated"))
    except tk.ObjectNotFound:
        return tk.abort(404)
    except tk.ValidationError as e:
        for line in error_lines(e.error_dict or {}):  # the page's language, no field codes
            tk.h.flash_error(line)
    # only these fixed targets: no open redirect
    if tk.request.form.get("return_to") == "overdue":
        return tk.redirect_to("sanyi.dashboard_overdue")
    if tk.request.form.get("return_to") == "workbench":
        return tk.redirect_to("sanyi_workbench.workbench")
    return tk.redirect_to("dataset.read", id=id)
