"""The API client actions: who may create, list, rotate and revoke; field errors in both
languages; audit records; never a secret in a list, a record or an answer after the first."""
from __future__ import annotations

import json

import pytest
from applications_support import bilingual, call_as, refused
from ckan import model
from ckan.plugins import toolkit as tk
from client_calls import api_token, new_client
from sqlalchemy import text

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import clients

pytestmark = pytest.mark.usefixtures("with_plugins")
SECRET_KEYS = {"client_secret", "secret_hash"}


def test_the_merchant_creates_a_client_and_sees_its_secret_once(client_world):
    ent = client_world["entitlement"]["id"]
    client = new_client(ent)
    assert client["client_id"].startswith("sanyi_") and len(client["client_id"]) == 30
    assert len(client["client_secret"]) >= 43 and client["status"] == "active"
    assert client["entitlement_id"] == ent and client["name"] == "核保系统"
    assert client["token_endpoint"].endswith("/api/delivery/oauth/token")
    listed = call_as("merchant_user", "sanyi_client_list")
    assert listed["count"] == 1 and not SECRET_KEYS & set(listed["results"][0])
    assert client["client_secret"] not in json.dumps(listed, ensure_ascii=False)
    record = audit.list(object_type="api_client", object_id=client["id"])[0]
    assert record["action"] == "sanyi_client_create" and record["actor"] == "merchant_user"
    assert client["client_secret"] not in json.dumps(record, ensure_ascii=False)
    stored = model.Session.execute(text("SELECT secret_hash FROM sanyi_api_client")).scalar()
    assert stored != client["client_secret"] and clients.verify_secret(client["client_secret"],
                                                                       stored)


@pytest.mark.parametrize("user", ["anonymous", "no_role", "merchant_two", "bureau_user",
                                  "operator_user", "wj_editor", "sysadmin"])
def test_only_the_merchant_holding_the_entitlement_creates_clients(client_world, user):
    err = refused(tk.NotAuthorized, new_client, client_world["entitlement"]["id"], user=user)
    if user != "anonymous":  # CKAN's own refusal of a visitor is in English only
        assert "只有" in str(err) and "Only" in str(err)
    assert call_as("bureau_user", "sanyi_client_list")["count"] == 0


def test_lists_by_role(client_world):
    mine = new_client(client_world["entitlement"]["id"])
    theirs = new_client(client_world["other_entitlement"]["id"], user="merchant_two")
    for user, want in (("merchant_user", [mine]), ("merchant_two", [theirs]),
                       ("bureau_user", [theirs, mine]), ("operator_user", [theirs, mine]),
                       ("sysadmin", [theirs, mine])):
        result = call_as(user, "sanyi_client_list")
        assert [c["client_id"] for c in result["results"]] == [c["client_id"] for c in want]
        assert not any(SECRET_KEYS & set(c) for c in result["results"])
    for user in ("anonymous", "no_role", "wj_editor"):
        refused(tk.NotAuthorized, call_as, user, "sanyi_client_list")
    refused(tk.NotAuthorized, call_as, "merchant_two", "sanyi_client_list",
            entitlement_id=client_world["entitlement"]["id"])
    only = call_as("bureau_user", "sanyi_client_list",
                   entitlement_id=client_world["entitlement"]["id"], status="active")
    assert [c["id"] for c in only["results"]] == [mine["id"]]
    err = refused(tk.ValidationError, call_as, "bureau_user", "sanyi_client_list", status="gone")
    bilingual(err, "status")


