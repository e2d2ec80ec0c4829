"""Harvestable by another CKAN and by a DCAT harvester: the requests they send, answered over
HTTP as anonymous.

* ckanext-harvest's CKAN harvester pages ``package_search`` with ``rows``/``start``,
  ``sort=id asc``, ``include_private=true`` and filter terms such as
  ``metadata_modified:[<last run>Z TO *]`` and ``organization:<name>``, until a page is empty;
  it drops ids seen on an earlier page and stops if two pages are identical.
* ckanext-dcat's DCAT RDF harvester reads ``/catalog.ttl`` and follows ``hydra:next`` (its
  catalog endpoint sorts by ``metadata_modified desc`` and filters ``modified_since``).

A full walk returns every public dataset exactly once, and nothing private.
"""
from __future__ import annotations

import datetime as dt

import pytest
import rdflib
from ckan.common import config
from ckan.tests import helpers
from interop_world import PRIVATE, PUBLIC, graph, uri
from rdflib import URIRef
from rdflib.namespace import DCAT, RDF

pytestmark = pytest.mark.usefixtures("with_plugins")

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
SITE = "http://127.0.0.1:5000"
SEARCH = "/api/3/action/package_search"
LISTED = ["chronic-refill"]  # the approved product: public, so a CKAN harvester gets it too


def _show(name: str) -> dict:
    return helpers.call_action("package_show", context={"ignore_auth": True}, id=name)


def _ckan_harvester_walk(app, fq_terms: list[str], rows: int = 3,
                         sort: str = "id asc") -> list[dict]:
    """The CKAN harvester's gather loop (rows/start paging until an empty page)."""
    params = {"rows": str(rows), "start": "0", "sort": sort, "include_private": "true"}
    if fq_terms:
        params["fq"] = " ".join(fq_terms)
    found: list[dict] = []
    previous = None
    for _ in range(50):
        res = app.get(SEARCH, params=params)
        assert res.status_code == 200, (params, res.body[:500])
        assert res.body != previous, f"the paging does not move: {params}"
        previous = res.body
        page = res.json["result"]["results"]
        if not page:
            return found
        assert len(page) <= rows
        found.extend(page)
        params["start"] = str(int(params["start"]) + rows)
    raise AssertionError("the walk did not end")


def _between(stamps: list[str], i: int) -> str:
    """A time after the ``i``-th oldest of ``stamps`` and before the next (the index keeps
    metadata_modified to the millisecond, as Solr does: a filter at a dataset's own
    microsecond would be a test of rounding, not of harvesting)."""
    ordered = sorted(dt.datetime.fromisoformat(s) for s in stamps)
    return (ordered[i] + (ordered[i + 1] - ordered[i]) / 2).isoformat()


