"""Asking for some facet fields counts exactly what asking for all of them counts for those
fields (the rows' facet ids of other fields are left out before grouping), with the hit
count intact, for a full-text query and for a filtered one the facet-count store does not
answer; over HTTP, in Chinese and English, as an anonymous visitor and as a logged-in user
with no role."""
from __future__ import annotations

import json

import pytest
from ckan.tests import factories, helpers

from ckanext.sanyi import search

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")

ALL = ["organization", "owner_org", "delivery_methods", "update_cycle", "domain",
       "grade_level", "tags", "license_id", "res_format"]


def _dataset(org, name, cycle, tags=()):
    return helpers.call_action(
        "package_create", context={"user": "wj_editor"}, name=name, title=f"{name} 药品数据",
        owner_org=org["id"], domain="health", delivery_methods=["api"], update_cycle=cycle,
        grade_level="L2", open_attribute="authorized", last_updated="2026-01-05",
        tags=[{"name": t} for t in tags])


def _search(app, lang, fields, **params):
    query = {"facet.field": json.dumps(fields), "rows": 1, "facet.limit": -1, **params}
    res = app.get(f"{lang}/api/3/action/package_search", query_string=query)
    assert res.status_code == 200, res.body
    body = res.json["result"]
    return body["count"], {k: {i["name"]: i["count"] for i in v["items"]}
                           for k, v in body["search_facets"].items()}


@pytest.mark.parametrize("params", [
    {"q": "药品"},
    {"q": "", "fq": 'update_cycle:"monthly" tags:"慢病"'},  # two values: counted from rows
])
@pytest.mark.parametrize("lang", ["", "/en"])
@pytest.mark.parametrize("who", ["anonymous", "no_role"])
def test_a_subset_of_facet_fields_counts_as_all_fields_do(app, sanyi_orgs, login, params, lang,
                                                          who):
    wj = sanyi_orgs["orgs"]["wj"]
    for i, (cycle, tags) in enumerate([("monthly", ["慢病"]), ("monthly", ["慢病", "医保"]),
                                       ("yearly", ["慢病"]), ("monthly", [])]):
        _dataset(wj, f"subset-{i}", cycle, tags)
    if who == "no_role":
        factories.User(name="subset_no_role")
        login(app, "subset_no_role")
    backend = search.get_backend()
    backend.cache.clear()
    hits_all, facets_all = _search(app, lang, ALL, **params)
    assert hits_all == (4 if params["q"] else 2)
    for fields in (["organization"], ["tags", "update_cycle"], ["grade_level"]):
        backend.cache.clear()
        hits, facets = _search(app, lang, fields, **params)
        assert hits == hits_all
        assert facets == {f: facets_all[f] for f in fields}
    assert facets_all["tags"]["慢病"] == (3 if params["q"] else 2)
