"""The operations as product pages and ``sanyi_operation_list`` show them: names, titles,
descriptions, privacy class, consent, input and output schemas, and the catalog resources and
fields each reads (only resources the caller may see are named; the fields are those of the
source table, which the catalog's field list publishes too).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ...applications.products import load_product, may_see
from ...domain.errors import DomainError, NotFound
from ..datadomain import catalog_link
from . import spec

__all__ = ["describe", "product_entry", "visible_products", "visible_resources",
           "privacy_classes", "for_product", "schema_fields"]


def privacy_classes() -> list[dict[str, Any]]:
    return [{"name": c.name, "title": {"zh": c.title_zh, "en": c.title_en},
             "description": {"zh": c.description_zh, "en": c.description_en}}
            for c in spec.PRIVACY_CLASSES.values()]


def visible_resources(context: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    found = catalog_link.resources()
    if not found:
        return {}
    flags = dict(model.Session.execute(
        sa.select(model.package_table.c.id, model.package_table.c.private)
        .where(model.package_table.c.id.in_([r["id"] for r in found.values()]))).all())
    out = {}
    for table, res in found.items():
        pkg = {"id": res["id"], "private": flags.get(res["id"], True), "state": "active"}
        if may_see(pkg, dict(context) if context is not None else None):
            out[table] = res
    return out


def schema_fields(schema: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The top-level properties of an object schema (of every ``oneOf`` branch, merged):
    ``[{"name", "required", "description", "type"}]`` in schema order."""
    out: dict[str, dict[str, Any]] = {}
    for branch in schema.get("oneOf") or [schema]:
        required = set(branch.get("required") or [])
        for name, prop in (branch.get("properties") or {}).items():
            entry = out.setdefault(name, {"name": name, "required": False, "description": "",
                                          "type": prop.get("type") or ""})
            entry["required"] = entry["required"] or name in required
            entry["description"] = entry["description"] or prop.get("description") or ""
            if not entry["type"] and "const" in prop:
                entry["type"] = type(prop["const"]).__name__.replace("bool", "boolean")
    return list(out.values())


def describe(op: spec.Operation, resources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """One operation as JSON (``resources``: the visible catalog resources by source table)."""
    cls = spec.PRIVACY_CLASSES[op.privacy]
    reads = []
    for read in op.reads:
        res = resources.get(read.table)
        s = read.source
        reads.append({
            "table": read.table,
            "resource": ({"name": res["name"], "title": res["title"], "unit": res["unit"],
                          "unit_title": res["unit_title"]} if res else None),
            "resource_title": s.resource_title, "unit_title": s.unit_title,
            "fields": [{"column": f.column, "field_name": f.zh, "en": f.en,
                        "sensitive": f.sensitive,
                        "item": f"{res['name']}:{f.zh}" if res else None}
                       for f in read.fields()],
        })
    return {"name": op.name, "product": op.product,
            "title": {"zh": op.title_zh, "en": op.title_en},
            "description": {"zh": op.description_zh, "en": op.description_en},
            "privacy": {"name": cls.name, "title": {"zh": cls.title_zh, "en": cls.title_en}},
            "consent_required": op.consent_required, "reads": reads,
            "input_fields": schema_fields(op.input_schema),
            "output_fields": schema_fields(op.output_schema),
            "input_schema": op.input_schema, "output_schema": op.output_schema}


def product_entry(pkg: Mapping[str, Any],
                  resources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {"name": pkg["name"], "title": pkg.get("title") or pkg["name"],
            "scenario": spec.scenario_of(pkg),
            "operations": [describe(op, resources) for op in spec.operations_of(pkg)]}


def visible_products(context: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Every active product the caller may see, by title."""
    rows = model.Session.execute(
        sa.select(model.package_table.c.name)
        .where(model.package_table.c.type == "product", model.package_table.c.state == "active")
        .order_by(model.package_table.c.title, model.package_table.c.name)).scalars().all()
    out = []
    for name in rows:
        pkg = tk.get_action("package_show")({"ignore_auth": True}, {"id": name})
        if may_see(pkg, dict(context) if context is not None else None):
            out.append(pkg)
    return out


def for_product(ref: Any, context: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """``[product_entry]`` for ``ref`` (a name or id) or for every product the caller may see
    when ``ref`` is None. A product the caller may not see is :class:`NotFound`, worded as a
    missing one."""
    resources = visible_resources(context)
    if ref is None:
        return [product_entry(pkg, resources) for pkg in visible_products(context)]
    try:
        pkg = load_product(ref)
    except DomainError as err:
        raise NotFound(err.field, err.zh, err.en) from None
    if not may_see(pkg, dict(context) if context is not None else None):
        raise NotFound("product", f"未找到该产品：{ref}", f"Product not found: {ref}")
    return [product_entry(pkg, resources)]
