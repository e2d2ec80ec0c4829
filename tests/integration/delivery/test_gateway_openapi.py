"""The delivery API's description: the OpenAPI 3.1 document is valid (openapi-spec-validator),
has one path per operation of each listed product with the operation's own schemas, the OAuth
client credentials scheme, every refusal and the token endpoints; real answers and refusals
validate against it; the documentation page renders from it in Chinese and English without
anything from elsewhere; ``Authorization: Bearer garbage`` never makes a page or an endpoint
answer 500, nor logs anyone in."""
from __future__ import annotations

import logging
import re

import jsonschema
import pytest
import sqlalchemy as sa
from ckan import model
from gateway_calls import NOON, P1, call, entitle, product_name, risk_input, token
from openapi_spec_validator import validate

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import gateway
from ckanext.sanyi.delivery.operations import spec

pytestmark = pytest.mark.usefixtures("with_plugins")
OPENAPI = "/api/delivery/openapi.json"
DOCS = "/api/delivery/docs"
STATUSES = {"200", "400", "401", "403", "404", "405", "413", "429", "500", "503"}


def _doc(app) -> dict:
    res = app.get(OPENAPI)
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    assert res.headers["Content-Type"].startswith("application/json")
    return res.json


def _operations() -> dict[str, spec.Operation]:
    return {f"/api/delivery/v1/{product_name(s)}/{op.name}": op
            for s, ops in spec.PRODUCTS.items() for op in ops}


def test_the_document_is_valid_openapi_3_1(app, gateway_world):
    doc = _doc(app)
    assert doc["openapi"] == "3.1.0"
    validate(doc)  # openapi-spec-validator: OpenAPI 3.1 schema and the JSON Schemas inside


def test_one_path_per_operation_with_its_schemas_and_every_refusal(app, gateway_world):
    doc = _doc(app)
    ops = _operations()
    calls = {p for p in doc["paths"] if p.startswith("/api/delivery/v1/")}
    assert calls == set(ops)
    schemas = doc["components"]["schemas"]
    for path, op in ops.items():
        post = doc["paths"][path]["post"]
        assert set(post["responses"]) == STATUSES
        for status, ref in post["responses"].items():
            if status != "200":
                target = doc["components"]["responses"][ref["$ref"].rsplit("/", 1)[1]]
                assert target["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}
                assert "X-Request-ID" in target["headers"]
        body = post["requestBody"]["content"]["application/json"]
        key = body["schema"]["$ref"].rsplit("/", 1)[1]
        expected = op.input_schema
        expected.pop("$schema")
        assert schemas[key] == expected
        assert post["x-sanyi-text"]["zh"]["title"] == op.title_zh
        assert {s for req in post["security"] for s in req["oauth2"]} == {
            path.split("/")[4], f"{path.split('/')[4]}:{op.name}"}
        jsonschema.Draft202012Validator(expected).validate(body["example"])
    codes = set(schemas["Error"]["properties"]["error"]["enum"])
    assert codes == set(gateway.ERRORS)
    listed = {c for r in doc["components"]["responses"].values()
              for c in re.findall(r"`(\w+)`", r["description"])}
    assert listed == set(gateway.ERRORS)
    assert {e["code"] for e in doc["x-sanyi-error-codes"]} == set(gateway.ERRORS)
    assert "WWW-Authenticate" in doc["components"]["responses"]["InvalidToken"]["headers"]
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                   "Retry-After"):
        assert header in doc["components"]["responses"]["TooManyRequests"]["headers"]


def test_the_oauth_scheme_and_endpoints(app, gateway_world):
    doc = _doc(app)
    flow = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert re.fullmatch(r"https?://[^/]+.*/api/delivery/oauth/token", flow["tokenUrl"])
    underwriting = gateway_world["underwriting"]
    assert {underwriting, f"{underwriting}:risk-assessment"} <= set(flow["scopes"])
    for path in ("/api/delivery/oauth/token", "/api/delivery/oauth/revoke",
                 "/api/delivery/oauth/introspect"):
        assert "post" in doc["paths"][path]
        assert "application/x-www-form-urlencoded" in \
            doc["paths"][path]["post"]["requestBody"]["content"]
    token_body = doc["paths"]["/api/delivery/oauth/token"]["post"]["requestBody"]
    assert token_body["content"]["application/x-www-form-urlencoded"]["schema"][
        "properties"]["grant_type"] == {"const": "client_credentials"}