def _stamp(value: str) -> str:
    """``metadata_modified`` as the CKAN harvester writes it (microseconds, ``Z``)."""
    return dt.datetime.fromisoformat(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize("rows", [1, 3, 100])
def test_ckan_harvester_walk_by_id_returns_every_public_dataset_once(app, interop, rows):
    made = interop["made"]
    found = _ckan_harvester_walk(app, ["metadata_modified:[2026-01-01T00:00:00Z TO *]"], rows)
    ids = [p["id"] for p in found]
    assert len(ids) == len(set(ids)), "a dataset came twice"
    assert ids == sorted(ids), "not in id order"
    assert set(ids) == {made[n]["id"] for n in PUBLIC + LISTED}
    assert not {made[n]["id"] for n in PRIVATE + ["not-listed"]} & set(ids)
    # what the harvester imports is the package_show form, with our fields
    ht = next(p for p in found if p["name"] == "hypertension")
    assert ht["update_cycle"] == "monthly" and ht["organization"]["name"] == "shi-wei-jian-wei"
    assert [f["field_name"] for f in ht["data_fields"]] == ["患者编号", "随访日期", "收缩压"]


def test_ckan_harvester_since_last_run_and_organization_filters(app, interop):
    made = interop["made"]
    modified = {n: _show(n)["metadata_modified"] for n in PUBLIC + LISTED}
    cut = _between(list(modified.values()), 3)
    since = f"metadata_modified:[{_stamp(cut)} TO *]"
    found = {p["name"] for p in _ckan_harvester_walk(app, [since])}
    assert found == {n for n, m in modified.items() if m >= cut}
    assert 0 < len(found) < len(modified)
    future = "metadata_modified:[2099-01-01T00:00:00.000000Z TO *]"
    assert _ckan_harvester_walk(app, [future]) == []
    # a harvest source limited to some organisations, or excluding one
    assert {p["name"] for p in _ckan_harvester_walk(app, ["organization:shi-yi-bao-ju"])} == \
        {"insured"}
    both = "organization:shi-yi-bao-ju OR organization:shi-wei-jian-wei"
    assert {p["name"] for p in _ckan_harvester_walk(app, [both])} == set(PUBLIC)
    assert {p["name"] for p in _ckan_harvester_walk(app, ["-organization:shi-yi-bao-ju"])} == \
        set(PUBLIC + LISTED) - {"insured"}
    assert {p["name"] for p in _ckan_harvester_walk(app, [since, "organization:shi-yi-bao-ju"])} \
        == {"insured"} & found
    assert made["insured"]["id"]


def test_paging_by_modification_date_desc_is_complete_and_ordered(app, interop):
    found = _ckan_harvester_walk(app, [], rows=2, sort="metadata_modified desc")
    stamps = [p["metadata_modified"] for p in found]
    assert stamps == sorted(stamps, reverse=True)
    assert len({p["id"] for p in found}) == len(found) == len(PUBLIC + LISTED)


def _dcat_walk(app, url: str) -> tuple[list[list[URIRef]], list[rdflib.Graph]]:
    """The DCAT RDF harvester's loop: read a page, follow hydra:next."""
    pages, graphs = [], []
    for _ in range(20):
        g, _res = graph(app, url)
        (catalog,) = set(g.subjects(RDF.type, DCAT.Catalog))
        pages.append(sorted(g.objects(catalog, DCAT.dataset)))
        graphs.append(g)
        following = list(g.objects(None, HYDRA.next))
        if not following:
            return pages, graphs
        url = str(following[0]).removeprefix(SITE)
    raise AssertionError("the DCAT paging did not end")


def test_dcat_harvester_pages_the_catalog(app, interop, monkeypatch):
    monkeypatch.setitem(config, "ckanext.dcat.datasets_per_page", 3)
    made = interop["made"]
    pages, graphs = _dcat_walk(app, "/catalog.ttl")
    assert [len(p) for p in pages] == [3, 3, 1]
    every = [ref for page in pages for ref in page]
    assert len(every) == len(set(every)) and set(every) == {URIRef(uri(made[n])) for n in PUBLIC}
    for g in graphs:
        assert {int(t) for t in g.objects(None, HYDRA.totalItems)} == {len(PUBLIC)}
        # the product is described, as a service, on every page
        assert (URIRef(uri(made["chronic-refill"])), RDF.type, DCAT.DataService) in g
    # the newest first (the catalog endpoint sorts by metadata_modified desc)
    newest = sorted(PUBLIC, key=lambda n: _show(n)["metadata_modified"], reverse=True)[:3]
    assert set(pages[0]) == {URIRef(uri(made[n])) for n in newest}
    # page 2 asked for directly, as a harvester resuming would
    assert _dcat_walk(app, "/catalog.ttl?page=2")[0][0] == pages[1]
    g, _ = graph(app, "/catalog.ttl?page=4")
    assert not list(g.objects(None, DCAT.dataset))
    for bad in ("page=0", "page=x", "modified_since=yesterday"):
        assert app.get(f"/catalog.ttl?{bad}").status_code == 409, bad


def test_dcat_catalog_modified_since_and_filters(app, interop):
    made = interop["made"]
    modified = {n: _show(n)["metadata_modified"] for n in PUBLIC}
    cut = _between(list(modified.values()), 4)
    pages, _ = _dcat_walk(app, f"/catalog.ttl?modified_since={cut}")
    assert set(pages[0]) == {URIRef(uri(made[n])) for n, m in modified.items() if m >= cut}
    assert 0 < len(pages[0]) < len(PUBLIC)
    pages, _ = _dcat_walk(app, "/catalog.ttl?fq=organization:shi-yi-bao-ju")
    assert pages == [[URIRef(uri(made["insured"]))]]
    pages, _ = _dcat_walk(app, "/catalog.ttl?q=高血压")
    assert pages == [[URIRef(uri(made["hypertension"]))]]


def test_a_change_is_harvested_on_the_next_run(app, interop):
    """The last run's time as the filter: only what changed since comes back (written last:
    the world is rebuilt for any test after it)."""
    made = interop["made"]
    newest = max(_show(n)["metadata_modified"] for n in PUBLIC + LISTED)
    last_run = (dt.datetime.fromisoformat(newest) + dt.timedelta(milliseconds=1)).isoformat()
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="inpatient",
                        notes="住院结算明细，按月更新。")
    since = [f"metadata_modified:[{_stamp(last_run)} TO *]"]
    assert [p["name"] for p in _ckan_harvester_walk(app, since)] == ["inpatient"]
    pages, _ = _dcat_walk(app, f"/catalog.ttl?modified_since={last_run}")
    assert pages == [[URIRef(uri(made["inpatient"]))]]
