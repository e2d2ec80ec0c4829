"""Template helpers of the catalog pages: scheming choice labels, choice lists of the product
form, overdue resources, the home page's figures, links to organisations and datasets.
Registered by the plugin's helpers blanket (this module's ``__all__``)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ckanext.scheming.helpers import scheming_get_dataset_schema, scheming_language_text

from ..common import clock, roles
from ..common.helpers import sanyi_list, sanyi_t, ui_lang
from ..common.user import page_context
from ..domain import cycles

__all__ = ["sanyi_choice_label", "sanyi_choice_labels", "sanyi_subfield_label",
           "sanyi_organization_choices", "sanyi_catalog_choices", "sanyi_days_overdue",
           "sanyi_overdue_for_user", "sanyi_overdue_text", "sanyi_home_stats", "sanyi_products",
           "sanyi_can_edit", "sanyi_org_links", "sanyi_package_links", "sanyi_matching_products"]


def _field(dataset_type: str, field_name: str) -> dict | None:
    schema = scheming_get_dataset_schema(dataset_type) or {}
    for f in schema.get("dataset_fields", []):
        if f["field_name"] == field_name:
            return f
    return None


def sanyi_choice_label(field_name: str, value: str, dataset_type: str = "dataset",
                       lang: str | None = None) -> str:
    field = _field(dataset_type, field_name)
    for c in (field or {}).get("choices", []):
        if c["value"] == value:
            return scheming_language_text(c["label"], lang or ui_lang())
    return value


def sanyi_choice_labels(field_name: str, values: Any, dataset_type: str = "dataset") -> list[str]:
    return [sanyi_choice_label(field_name, v, dataset_type) for v in sanyi_list(values)]


def sanyi_subfield_label(field_name: str, subfield_name: str, value: str,
                         dataset_type: str = "dataset") -> str:
    """Label of a choice inside a repeating field (e.g. data_fields → field_type)."""
    for sub in (_field(dataset_type, field_name) or {}).get("repeating_subfields", []):
        if sub["field_name"] == subfield_name:
            for c in sub.get("choices", []):
                if c["value"] == value:
                    return scheming_language_text(c["label"], ui_lang())
    return value or ""


def sanyi_organization_choices(field: dict) -> list[dict[str, str]]:
    """Data units: every active organisation except the bureau and the operator."""
    skip = {roles.bureau_org(), roles.operator_org()}
    q = (model.Session.query(model.Group.name, model.Group.title)
         .filter(model.Group.is_organization.is_(True), model.Group.state == "active")
         .order_by(model.Group.title))
    return [{"value": n, "label": t or n} for n, t in q if n not in skip]


def sanyi_catalog_choices(field: dict) -> list[dict[str, str]]:
    q = (model.Session.query(model.Package.name, model.Package.title)
         .filter(model.Package.type == "dataset", model.Package.state == "active",
                 model.Package.private.is_(False))
         .order_by(model.Package.title).limit(5000))
    return [{"value": n, "label": t or n} for n, t in q]


def sanyi_days_overdue(pkg: dict, today: dt.date | None = None) -> int:
    last, cycle = pkg.get("last_updated"), pkg.get("update_cycle")
    if not last or not cycle:
        return 0
    try:
        return cycles.days_overdue(dt.date.fromisoformat(str(last)[:10]), cycle,
                                   today or clock.today())
    except (ValueError, cycles.DomainError):
        return 0


def sanyi_overdue_for_user(limit: int = 50) -> list[dict[str, Any]]:
    """Overdue resources of the organisations the current user can edit."""
    from . import overdue
    user = tk.g.get("userobj")
    if not user:
        return []
    return overdue.overdue_resources(user=user, limit=limit)


def sanyi_overdue_text(days: int, short: bool = False) -> str:
    """"已逾期 3 天" / "3 days overdue" (short: "3 天" / "3 days")."""
    days = int(days or 0)
    en = f"{days} day" + ("" if days == 1 else "s")
    if short:
        return sanyi_t(f"{days} 天", en)
    return sanyi_t(f"已逾期 {days} 天", en + " overdue")


def sanyi_home_stats() -> dict[str, Any]:
    """The catalog's shape for the home page: resources per unit and per domain."""
    result = tk.get_action("package_search")({}, {
        "q": "", "fq": "+dataset_type:dataset", "rows": 0,
        "facet.field": ["organization", "domain", "delivery_methods", "update_cycle"],
        "facet.limit": -1})
    facets = result["search_facets"]

    def items(name: str) -> list[dict[str, Any]]:
        rows = facets.get(name, {}).get("items", [])
        return sorted(rows, key=lambda i: -i["count"])
    products = tk.get_action("package_search")({}, {"q": "", "fq": "+dataset_type:product",
                                                    "rows": 0})
    return {"total": result["count"], "units": items("organization"),
            "domains": items("domain"), "methods": items("delivery_methods"),
            "cycles": items("update_cycle"), "products": products["count"]}


def sanyi_products(limit: int = 8) -> list[dict[str, Any]]:
    return tk.get_action("package_search")({}, {
        "q": "", "fq": "+dataset_type:product", "rows": limit,
        "sort": "title_string asc"})["results"]


def sanyi_matching_products(q: str, limit: int = 3) -> dict[str, Any]:
    """Products matching a catalog search's query (for the catalog's result page): the
    first ``limit`` and how many there are. A query the search refuses finds none."""
    if not q or not q.strip():
        return {"count": 0, "results": []}
    try:
        found = tk.get_action("package_search")(page_context(), {
            "q": q, "fq": "+dataset_type:product", "rows": limit})
    except (tk.ValidationError, tk.NotAuthorized, tk.ObjectNotFound):
        return {"count": 0, "results": []}
    return {"count": found["count"], "results": found["results"]}


def sanyi_can_edit(pkg: dict) -> bool:
    try:
        tk.check_access("package_update", page_context(), {"id": pkg["id"]})
        return True
    except tk.NotAuthorized:
        return False


def sanyi_org_links(names: Any) -> list[dict[str, str]]:
    """Organisations by name, in the given order, as ``{name, title}`` (unknown names kept)."""
    names = [n for n in sanyi_list(names) if n]
    if not names:
        return []
    rows = dict(model.Session.query(model.Group.name, model.Group.title)
                .filter(model.Group.name.in_(names), model.Group.state == "active"))
    return [{"name": n, "title": rows.get(n) or n, "known": n in rows} for n in names]


def sanyi_package_links(names: Any) -> list[dict[str, str]]:
    """Public active datasets by name, in the given order, as
    ``{name, title, type, organization_title}`` (private or missing ones are left out)."""
    names = [n for n in sanyi_list(names) if n]
    if not names:
        return []
    q = (model.Session.query(model.Package.name, model.Package.title, model.Package.type,
                             model.Group.title)
         .outerjoin(model.Group, model.Group.id == model.Package.owner_org)
         .filter(model.Package.name.in_(names), model.Package.state == "active",
                 model.Package.private.is_(False)))
    rows = {n: (t, ty, org) for n, t, ty, org in q}
    return [{"name": n, "title": rows[n][0] or n, "type": rows[n][1],
             "organization_title": rows[n][2] or ""}
            for n in names if n in rows]
