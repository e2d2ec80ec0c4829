"""The delivery API's calls are answered in the WSGI layer ahead of Flask
(``gateway_wsgi.CallDispatcher``): no Flask request handling runs for them (a
``before_request`` spy sees nothing), yet their answers carry what CKAN's ``after_request``
would add (``Cache-Control`` private and ``no-store``, no ``Pragma``, CORS when configured);
the same call under a language prefix still reaches the blueprint and answers alike; each
request has its own request id."""
from __future__ import annotations

import re

import pytest
from gateway_calls import NOON, call, call_url, entitle, ledger_rows, risk_input, token

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import gateway_wsgi

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def noon():
    with clock.freeze(NOON):
        yield


@pytest.fixture
def flask_seen(app):
    """Paths of the requests that reached Flask's request handling."""
    seen: list[str] = []

    def spy():
        from flask import request
        seen.append(request.path)
    funcs = app.flask_app.before_request_funcs.setdefault(None, [])
    funcs.insert(0, spy)
    yield seen
    funcs.remove(spy)


def test_the_app_goes_through_the_dispatcher(app):
    assert isinstance(app.flask_app.wsgi_app, gateway_wsgi.CallDispatcher)


def test_calls_are_answered_without_flask(app, gateway_world, noon, flask_seen):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    flask_seen.clear()  # the token endpoint is a Flask view
    res = call(app, tok, ent["product"], "risk-assessment", risk_input(),
               headers={"X-Request-ID": "req-wsgi-0001"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.json["request_id"] == "req-wsgi-0001"
    assert res.json["usage"] == {"quota": 5, "used": 1, "remaining": 4}
    refused = call(app, "x" * 40, ent["product"], "risk-assessment", risk_input())
    assert refused.status_code == 401 and refused.json["error"] == "invalid_token"
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="sanyi-delivery"')
    for answer in (res, refused):
        cache = {v.strip() for v in answer.headers["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= cache and "public" not in cache
        assert "Pragma" not in answer.headers and "Set-Cookie" not in answer.headers
        assert answer.headers["Content-Type"].startswith("application/json")
    assert flask_seen == []
    assert [r["request_id"] for r in ledger_rows(entitlement_id=ent["id"])] == ["req-wsgi-0001"]


def test_under_a_language_prefix_the_blueprint_answers_alike(app, gateway_world, noon,
                                                           flask_seen):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    flask_seen.clear()
    res = app.post("/en" + call_url(ent["product"], "risk-assessment"), json=risk_input(),
                   headers={"Authorization": f"Bearer {tok}", "X-Request-ID": "req-wsgi-en01"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert flask_seen == [call_url(ent["product"], "risk-assessment")]
    assert res.json["request_id"] == "req-wsgi-en01" and res.json["usage"]["used"] == 1
    cache = {v.strip() for v in res.headers["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache and "Pragma" not in res.headers
    direct = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert set(direct.headers.keys()) - {"Date"} >= set(res.headers.keys()) - {
        "Date", "Content-Length", "Vary", "Set-Cookie"}


def test_each_call_has_its_own_request_id(app, gateway_world, noon):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    ids = [call(app, tok, ent["product"], "risk-assessment", risk_input()).json["request_id"]
           for _ in range(3)]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert [r["request_id"] for r in ledger_rows(entitlement_id=ent["id"])] == ids


def test_cors_headers_as_ckan_sets_them(app, gateway_world, noon, ckan_config, monkeypatch):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    monkeypatch.setitem(ckan_config, "ckan.cors.origin_allow_all", False)
    monkeypatch.setitem(ckan_config, "ckan.cors.origin_whitelist", ["https://known.example"])
    known = call(app, tok, ent["product"], "risk-assessment", risk_input(),
                 headers={"Origin": "https://known.example"})
    assert known.headers["Access-Control-Allow-Origin"] == "https://known.example"
    assert "Content-Type" in known.headers["Access-Control-Allow-Headers"]
    other = call(app, tok, ent["product"], "risk-assessment", risk_input(),
                 headers={"Origin": "https://other.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    monkeypatch.setitem(ckan_config, "ckan.cors.origin_allow_all", True)
    anyone = call(app, tok, ent["product"], "risk-assessment", risk_input(),
                  headers={"Origin": "https://other.example"})
    assert anyone.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(("path", "expected"), [
    ("/api/delivery/v1/a/b", ("a", "b")), ("/api/delivery/v1/a", None),
    ("/api/delivery/v1/a/b/c", None), ("/api/delivery/v1//b", None),
    ("/api/delivery/v1/a/", None), ("/api/delivery/v2/a/b", None),
    ("/api/delivery/v1/\xe4\xba\xa7/b", ("产", "b"))])
def test_only_call_paths_are_taken(path, expected):
    assert gateway_wsgi._segments(path) == expected
