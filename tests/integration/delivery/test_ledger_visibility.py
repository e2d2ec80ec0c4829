"""Who sees which ledger rows over the API (``/api/3/action/sanyi_ledger_list`` and
``sanyi_usage_daily``): nobody anonymous or without a role; a merchant its own rows; a data
unit the rows touching its resources; the bureau and the operator all."""
from __future__ import annotations

import pytest
from ckan import model
from ckan.tests import factories
from quota_calls import entitlement, merchant

from ckanext.sanyi.delivery import ledger

pytestmark = pytest.mark.usefixtures("with_plugins")

ROWS = {  # request id: (merchant, data items read, outcome)
    "a-wj": ("merchant_user", ["hypertension:患者编号"], "granted"),
    "a-yb": ("merchant_user", ["insured:参保状态"], "granted"),
    "b-both": ("merchant_two", ["hypertension:随访日期", "insured:参保状态"], "granted"),
    "b-refused": ("merchant_two", [], "refused"),
}
SEES = {
    "merchant_user": {"a-wj", "a-yb"},
    "merchant_two": {"b-both", "b-refused"},
    "wj_editor": {"a-wj", "b-both"},
    "yb_editor": {"a-yb", "b-both"},
    "bureau_user": set(ROWS),
    "operator_user": set(ROWS),
}


def _dataset(name: str, org_id: str) -> None:
    model.Session.add(model.Package(name=name, title=name, type="dataset", state="active",
                                    owner_org=org_id))


@pytest.fixture
def world(sanyi_orgs):
    factories.User(name="no_role")
    factories.User(name="merchant_two")
    orgs = sanyi_orgs["orgs"]
    _dataset("hypertension", orgs["wj"]["id"])
    _dataset("insured", orgs["yb"]["id"])
    model.Session.commit()
    ents = {}
    for name in ("merchant_user", "merchant_two"):
        row = merchant(model.User.get(name).id)
        ents[name] = entitlement(10, merchant_id=row["id"])
    for request_id, (who, items, outcome) in ROWS.items():
        ent = ents[who]
        ledger.record(request_id=request_id, outcome=outcome, merchant_id=ent["merchant_id"],
                      entitlement_id=ent["id"], product=ent["product_name"],
                      operation="risk-assessment", units=1, fields_read=items,
                      error=None if outcome == "granted" else "out_of_scope",
                      payload={"id_number": "420802195803124021"})
    model.Session.commit()
    tokens = {name: factories.APIToken(user=name)["token"]
              for name in ("no_role", *SEES)}
    return {"tokens": tokens, "entitlements": ents}


def _get(app, world, who: str, action: str, status: int = 200, **params):
    headers = {"Authorization": world["tokens"][who]} if who != "anonymous" else {}
    res = app.get(f"/api/3/action/{action}", query_string=params, headers=headers,
                  status=status)
    return res.json


@pytest.mark.parametrize("who", ["anonymous", "no_role"])
def test_nobody_without_a_role_sees_the_ledger(app, world, who):
    for action in ("sanyi_ledger_list", "sanyi_usage_daily"):
        body = _get(app, world, who, action, status=403)
        assert body["success"] is False


@pytest.mark.parametrize("who", sorted(SEES))
def test_each_role_sees_its_rows(app, world, who):
    body = _get(app, world, who, "sanyi_ledger_list")["result"]
    assert {r["request_id"] for r in body["results"]} == SEES[who]
    assert body["count"] == len(SEES[who])
    assert all("420802195803124021" not in str(r) for r in body["results"])


def test_filters_and_paging_apply_within_what_one_sees(app, world):
    mine = world["entitlements"]["merchant_two"]["id"]
    body = _get(app, world, "wj_editor", "sanyi_ledger_list", entitlement_id=mine)["result"]
    assert [r["request_id"] for r in body["results"]] == ["b-both"]
    body = _get(app, world, "bureau_user", "sanyi_ledger_list", outcome="refused")["result"]
    assert [r["request_id"] for r in body["results"]] == ["b-refused"]
    body = _get(app, world, "bureau_user", "sanyi_ledger_list", limit=1, offset=1)["result"]
    assert body["count"] == 4 and len(body["results"]) == 1
    other = world["entitlements"]["merchant_user"]["id"]
    body = _get(app, world, "merchant_two", "sanyi_ledger_list", entitlement_id=other)["result"]
    assert body == {"count": 0, "results": []}
    body = _get(app, world, "bureau_user", "sanyi_ledger_list", status=409, outcome="x")
    assert "outcome" in body["error"]


def test_usage_per_day_is_limited_to_what_one_sees(app, world):
    today = _get(app, world, "merchant_user", "sanyi_usage_daily")["result"]
    assert [(r["entitlement_id"], r["granted"], r["refused"]) for r in today["results"]] == [
        (world["entitlements"]["merchant_user"]["id"], 2, 0)]
    unit = _get(app, world, "yb_editor", "sanyi_usage_daily")["result"]
    assert sorted((r["granted"], r["refused"]) for r in unit["results"]) == [(1, 0), (1, 0)]
    everything = _get(app, world, "bureau_user", "sanyi_usage_daily")["result"]
    assert sum(r["granted"] + r["refused"] for r in everything["results"]) == 4