def test_rotate_and_revoke_by_role(client_world):
    client = new_client(client_world["entitlement"]["id"])
    for user in ("anonymous", "no_role", "merchant_two", "bureau_user", "operator_user"):
        refused(tk.NotAuthorized, call_as, user, "sanyi_client_rotate", id=client["id"])
    for user in ("anonymous", "no_role", "merchant_two", "operator_user"):
        refused(tk.NotAuthorized, call_as, user, "sanyi_client_revoke", id=client["id"])
    rotated = call_as("merchant_user", "sanyi_client_rotate", id=client["id"])
    assert rotated["client_secret"] != client["client_secret"]
    revoked = call_as("bureau_user", "sanyi_client_revoke", id=client["client_id"],
                      reason="密钥泄露")
    assert revoked["status"] == "revoked" and revoked["revoked_at"] and "client_secret" not in revoked
    bilingual(refused(tk.ValidationError, call_as, "merchant_user", "sanyi_client_revoke",
                      id=client["id"]), "status")
    bilingual(refused(tk.ValidationError, call_as, "merchant_user", "sanyi_client_rotate",
                      id=client["id"]), "status")
    actions = [r["action"] for r in audit.list(object_type="api_client", object_id=client["id"],
                                               oldest_first=True)]
    assert actions == ["sanyi_client_create", "sanyi_client_rotate", "sanyi_client_revoke"]
    dump = json.dumps(audit.list(object_type="api_client"), ensure_ascii=False)
    assert client["client_secret"] not in dump and rotated["client_secret"] not in dump
    refused(tk.ObjectNotFound, call_as, "merchant_user", "sanyi_client_rotate", id="no-such")


def test_field_errors_in_both_languages(client_world):
    ent = client_world["entitlement"]["id"]
    bilingual(refused(tk.ValidationError, new_client, ent, name=""), "name")
    bilingual(refused(tk.ValidationError, new_client, ent, name="x" * 101), "name")
    bilingual(refused(tk.ValidationError, new_client, ent, name="a\x00b"), "name")
    bilingual(refused(tk.ValidationError, new_client, ent, scope="chronic-refill"), "scope")
    bilingual(refused(tk.ValidationError, new_client, ent, scope=["a b", 3]), "scope")
    for bad in (None, "", 7, ["x"], "a\x00b"):
        bilingual(refused(tk.ValidationError, call_as, "merchant_user", "sanyi_client_create",
                          entitlement_id=bad, name="n"), "entitlement_id")
    refused(tk.ObjectNotFound, new_client, "00000000-0000-0000-0000-000000000000")
    new_client(ent, name="核保系统")
    assert "核保系统" in bilingual(refused(tk.ValidationError, new_client, ent), "name")
    for n in range(clients.MAX_CLIENTS - 1):
        new_client(ent, name=f"c{n}")
    bilingual(refused(tk.ValidationError, new_client, ent, name="one too many"),
              "entitlement_id")


def test_no_client_for_an_entitlement_not_active(client_world):
    ent = client_world["entitlement"]["id"]
    call_as("bureau_user", "sanyi_entitlement_suspend", id=ent, reason="超范围调用核查")
    message = bilingual(refused(tk.ValidationError, new_client, ent), "entitlement_id")
    assert "有效" in message and "active" in message


def test_the_action_api_over_http(client_world, app):
    ent = client_world["entitlement"]["id"]
    url = "/api/3/action/sanyi_client_create"
    res = app.post(url, json={"entitlement_id": ent, "name": "x"})
    assert res.status_code == 403 and res.json["success"] is False
    merchant = {"Authorization": api_token("merchant_user")}
    for body in ({"entitlement_id": ent}, {"entitlement_id": {"a": 1}, "name": "x"},
                 {"entitlement_id": ent, "name": ["x"]}, {"entitlement_id": ent, "name": "x",
                                                          "scope": {"s": 1}}):
        res = app.post(url, json=body, headers=merchant)
        assert res.status_code == 409, (body, res.get_data(as_text=True))
    res = app.post(url, json={"entitlement_id": ent, "name": "HTTP 客户端"}, headers=merchant)
    assert res.status_code == 200 and res.json["result"]["client_secret"]
    res = app.get("/api/3/action/sanyi_client_list", headers=merchant)
    assert res.status_code == 200 and "client_secret" not in res.get_data(as_text=True)
    for params in ({"limit": "x"}, {"offset": -1}, {"entitlement_id": "a\x00"}):
        res = app.post("/api/3/action/sanyi_client_list", json=params, headers=merchant)
        assert res.status_code == 409, (params, res.get_data(as_text=True))
