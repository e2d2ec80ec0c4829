"""The OAuth 2.0 token endpoint over HTTP (client credentials grant, RFC 6749 §4.4, §5)."""
from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from applications_support import call_as
from client_calls import PRODUCT, TOKEN_URL, access_token, basic, new_client, token_request

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import clients

pytestmark = pytest.mark.usefixtures("with_plugins")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _error(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.get_data(as_text=True)
    body = res.json
    assert body["error"] == code, body
    assert HAN.search(body["message"]["zh"]) and re.search(r"[A-Za-z]{3}", body["message"]["en"])
    assert body["error_description"] == body["message"]["en"]
    assert body["request_id"] and res.headers["X-Request-ID"] == body["request_id"]
    assert "no-store" in res.headers["Cache-Control"]
    return body


def test_token_by_basic_and_by_form(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    for form_auth in (False, True):
        res = token_request(app, client, form_auth=form_auth)
        assert res.status_code == 200, res.get_data(as_text=True)
        body = res.json
        assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
        assert body["scope"] == PRODUCT
        assert len(body["access_token"]) >= 43
        assert "no-store" in res.headers["Cache-Control"]
        assert "public" not in res.headers["Cache-Control"]
        info = clients.authenticate_bearer(body["access_token"])
        assert info is not None and info.client_id == client["client_id"]
        assert info.entitlement_id == client_world["entitlement"]["id"]
        assert info.merchant_id == client_world["merchants"]["merchant_user"]["id"]
        assert info.covers(PRODUCT, "anything") and not info.covers("other-product", "x")


def test_tokens_are_stored_hashed_only(client_world, app):
    from ckan import model
    from sqlalchemy import text
    client = new_client(client_world["entitlement"]["id"])
    token = access_token(app, client)
    rows = model.Session.execute(text("SELECT to_jsonb(t)::text FROM sanyi_api_token t")).scalars()
    dump = " ".join(rows)
    assert token not in dump and clients.token_hash(token) in dump
    secrets = model.Session.execute(text("SELECT to_jsonb(c)::text FROM sanyi_api_client c")) \
        .scalars().all()
    assert client["client_secret"] not in " ".join(secrets)


def test_wrong_secret_unknown_client_and_revoked_client_are_invalid_client(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    res = token_request(app, client, secret="not-the-secret")
    _error(res, 401, "invalid_client")
    assert res.headers["WWW-Authenticate"].startswith("Basic ")
    _error(token_request(app, client, secret="wrong", form_auth=True), 401, "invalid_client")
    unknown = dict(client, client_id="sanyi_nosuchclient000000000")
    _error(token_request(app, unknown), 401, "invalid_client")
    _error(token_request(app), 401, "invalid_client")  # no credentials at all
    call_as("merchant_user", "sanyi_client_revoke", id=client["id"])
    _error(token_request(app, client), 401, "invalid_client")


def test_malformed_requests_are_invalid_request(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    both = token_request(app, client, client_id=client["client_id"],
                         client_secret=client["client_secret"])
    _error(both, 400, "invalid_request")
    _error(token_request(app, client, grant_type=None), 400, "invalid_request")
    res = app.post(TOKEN_URL, json={"grant_type": "client_credentials"},
                   headers=basic(client["client_id"], client["client_secret"]))
    _error(res, 400, "invalid_request")
    res = app.post(TOKEN_URL + "?grant_type=client_credentials", data={
        "grant_type": "client_credentials"}, headers=basic(client["client_id"],
                                                         client["client_secret"]))
    _error(res, 400, "invalid_request")
    res = app.get(TOKEN_URL)
    _error(res, 405, "invalid_request")
    assert res.headers["Allow"] == "POST"
    res = app.post(TOKEN_URL, data={"grant_type": "client_credentials"},
                   headers={"Authorization": "Basic !!!not-base64"})
    _error(res, 401, "invalid_client")


def test_unsupported_grant_type(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    for grant in ("password", "authorization_code", "refresh_token", "客户端"):
        _error(token_request(app, client, grant_type=grant), 400, "unsupported_grant_type")


def test_scopes(client_world, app, monkeypatch):
    monkeypatch.setattr(clients, "product_operations",
                        lambda product: ["risk-assessment", "chronic-check"])
    client = new_client(client_world["entitlement"]["id"])
    res = token_request(app, client, scope=f"{PRODUCT}:risk-assessment")
    assert res.status_code == 200 and res.json["scope"] == f"{PRODUCT}:risk-assessment"
    info = clients.authenticate_bearer(res.json["access_token"])
    assert info.covers(PRODUCT, "risk-assessment") and not info.covers(PRODUCT, "chronic-check")
    both = f"{PRODUCT}:risk-assessment {PRODUCT}:chronic-check"
    assert token_request(app, client, scope=both).json["scope"] == both
    for bad in (f"{PRODUCT}:no-such-operation", "chronic-refill", f"{PRODUCT} admin", "*"):
        body = _error(token_request(app, client, scope=bad), 400, "invalid_scope")
        assert "scope" in body["error_description"]
    narrow = new_client(client_world["entitlement"]["id"], name="只做风险评估",
                        scope=f"{PRODUCT}:risk-assessment")
    assert token_request(app, narrow).json["scope"] == f"{PRODUCT}:risk-assessment"
    _error(token_request(app, narrow, scope=PRODUCT), 400, "invalid_scope")
    _error(token_request(app, narrow, scope=f"{PRODUCT}:chronic-check"), 400, "invalid_scope")


def test_no_token_for_a_suspended_entitlement(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    call_as("bureau_user", "sanyi_entitlement_suspend", id=client_world["entitlement"]["id"],
            reason="超范围调用核查")
    body = _error(token_request(app, client), 400, "invalid_grant")
    assert "not active" in body["error_description"]
    call_as("bureau_user", "sanyi_entitlement_resume", id=client_world["entitlement"]["id"])
    assert token_request(app, client).status_code == 200


def test_token_expiry(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    start = clock.now_utc()
    with clock.freeze(start):
        token = access_token(app, client)
    with clock.freeze(start + dt.timedelta(seconds=3599)):
        assert clients.authenticate_bearer(token) is not None
    with clock.freeze(start + dt.timedelta(seconds=3600)):
        assert clients.authenticate_bearer(token) is None
        assert clients.introspect(token) == {"active": False}


@pytest.mark.ckan_config("ckanext.sanyi.delivery.token_ttl", "120")
def test_token_lifetime_is_configurable(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    assert token_request(app, client).json["expires_in"] == 120


def test_secrets_and_tokens_are_never_logged(client_world, app, caplog):
    client = new_client(client_world["entitlement"]["id"])
    for name in [*logging.root.manager.loggerDict, ""]:  # the test ini's logging disables them
        logging.getLogger(name).disabled = False
    with caplog.at_level(logging.DEBUG):
        token = access_token(app, client)
        token_request(app, client, secret="wrong-secret-value")
        token_request(app, client, form_auth=True)
        app.get("/dataset", headers={"Authorization": f"Bearer {token}"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Issuing token" in logged or "oauthlib" in " ".join(r.name for r in caplog.records)
    for secret in (client["client_secret"], token, "wrong-secret-value"):
        assert secret not in logged


HOSTILE = ["", "\x00", "a\x00b", "x" * 5000, "%", "%ff%fe", "'; DROP TABLE sanyi_api_client;--",
           "客户端", "\ud7ff", "[]", "{}", "client_credentials client_credentials"]


@pytest.mark.parametrize("url", [TOKEN_URL, "/api/delivery/oauth/revoke",
                                 "/api/delivery/oauth/introspect"])
def test_hostile_input_is_a_json_4xx(client_world, app, url):
    client = new_client(client_world["entitlement"]["id"])
    auth = basic(client["client_id"], client["client_secret"])
    sent = []
    for value in HOSTILE:
        for data in ({"grant_type": value}, {"grant_type": "client_credentials", "scope": value},
                     {"token": value}, {"client_id": value, "client_secret": value,
                                        "grant_type": "client_credentials"}):
            sent.append(app.post(url, data=data, headers=auth))
            sent.append(app.post(url, data=data))
        sent.append(app.post(url, data={"grant_type": "client_credentials"},
                             headers={"Authorization": "Basic " + value}))
    for body, kind in ((b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
                       (b"grant_type=client_credentials&grant_type=password",
                        "application/x-www-form-urlencoded"),
                       (b'{"grant_type": "client_credentials"}', "application/json"),
                       (b"--x\r\n", "multipart/form-data; boundary=x"), (b"", "text/plain")):
        sent.append(app.post(url, data=body, headers=dict(auth, **{"Content-Type": kind})))
    for method in ("GET", "PUT", "DELETE"):
        sent.append(app.client.open(url, method=method))
    for res in sent:
        assert 400 <= res.status_code < 500 or res.status_code == 200, res.get_data(as_text=True)
        assert res.content_type.startswith("application/json"), res.get_data(as_text=True)[:300]
        body = res.json
        assert body.get("error") or "access_token" in body or "active" in body or body == {}
