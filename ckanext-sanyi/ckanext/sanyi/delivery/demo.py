"""Demo of the data domain: the catalog resources behind its tables and a generated population.

* :func:`catalog_resources` (run by the catalog demo before the products): adds the source
  resources the published first batch lacks (``Source.new_resource``: 医保结算单据数据,
  门诊处方数据, 药品不良反应监测数据) as the batch 数据域补充, and describes every resource that
  backs a domain table: its field list (``data_fields``, from :func:`catalog_link.field_list`)
  and ``sample_available: yes``.
* :func:`ensure_domain` (run by ``ckan sanyi load-demo``): a generated domain of
  ``ckanext.sanyi.demo.domain_persons`` persons (seed :data:`SEED`, today = today in Beijing)
  when the domain is empty or holds a generation of other parameters (``loads``), so running
  the demo twice the same day generates once; a domain holding extracts loaded by data units
  is left alone. 0 persons leaves the domain alone (test configurations).

Idempotent: nothing is written when everything is already as described.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..catalog import importer, units
from ..common import clock
from .datadomain import catalog_link, generate, store
from .datadomain.sources import SOURCES, Source

__all__ = ["BATCH", "SEED", "catalog_resources", "ensure_domain"]

BATCH = "数据域补充"
SEED = 20261201

Echo = Callable[[str], None]


def _add_missing(site: str, today: dt.date) -> int:
    """Create the source resources the first batch lacks (batch 数据域补充) where missing; each
    validated and stored as the catalog importer does a new row. Returns how many."""
    added = 0
    for s in SOURCES:
        if not s.new_resource:
            continue
        org = units.find_unit(s.unit_title) or units.create_unit(s.unit_title, site)
        name = importer.resource_name(org.name, s.resource_title)
        if model.Package.get(name) is not None:
            continue
        row = {"unit": s.unit_title, "title": s.resource_title, "delivery_methods": "接口;库表;文件",
               "update_cycle": "定期",
               "notes": f"{s.zh}（{s.unit_title}）：数据域中的源表，字段见字段列表。"}
        tk.get_action("package_create")({"user": site, "ignore_auth": True},
                                        importer.row_to_dataset(row, org, BATCH, today))
        added += 1
    return added


def _fields(value: Any) -> list[tuple[str, str, str]]:
    return [(str(f.get("field_name") or ""), str(f.get("field_type") or ""),
             str(f.get("sensitive") or "")) for f in value or []]


def _describe(source: Source, resource: dict[str, Any], site: str) -> bool:
    """Set the resource's field list and sample availability; True when it changed."""
    context = {"user": site, "ignore_auth": True}
    shown = tk.get_action("package_show")(dict(context), {"id": resource["id"]})
    want = catalog_link.field_list(source)
    if _fields(shown.get("data_fields")) == _fields(want) and \
            shown.get("sample_available") == "yes":
        return False
    tk.get_action("package_patch")(dict(context), {
        "id": resource["id"], "data_fields": want, "sample_available": "yes"})
    return True


def catalog_resources(site: str, today: dt.date, echo: Echo = print) -> int:
    """Add the missing source resources and describe every resource backed by a domain table;
    returns how many resources changed."""
    added = _add_missing(site, today)
    found = catalog_link.resources()
    changed = added
    for s in SOURCES:
        if s.table in found and _describe(s, found[s.table], site):
            changed += 1
    missing = [s.resource_title for s in SOURCES if s.table not in found]
    echo(f"数据域目录 / domain resources: {len(found)} described, {added} added"
         + (f", missing: {'、'.join(missing)}" if missing else ""))
    return changed


def ensure_domain(echo: Echo = print, today: dt.date | None = None) -> bool:
    """Generate the demo domain when it is empty or holds another generation; True if
    generated."""
    persons = int(tk.config.get("ckanext.sanyi.demo.domain_persons") or 0)
    if persons <= 0:
        echo("数据域 / data domain: not generated (ckanext.sanyi.demo.domain_persons = 0)")
        return False
    today = today or clock.today()
    store.ensure_schema()
    with store.begin() as conn:
        if generate.current_origin(conn) == generate.origin(persons, SEED, today):
            echo(f"数据域 / data domain: unchanged ({generate.origin(persons, SEED, today)})")
            return False
        loaded = sorted(t for t, where in generate.last_origins(conn).items()
                        if not where.startswith("generate:"))
        if loaded and not generate.is_empty(conn):
            echo("数据域 / data domain: holds loaded extracts, not regenerated "
                 f"({', '.join(loaded)})")
            return False
        report = generate.generate(conn, persons=persons, seed=SEED, today=today,
                                   loaded_by="load-demo")
    echo(f"数据域 / data domain: {persons:,} persons, {report.total:,} rows in "
         f"{report.seconds:.1f} s ({report.origin})")
    return True