def test_answers_and_refusals_validate_against_the_document(app, gateway_world):
    doc = _doc(app)
    product = gateway_world["underwriting"]
    key = f"{product}.risk-assessment"

    def check(body, name):
        schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
        jsonschema.Draft202012Validator(schema).validate(body)

    with clock.freeze(NOON):
        ent = entitle(gateway_world, quota=1)
        tok = token(app, ent)
        granted = call(app, tok, product, "risk-assessment", risk_input(P1))
        check(granted.json, f"{key}.answer")
        for res in (call(app, tok, product, "risk-assessment", risk_input(P1)),
                    call(app, tok, product, "risk-assessment", {"id_number": "1"}),
                    call(app, "garbage" * 5, product, "risk-assessment", risk_input())):
            assert res.status_code in (400, 401, 429)
            check(res.json, "Error")


def test_an_unlisted_product_is_left_out_of_the_description(app, gateway_world):
    claims = gateway_world["claims"]
    pkg = model.package_table
    try:
        model.Session.execute(pkg.update().where(pkg.c.name == claims).values(private=True))
        model.Session.commit()
        gateway.forget_caches()
        doc = _doc(app)
        assert not [p for p in doc["paths"] if f"/{claims}/" in p]
        assert claims not in doc["components"]["securitySchemes"]["oauth2"]["flows"][
            "clientCredentials"]["scopes"]
        assert gateway.route(claims, "visit-verification") is not None  # still routed
    finally:
        model.Session.execute(pkg.update().where(pkg.c.name == claims).values(private=False))
        model.Session.commit()
        gateway.forget_caches()


# -- the documentation page --------------------------------------------------------------------
def _no_outside_assets(html: str) -> None:
    loaded = re.findall(r'\bsrc="([^"]+)"', html) + \
        re.findall(r'<link\b[^>]*\bhref="([^"]+)"', html)
    for url in loaded:
        if url.startswith(("http://", "https://", "//")):
            assert re.match(r"https?://(127\.0\.0\.1|localhost|test\.ckan\.net)", url), url
    assert "swagger" not in html.lower() and "cdn" not in html.lower()


def test_the_documentation_page_in_chinese(app, gateway_world):
    res = app.get(DOCS)
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "数据产品接口文档" in html and "错误代码" in html and "输入" in html
    for path, op in _operations().items():
        assert f"operation-{op.name}" in html and op.title_zh in html and path in html
        for name in op.input_schema["properties"]:
            assert f"<code>{name}</code>" in html
    for code in gateway.ERRORS:
        assert f"<code>{code}</code>" in html
    assert "grant_type=client_credentials" in html and "Authorization: Bearer $ACCESS_TOKEN" in html
    assert "公民身份号码" in html  # the Chinese half of a field's description
    assert "Resident identity number" not in html
    _no_outside_assets(html)


def test_the_documentation_page_in_english(app, gateway_world):
    res = app.get("/en" + DOCS)
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "Data product API documentation" in html and "Error codes" in html
    for op in _operations().values():
        assert op.title_en in html
    assert "Resident identity number" in html
    assert "访问令牌缺失" not in html  # the error table in English
    _no_outside_assets(html)


# -- a bearer token that is none of ours, anywhere ---------------------------------------------
PAGES = ["/", "/dataset/", "/product/", "/organization/", "/user/login", "/dashboard/",
         "/merchant/entitlements", "/bureau/delivery", "/api/3/action/status_show",
         "/api/3/action/package_search", "/api/3/action/sanyi_client_list",
         "/api/3/action/sanyi_ledger_list", "/api/delivery/oauth/token",
         "/api/delivery/oauth/revoke", "/api/delivery/oauth/introspect", OPENAPI, DOCS,
         "/api/delivery/v1/x/y", "/api/delivery/v1/p-aeb08cc0dfa4/risk-assessment"]


@pytest.mark.parametrize("header", ["Bearer garbage", "Bearer", "bearer " + "x" * 5000,
                                    "Bearer \u00e9\u00e8", "Basic garbage"],
                         ids=["garbage", "empty", "long", "latin1", "basic"])
def test_bearer_garbage_never_answers_500(app, gateway_world, caplog, header):
    caplog.set_level(logging.ERROR)
    failed = []
    for path in PAGES:
        for method in ("get", "post"):
            try:
                res = getattr(app, method)(path, headers={"Authorization": header},
                                           follow_redirects=False)
                status = res.status_code
            except Exception as err:  # the test app re-raises what a view let escape
                status = repr(err)[:80]
            if not isinstance(status, int) or status >= 500:
                failed.append((method, path, status))
    assert failed == []
    res = app.get("/dashboard/", headers={"Authorization": header}, follow_redirects=False)
    assert res.status_code in (302, 303, 401, 403)  # nobody logged in
    res = app.get("/api/3/action/sanyi_client_list", headers={"Authorization": header})
    assert res.status_code == 403
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.getMessage() for r in caplog.records]
    model.Session.execute(sa.text("SELECT 1"))
    model.Session.commit()
