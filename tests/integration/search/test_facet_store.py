"""Facet counts kept with the index (search/facet_store.py) stay exact.

Over HTTP (``/api/3/action/package_search``), as an anonymous visitor, as a logged-in user with
no role and as a unit's editor (who also sees the unit's private resources): after each
create, update, delete, a resource made private and a user added to / removed from a unit,
the hit count and every facet count of the empty query and of a query filtered by one facet
value (what the store answers) equal those counted directly from the rows (the store
switched off), and the expected figures.
"""
from __future__ import annotations

import json

import pytest
from ckan import model
from ckan.tests import helpers
from sqlalchemy import text

from ckanext.sanyi import search
from ckanext.sanyi.search import facet_store

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db", "clean_index")

FACETS = ["organization", "owner_org", "delivery_methods", "update_cycle", "domain",
          "grade_level", "tags"]
QUERIES = [None, 'update_cycle:"monthly"', 'tags:"慢病"', 'organization:"shi-yi-bao-ju"']


def _dataset(org, name, cycle, tags=(), private=False, user="wj_editor"):
    return helpers.call_action(
        "package_create", context={"user": user}, name=name, title=f"{name} 数据",
        owner_org=org["id"], domain="health", delivery_methods=["api"], update_cycle=cycle,
        grade_level="L2", open_attribute="authorized", last_updated="2026-01-05",
        private=private, tags=[{"name": t} for t in tags])


def _token(user):
    return helpers.call_action("api_token_create", context={"user": user, "ignore_auth": True},
                               user=user, name="facet-test")["token"]


def _get(app, token, fq, lang=""):
    params = {"facet.field": json.dumps(FACETS), "rows": 0, "facet.limit": -1,
              "include_private": "true"}
    if fq:
        params["fq"] = fq
    headers = {"Authorization": token} if token else {}
    res = app.get(f"{lang}/api/3/action/package_search", query_string=params, headers=headers)
    assert res.status_code == 200, res.body
    body = res.json["result"]
    return body["count"], {k: {i["name"]: i["count"] for i in v["items"]}
                           for k, v in body["search_facets"].items()}


def _counts(app, token, fq):
    """(hits, facets) from the store, checked against counting the rows directly."""
    backend = search.get_backend()
    req_fq = [fq] if fq else []
    # the request really is one the store answers (visibility conditions and one facet value)
    from ckanext.sanyi.search.connection import build_request
    req = build_request("", {"fq": ["+site_id:default +state:active", *req_fq],
                             "facet": "true", "facet.field": FACETS})
    assert facet_store.plan(req, backend.stores_facet) is not None
    stored = _get(app, token, fq)
    backend.facet_store = False
    backend.cache.clear()
    try:
        direct = _get(app, token, fq, lang="/en")
    finally:
        backend.facet_store = True
        backend.cache.clear()
    assert stored == direct, (fq, stored, direct)
    return stored


def _all(app, tokens):
    return {who: {fq: _counts(app, tok, fq) for fq in QUERIES} for who, tok in tokens.items()}


def _rows_in_store():
    return model.Session.execute(text(
        f"SELECT coalesce(sum(n), 0) FROM {facet_store.TABLE} c JOIN sanyi_search_facet_value v "
        "ON v.id = c.key_id AND v.term = '*' JOIN sanyi_search_facet_value w "
        "ON w.id = c.facet_id AND w.term = '*'")).scalar()


def test_facet_counts_stay_exact_through_writes_and_permission_changes(app, sanyi_orgs):
    wj, yb = sanyi_orgs["orgs"]["wj"], sanyi_orgs["orgs"]["yb"]
    from ckan.tests import factories
    factories.User(name="no_role_user")
    factories.Sysadmin(name="fs-admin")
    tokens = {"anonymous": None, "no_role": _token("no_role_user"),
              "wj_editor": _token("wj_editor")}
    _dataset(wj, "a-gxy", "monthly", ["慢病"])
    _dataset(wj, "a-tnb", "quarterly", ["慢病"])
    _dataset(wj, "a-priv", "monthly", ["慢病"], private=True)
    _dataset(yb, "b-js", "monthly", ["医保"], user="yb_editor")
    _dataset(yb, "b-priv", "yearly", [], private=True, user="yb_editor")

    c = _all(app, tokens)
    assert c["anonymous"][None][0] == 3
    assert c["anonymous"][None][1]["update_cycle"] == {"monthly": 2, "quarterly": 1}
    assert c["no_role"] == c["anonymous"]
    assert c["wj_editor"][None][0] == 4  # the unit's private resource too
    assert c["wj_editor"][None][1]["tags"] == {"慢病": 3, "医保": 1}
    assert c["wj_editor"]['update_cycle:"monthly"'][0] == 3
    assert c["wj_editor"]['organization:"shi-yi-bao-ju"'][0] == 1  # not yb's private one
    assert c["anonymous"]['tags:"慢病"'][1]["organization"] == {"shi-wei-jian-wei": 2}
    assert _rows_in_store() == 5

    # create
    _dataset(yb, "b-new", "monthly", ["慢病"], user="yb_editor")
    c = _all(app, tokens)
    assert c["anonymous"][None][0] == 4
    assert c["anonymous"]['tags:"慢病"'][1]["organization"] == \
        {"shi-wei-jian-wei": 2, "shi-yi-bao-ju": 1}

    # update: the facet values move
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="a-gxy",
                        update_cycle="daily", tags=[{"name": "医保"}])
    c = _all(app, tokens)
    assert c["anonymous"][None][1]["update_cycle"] == {"monthly": 2, "quarterly": 1, "daily": 1}
    assert c["anonymous"]['tags:"慢病"'][0] == 2
    assert c["anonymous"]['update_cycle:"monthly"'][1]["tags"] == {"医保": 1, "慢病": 1}

    # delete
    helpers.call_action("package_delete", context={"user": "yb_editor"}, id="b-js")
    c = _all(app, tokens)
    assert c["anonymous"][None][0] == 3
    assert c["anonymous"]['organization:"shi-yi-bao-ju"'][0] == 1

    # a public resource made private: gone for the public, still there for its unit
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="a-tnb", private=True)
    c = _all(app, tokens)
    assert c["anonymous"][None][0] == 2
    assert c["wj_editor"][None][0] == 4
    assert c["wj_editor"][None][1]["update_cycle"].get("quarterly") == 1
    assert "quarterly" not in c["anonymous"][None][1]["update_cycle"]

    # a user added to a unit sees its private resources; removed, no longer
    helpers.call_action("organization_member_create", context={"user": "fs-admin"},
                        id=yb["id"], username="no_role_user", role="member")
    c = _all(app, tokens)
    assert c["no_role"][None][0] == c["anonymous"][None][0] + 1
    assert c["no_role"][None][1]["update_cycle"].get("yearly") == 1
    helpers.call_action("organization_member_delete", context={"user": "fs-admin"},
                        id=yb["id"], username="no_role_user")
    c = _all(app, tokens)
    assert c["no_role"] == c["anonymous"]
    assert _rows_in_store() == model.Session.execute(text(
        "SELECT count(*) FROM sanyi_search_doc")).scalar()


