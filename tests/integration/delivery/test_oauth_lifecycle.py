"""Tokens stop at once: RFC 7009 revocation, rotation and revocation of the client, and
suspension, revocation or expiry of the entitlement through the existing lifecycle actions;
RFC 7662 introspection for the bureau and the operator only; a delivery token in CKAN's
Authorization header neither fails a request nor logs anyone in."""
from __future__ import annotations

import datetime as dt

import pytest
from applications_support import call_as
from ckan import model
from client_calls import (
    INTROSPECT_URL,
    PRODUCT,
    REVOKE_URL,
    access_token,
    api_token,
    basic,
    new_client,
    token_request,
)
from csrf_tokens import csrf_token

from ckanext.sanyi.applications import lifecycle
from ckanext.sanyi.delivery import clients

pytestmark = pytest.mark.usefixtures("with_plugins")


def _live(token: str) -> bool:
    model.Session.remove()
    return clients.authenticate_bearer(token) is not None


def _revoke(app, client, token: str, **extra):
    return app.post(REVOKE_URL, data={"token": token, **extra},
                    headers=basic(client["client_id"], client["client_secret"]))


def test_rfc7009_revocation(client_world, app):
    ent = client_world["entitlement"]["id"]
    client, other = new_client(ent), new_client(ent, name="第二个客户端")
    token, kept = access_token(app, client), access_token(app, client)
    other_token = access_token(app, other)
    assert _revoke(app, other, token).status_code == 200  # another client's token: untouched
    assert _live(token)
    res = _revoke(app, client, token, token_type_hint="access_token")
    assert res.status_code == 200 and not _live(token)
    assert _live(kept) and _live(other_token)
    for unknown in ("x" * 43, "not a token at all", token):
        assert _revoke(app, client, unknown).status_code == 200
    res = app.post(REVOKE_URL, data={"token": kept}, headers=basic(client["client_id"], "wrong"))
    assert res.status_code == 401 and res.json["error"] == "invalid_client"
    assert res.headers["WWW-Authenticate"].startswith("Basic ")
    res = app.post(REVOKE_URL, data={}, headers=basic(client["client_id"],
                                                      client["client_secret"]))
    assert res.status_code == 400 and res.json["error"] == "invalid_request"
    res = _revoke(app, client, kept, token_type_hint="refresh_token")
    assert res.status_code == 400 and res.json["error"] == "unsupported_token_type"
    assert _live(kept)


def test_rotation_kills_the_old_secret_and_every_token(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    tokens = [access_token(app, client) for _ in range(2)]
    rotated = call_as("merchant_user", "sanyi_client_rotate", id=client["client_id"])
    assert rotated["client_id"] == client["client_id"]
    assert rotated["client_secret"] != client["client_secret"] and rotated["rotated"]
    assert not any(_live(t) for t in tokens)
    res = token_request(app, client)  # the old secret
    assert res.status_code == 401 and res.json["error"] == "invalid_client"
    assert _live(access_token(app, rotated))


def test_revoking_the_client_kills_its_tokens(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    token = access_token(app, client)
    call_as("merchant_user", "sanyi_client_revoke", id=client["id"])
    assert not _live(token)


@pytest.mark.parametrize("op", ["suspend", "revoke"])
def test_suspending_or_revoking_the_entitlement_fails_the_token_at_once(client_world, app, op):
    ent = client_world["entitlement"]["id"]
    token = access_token(app, new_client(ent))
    assert _live(token)
    call_as("bureau_user", f"sanyi_entitlement_{op}", id=ent, reason="超范围调用核查")
    assert not _live(token)
    info = clients.authenticate_bearer(token, strict=False)  # the gateway's 403, not 401
    assert info is not None and info.refusal() == "entitlement_inactive"
    assert info.entitlement_status == ("suspended" if op == "suspend" else "revoked")
    if op == "suspend":
        call_as("bureau_user", "sanyi_entitlement_resume", id=ent)
        assert _live(token)


def test_expiry_of_the_entitlement_fails_the_token(client_world, app):
    ent = client_world["entitlement"]
    token = access_token(app, new_client(ent["id"]))
    after_end = dt.date.fromisoformat(ent["period_end"]) + dt.timedelta(days=1)
    info = clients.authenticate_bearer(token, strict=False)
    assert info.refusal(after_end) == "outside_period"  # before the daily job has run
    assert ent["id"] in lifecycle.expire_due(after_end, "site")
    assert not _live(token)
    assert clients.authenticate_bearer(token, strict=False).refusal() == "entitlement_inactive"


def _introspect(app, token: str, headers=None, **extra):
    return app.post(INTROSPECT_URL, data={"token": token, **extra}, headers=headers or {})


def test_introspection_for_bureau_and_operator(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    token = access_token(app, client)
    for user in ("bureau_user", "operator_user", "sysadmin"):
        res = _introspect(app, token, {"Authorization": api_token(user)})
        assert res.status_code == 200, res.get_data(as_text=True)
        body = res.json
        assert body["active"] is True and body["client_id"] == client["client_id"]
        assert body["scope"] == PRODUCT and body["sub"] == client_world["entitlement"]["id"]
        assert body["merchant"] == client_world["merchants"]["merchant_user"]["id"]
        assert body["exp"] - body["iat"] == 3600
    bureau = {"Authorization": api_token("bureau_user")}
    assert _introspect(app, "x" * 43, bureau).json == {"active": False}
    call_as("merchant_user", "sanyi_client_revoke", id=client["id"])
    assert _introspect(app, token, bureau).json == {"active": False}
    res = app.post(INTROSPECT_URL, data={}, headers=bureau)
    assert res.status_code == 400 and res.json["error"] == "invalid_request"


def test_introspection_refused_to_merchants_and_visitors(client_world, app):
    client = new_client(client_world["entitlement"]["id"])
    token = access_token(app, client)
    for headers in ({}, {"Authorization": api_token("merchant_user")},
                    {"Authorization": api_token("no_role")},
                    {"Authorization": api_token("wj_editor")},
                    basic(client["client_id"], client["client_secret"]),
                    {"Authorization": f"Bearer {token}"}):
        res = _introspect(app, token, headers)
        assert res.status_code == 403, (headers, res.get_data(as_text=True))
        assert res.json["error"] == "access_denied" and "active" not in res.json


def test_introspection_by_session_needs_the_csrf_token(client_world, app, login):
    token = access_token(app, new_client(client_world["entitlement"]["id"]))
    login(app, "operator_user")
    res = _introspect(app, token)
    assert res.status_code == 400 and res.json["error"] == "invalid_request"
    res = _introspect(app, token, _csrf_token=csrf_token(app, "/dashboard/applications"))
    assert res.status_code == 200 and res.json["active"] is True


def test_a_delivery_token_in_ckans_authorization_header_logs_nobody_in(client_world, app):
    token = access_token(app, new_client(client_world["entitlement"]["id"]))
    for header in (f"Bearer {token}", "Bearer", "Basic Zm9vOmJhcg==", token):
        res = app.get("/dashboard/applications", headers={"Authorization": header},
                      follow_redirects=False)
        assert res.status_code == 302 and "/user/login" in res.headers["Location"], header
        res = app.post("/api/3/action/sanyi_client_list", json={},
                       headers={"Authorization": header})
        assert res.status_code == 403, header
    res = app.get("/api/3/action/status_show", headers={"Authorization": f"Bearer {token}"})
    assert res.status_code == 200
