"""Pages of ckanext-sanyi: the overdue list on the dashboard, one-step "mark updated"."""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from flask import Blueprint

from .i18n_text import bi

__all__ = ["sanyi"]

sanyi = Blueprint("sanyi", __name__)


@sanyi.route("/dashboard/overdue")
def dashboard_overdue():
    if not tk.g.user:
        return tk.redirect_to("user.login")
    rows = tk.get_action("sanyi_overdue_list")({"user": tk.g.user}, {})
    return tk.render("sanyi/dashboard_overdue.html", {"rows": rows})


@sanyi.route("/dataset/<id>/mark-updated", methods=["POST"])
def mark_updated(id: str):
    try:
        tk.get_action("sanyi_mark_updated")({"user": tk.g.user}, {"id": id})
        tk.h.flash_success(bi("已标记为今日更新", "Marked as updated today"))
    except tk.NotAuthorized:
        return tk.abort(403, bi("只有该资源的数源单位可以标记更新",
                                "Only the resource's data unit can mark it updated"))
    except tk.ObjectNotFound:
        return tk.abort(404)
    except tk.ValidationError as e:
        tk.h.flash_error(str(e.error_summary))
    return tk.redirect_to("dataset.read", id=id)