def test_a_rolled_back_write_leaves_the_counts(app, sanyi_orgs):
    wj = sanyi_orgs["orgs"]["wj"]
    _dataset(wj, "keep", "monthly")
    before = _counts(app, None, None)
    from ckanext.sanyi.search.backend import prepare
    doc = {"id": "x-1", "name": "x-1", "title": "回滚", "site_id": "default", "state": "active",
           "capacity": "public", "dataset_type": "dataset", "entity_type": "package",
           "permission_labels": ["public"], "update_cycle": "monthly", "index_id": "x-1"}
    search.get_backend().add([prepare(doc)])
    model.Session.rollback()
    assert _counts(app, None, None) == before
    assert before[0] == 1


def test_facet_values_emptied_under_a_running_process_are_learnt_again(app, sanyi_orgs):
    """A process's map of facet ids outlives a TRUNCATE of the index tables (an operator
    emptying the index before a rebuild); the ids assigned afterwards start again, and the
    counts must follow them, not the ids the process learnt before."""
    wj = sanyi_orgs["orgs"]["wj"]
    _dataset(wj, "t-one", "monthly", ["慢病"])
    assert _get(app, None, None)[1]["tags"] == {"慢病": 1}  # the process learns the ids
    model.Session.execute(text("TRUNCATE sanyi_search_doc, sanyi_search_facet_value, "
                               f"{facet_store.TABLE} RESTART IDENTITY"))
    model.Session.commit()
    assert _get(app, None, None)[0] == 0
    _dataset(wj, "t-two", "yearly", ["医保"])  # its values take the ids the old ones had
    hits, facets = _get(app, None, None)
    assert hits == 1
    assert facets["tags"] == {"医保": 1}
    assert facets["update_cycle"] == {"yearly": 1}


def _store_matches_rows():
    """Every count of the store is the one counted afresh from the index rows."""
    group = "site_id, state, capacity, dataset_type, entity_type, labels"
    fresh = (f"SELECT {group}, k.id AS key_id, f.id AS facet_id, count(*) AS n "
             "FROM sanyi_search_doc r, unnest(r.facet_ids) k(id), unnest(r.facet_ids) f(id) "
             f"GROUP BY {group}, key_id, facet_id")
    kept = f"SELECT {group}, key_id, facet_id, n FROM {facet_store.TABLE} WHERE n <> 0"
    return model.Session.execute(text(
        f"SELECT (SELECT count(*) FROM ({fresh} EXCEPT ALL {kept}) a), "
        f"(SELECT count(*) FROM ({kept} EXCEPT ALL {fresh}) b)")).one() == (0, 0)


def test_one_statement_that_changes_some_rows_groups_and_only_the_texts_of_others(
        app, sanyi_orgs):
    """One UPDATE of many index rows (as a catalog re-import writes them): rows whose group
    and facet values stay take no part in the counts, the others move theirs."""
    wj, yb = sanyi_orgs["orgs"]["wj"], sanyi_orgs["orgs"]["yb"]
    _dataset(wj, "s-gxy", "monthly", ["慢病"])
    _dataset(wj, "s-tnb", "quarterly", ["慢病"])
    _dataset(yb, "s-js", "monthly", ["医保"], user="yb_editor")
    assert _counts(app, None, None)[0] == 3
    model.Session.execute(text(
        "UPDATE sanyi_search_doc SET title = title || ' 修订', "
        "state = CASE WHEN name = 's-gxy' THEN 'draft' ELSE state END, "
        "facet_ids = CASE WHEN name = 's-js' THEN facet_ids[1:2] ELSE facet_ids END"))
    model.Session.commit()
    assert _store_matches_rows()
    hits, facets = _counts(app, None, None)
    assert hits == 2  # the draft is not counted for the public
    assert facets["update_cycle"].get("quarterly") == 1
    assert "shi-wei-jian-wei" in facets["organization"]
    # texts only: nothing moves
    model.Session.execute(text("UPDATE sanyi_search_doc SET title = title || ' 再修订'"))
    model.Session.commit()
    assert _store_matches_rows()
    assert _counts(app, None, None) == (hits, facets)
