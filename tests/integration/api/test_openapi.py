"""The OpenAPI 3.1 description of the ``sanyi_*`` actions (``/api/sanyi/openapi.json``) and its
page (``/api/sanyi/docs``), and the conventions it states, over HTTP: the document validates
and names every registered action with the parameters its refusal of unknown ones uses; an
unknown parameter is a 409 naming it (in Chinese and English) for every action, before
authorization, also for anonymous callers; list actions answer ``{count, results}``; labels
are taken where codes are."""
from __future__ import annotations

import json
import re

import pytest
from ckan.tests import factories
from openapi_spec_validator import validate

HAN = re.compile(r"[\u4e00-\u9fff]")
ACTION = "/api/3/action/"


def _registered() -> dict:
    from ckan.logic import _actions
    from ckan.plugins import toolkit as tk
    tk.get_action("package_show")  # fills CKAN's registry
    return {n: f for n, f in _actions.items() if n.startswith("sanyi_")}


@pytest.fixture
def doc(app, sanyi_orgs):
    res = app.get("/api/sanyi/openapi.json")
    assert res.status_code == 200 and res.content_type.startswith("application/json")
    return json.loads(res.get_data(as_text=True))


def test_the_document_validates_and_describes_every_action(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.1")
    registered = _registered()
    assert len(registered) >= 60
    paths = {p.removeprefix(ACTION) for p in doc["paths"]}
    assert paths == set(registered)
    for name, action in registered.items():
        post = doc["paths"][ACTION + name]["post"]
        body = post["requestBody"]["content"]["application/json"]["schema"]
        assert body["additionalProperties"] is False
        # the document lists exactly what the action takes (the strict check's list)
        assert set(body["properties"]) == set(action.sanyi_parameters), name
        assert {"403", "409", "413"} <= set(post["responses"]), name
        assert HAN.search(post["summary"]), name
        assert ("get" in doc["paths"][ACTION + name]) == bool(
            getattr(action, "side_effect_free", False)), name
    quote = doc["paths"][ACTION + "sanyi_price_quote"]["get"]
    params = {p["name"]: p for p in quote["parameters"]}
    assert params["product"]["required"] and not params["date"]["required"]
    unit = params["unit"]["schema"]
    assert unit["anyOf"][0]["enum"] == ["copy", "call", "record", "month", "year"]
    assert "次" in unit["anyOf"][1]["enum"] and "次" in unit["x-sanyi-labels"]["call"]
    cap = doc["paths"][ACTION + "sanyi_revenue_cap_set"]["post"]["requestBody"]
    fen = cap["content"]["application/json"]["schema"]["properties"]["tax_fen"]
    assert fen["type"] == "integer" and fen["x-sanyi-unit"] == "fen"
    listing = doc["paths"][ACTION + "sanyi_order_list"]["post"]["responses"]["200"]
    result = listing["content"]["application/json"]["schema"]["properties"]["result"]
    assert result["required"] == ["count", "results"]
    conventions = doc["info"]["x-sanyi-conventions"]
    assert {"money", "unit", "lists", "unknown", "labels", "errors"} <= set(conventions)
    assert "_fen" in conventions["money"]["en"] and "分" in conventions["money"]["zh"]


def test_an_unknown_parameter_is_a_409_for_every_action(app, sanyi_orgs):
    """Each documented action, as anonymous: POST (and GET for reads) with one parameter it
    does not take is a 409 naming it, in both languages; never a 500, never ignored."""
    refused = []
    for name, action in sorted(_registered().items()):
        res = app.post(ACTION + name, json={"no_such_parameter": "1"})
        assert res.status_code == 409, (name, res.status_code, res.get_data(as_text=True)[:300])
        message = res.get_json()["error"]["no_such_parameter"][0]
        assert "未知参数" in message and "unknown parameter" in message, (name, message)
        if getattr(action, "side_effect_free", False):
            res = app.get(ACTION + name, query_string={"zzz": "1"})
            assert res.status_code == 409 and "zzz" in res.get_json()["error"], name
        refused.append(name)
    assert len(refused) >= 60
    # a known parameter alone goes on to the action's own checks (here: authorization)
    res = app.post(ACTION + "sanyi_order_list", json={"limit": 5})
    assert res.status_code == 403


def test_list_actions_answer_count_and_results(app, sanyi_orgs):
    admin = factories.Sysadmin()
    token = factories.APIToken(user=admin["name"])["token"]
    lists = [n for n in _registered() if n.endswith("_list")]
    assert len(lists) >= 15
    for name in lists:
        res = app.post(ACTION + name, json={}, headers={"Authorization": token})
        assert res.status_code == 200, (name, res.get_data(as_text=True)[:300])
        result = res.get_json()["result"]
        assert isinstance(result, dict) and isinstance(result["results"], list), name
        assert isinstance(result["count"], int) and result["count"] >= len(result["results"]), name


def test_labels_are_taken_where_codes_are(app, sanyi_orgs):
    def errors(**data):
        res = app.post(ACTION + "sanyi_price_quote", json=dict(product="no-such", quantity=1,
                                                               **data))
        assert res.status_code == 409
        return res.get_json()["error"]

    assert {"use", "unit"} <= set(errors(use="挖矿", unit="斤"))
    label = errors(use="产业发展、行业发展", unit="次")
    assert "use" not in label and "unit" not in label and "product" in label
    assert not {"use", "unit"} & set(errors(use="公共治理、公益事业", unit="按服务次数"))
    from ckanext.sanyi.applications import forms
    assert forms.use("公共治理、公益事业") == "public_interest"
    assert forms.billing_unit("条") == "record" and forms.decision("退回") == "return"


@pytest.mark.parametrize("prefix, words", [("", ("平台操作", "约定", "金额一律为整数")),
                                           ("/en", ("the portal", "Conventions", "fen"))])
def test_the_page_renders_from_the_document(app, sanyi_orgs, prefix, words):
    res = app.get(prefix + "/api/sanyi/docs")
    assert res.status_code == 200
    page = res.get_data(as_text=True)
    for word in words:
        assert word in page, word
    assert 'id="action-sanyi_price_quote"' in page and "/api/sanyi/openapi.json" in page
    assert "sanyi_application_data_items" in page
    # the footer's API link leads here
    home = app.get(prefix + "/").get_data(as_text=True)
    assert f'href="{prefix}/api/sanyi/docs"' in home
