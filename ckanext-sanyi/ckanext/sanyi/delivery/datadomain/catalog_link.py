"""Which catalog resource each domain table backs, and the field list that describes it.

A :class:`~.sources.Source` names its resource by data unit and title, as the catalog lists
them; the catalog's package names are derived (``r-`` plus a digest), so the link is resolved
against CKAN's tables: the active ``dataset`` whose title and owning organisation's title match.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import sqlalchemy as sa

from .sources import SOURCES, Source

__all__ = ["field_list", "resource_of", "resources", "source_of", "data_item"]


def field_list(source: Source) -> list[dict[str, str]]:
    """The catalog ``data_fields`` value describing ``source``'s table."""
    return [{"field_name": f.zh, "field_type": f.type, "sensitive": "yes" if f.sensitive else "no"}
            for f in source.fields]


def resources() -> dict[str, dict[str, Any]]:
    """``{table: {"id", "name", "title", "unit", "unit_title"}}`` for every source whose catalog
    resource exists (one query)."""
    pkg, grp = model.package_table, model.group_table
    rows = model.Session.execute(
        sa.select(pkg.c.id, pkg.c.name, pkg.c.title, grp.c.name.label("unit"),
                  grp.c.title.label("unit_title"))
        .select_from(pkg.join(grp, grp.c.id == pkg.c.owner_org))
        .where(pkg.c.type == "dataset", pkg.c.state == "active",
               pkg.c.title.in_([s.resource_title for s in SOURCES]))).mappings().all()
    found: dict[str, dict[str, Any]] = {}
    for s in SOURCES:
        for r in rows:
            if r["title"] == s.resource_title and r["unit_title"] == s.unit_title:
                found[s.table] = dict(r)
                break
    return found


def resource_of(source: Source) -> dict[str, Any] | None:
    return resources().get(source.table)


def source_of(package: dict[str, Any] | str) -> Source | None:
    """The source table behind a catalog resource (a package dict, name or id), if any."""
    ref = package if isinstance(package, str) else package.get("id") or package.get("name")
    for table, res in resources().items():
        if ref in (res["id"], res["name"]):
            return next(s for s in SOURCES if s.table == table)
    return None


def data_item(resource_name: str, source: Source, column: str) -> str:
    """The application data item (最小必要) for one field: ``"<resource name>:<中文字段名>"``,
    the value :func:`ckanext.sanyi.applications.products.item_options` offers."""
    return f"{resource_name}:{source.field(column).zh}"
