"""``ckan sanyi load-demo`` (ckanext.sanyi.catalog.demo.load) is idempotent and complete."""
from __future__ import annotations

import csv
import os

import pytest
from ckan import model
from ckan.tests import helpers
from sqlalchemy import text

from ckanext.sanyi.catalog import demo, importer, units

pytestmark = pytest.mark.usefixtures("with_plugins")


def _catalog_rows():
    with open(os.path.join(demo.DATA, "catalog-first-batch.csv"), encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _state():
    s = model.Session
    q = lambda sql: [tuple(r) for r in s.execute(text(sql))]  # noqa: E731
    return {
        "packages": q("SELECT name, type, state, private, owner_org, metadata_modified, "
                      "extras::text FROM package ORDER BY name"),
        "orgs": q('SELECT name, title, state FROM "group" ORDER BY name'),
        "users": q('SELECT name, sysadmin, state FROM "user" ORDER BY name'),
        "members": q("SELECT table_name, table_id, group_id, capacity, state FROM member "
                     "ORDER BY table_id, group_id, capacity"),
        "index": q("SELECT id, name, metadata_modified FROM sanyi_search_doc ORDER BY id"),
    }


def test_load_demo_twice_changes_nothing(clean_db):
    demo.load(echo=lambda s: None)
    first = _state()
    activities = model.Session.execute(text("SELECT count(*) FROM activity")).scalar()
    demo.load(echo=lambda s: None)
    assert _state() == first
    # the second run adds only the import run's own record
    assert model.Session.execute(text("SELECT count(*) FROM activity")).scalar() \
        == activities + 1

    counts = {t: sum(1 for p in first["packages"] if p[1] == t) for t in ("dataset", "product")}
    # the first batch and the three source resources of the data domain (数据域补充)
    assert counts == {"dataset": 57 + 3, "product": 8}
    assert len([u for u in first["users"] if not u[0].startswith("default")]) >= 6


def test_demo_has_every_catalog_row_and_linked_products(clean_db):
    demo.load(echo=lambda s: None)
    rows = _catalog_rows()
    assert len(rows) == 57
    for row in rows:
        name = importer.resource_name(units.unit_name(row["数源单位"]), row["数据资源名称"])
        pkg = helpers.call_action("package_show", id=name)
        assert pkg["title"] == row["数据资源名称"]
        assert pkg["organization"]["title"] == row["数源单位"]
        assert pkg["private"] is False and pkg["state"] == "active"
        assert pkg["update_cycle"] == ("realtime" if row["更新周期"] == "实时" else "monthly")

    products = helpers.call_action("package_search", fq="+dataset_type:product",
                                   rows=50)["results"]
    assert len(products) == 8
    with open(os.path.join(demo.DATA, "products-first-batch.csv"), encoding="utf-8-sig") as f:
        listed = {r["应用场景"]: r for r in csv.DictReader(f)}
    with open(os.path.join(demo.DATA, "product-sources.csv"), encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        next(reader)
        sources = dict(reader)
    for p in products:
        row = listed[p["scenario"]]
        assert p["status"] == "approved" and p["private"] is False
        assert p["organization"]["name"] == "san-yi-yun-ying"
        want_units = [units.unit_name(u) for u in row["数据主要供给单位"].split(";") if u]
        assert sorted(p["supplying_units"]) == sorted(want_units)
        for unit in want_units:
            assert model.Group.get(unit) is not None
        refs = sources[p["scenario"]].split(";")
        want = sorted(importer.resource_name(units.unit_name(r.split("/", 1)[0]),
                                             r.split("/", 1)[1]) for r in refs)
        assert sorted(p["source_resources"]) == want
        for name in p["source_resources"]:  # each source is a catalog resource
            assert helpers.call_action("package_show", id=name)["type"] == "dataset"

    # the demo accounts are in their organisations with their roles
    for name, _pw, _full, org, role, sysadmin in demo.ACCOUNTS:
        user = model.User.get(name)
        assert user is not None and bool(user.sysadmin) == sysadmin
        if org:
            org_name = {"bureau": "shi-shu-ju-ju", "operator": "san-yi-yun-ying"}.get(
                org) or units.unit_name(org)
            from ckan import authz
            assert authz.users_role_for_group_or_org(org_name, name) == role
