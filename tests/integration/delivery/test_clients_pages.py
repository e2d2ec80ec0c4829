"""API clients on the merchant's 我的授权 page: the list per entitlement, create / rotate /
revoke forms (POST with the CSRF token), the secret shown once; Chinese by default, English
under /en/."""
from __future__ import annotations

import re

import pytest
from applications_support import call_as
from client_calls import access_token, new_client, token_request
from csrf_tokens import csrf_token
from pagecheck import checked_body, page_text

from ckanext.sanyi.delivery import clients

pytestmark = pytest.mark.usefixtures("with_plugins")
PAGE = "/merchant/entitlements"


def _secret(body: str) -> tuple[str, str]:
    client_id = re.search(r'class="sanyi-client-id">([^<]+)<', body).group(1)
    secret = re.search(r'class="sanyi-client-secret">([^<]+)<', body).group(1)
    return client_id, secret


def test_create_rotate_and_revoke_on_the_page(client_world, app, login):
    ent = client_world["entitlement"]["id"]
    login(app, "merchant_user")
    body = checked_body(app.get(PAGE), PAGE)
    text = page_text(body)
    assert "接口客户端" in text and "该授权还没有接口客户端" in text and "创建客户端" in text
    create = f"/merchant/entitlements/{ent}/clients"
    res = app.post(create, data={"name": "核保系统"})
    assert res.status_code == 400  # no CSRF token
    assert call_as("merchant_user", "sanyi_client_list")["count"] == 0
    res = app.post(create, data={"name": "核保系统", "_csrf_token": csrf_token(app, PAGE)})
    body = checked_body(res, create)
    assert "no-store" in res.headers["Cache-Control"]
    client_id, secret = _secret(body)
    assert "只显示这一次" in page_text(body)
    assert token_request(app, {"client_id": client_id, "client_secret": secret}).status_code == 200
    again = checked_body(app.get(PAGE), PAGE)
    assert client_id in again and secret not in again and "核保系统" in again

    client = clients.get(client_id)
    token = access_token(app, {"client_id": client_id, "client_secret": secret})
    rotate = f"/merchant/clients/{client['id']}/rotate"
    assert app.post(rotate).status_code == 400
    body = checked_body(app.post(rotate, data={"_csrf_token": csrf_token(app, PAGE)}), rotate)
    same_id, new_secret = _secret(body)
    assert same_id == client_id and new_secret != secret
    assert clients.authenticate_bearer(token) is None

    revoke = f"/merchant/clients/{client['id']}/revoke"
    assert app.post(revoke).status_code == 400
    res = app.post(revoke, data={"_csrf_token": csrf_token(app, PAGE)}, follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith(PAGE)
    text = page_text(checked_body(app.get(PAGE), PAGE))
    assert "接口客户端已撤销" in text and "已撤销" in text
    assert call_as("merchant_user", "sanyi_client_list", status="revoked")["count"] == 1


def test_errors_flash_and_other_merchants_are_refused(client_world, app, login):
    ent = client_world["entitlement"]["id"]
    login(app, "merchant_user")
    res = app.post(f"/merchant/entitlements/{ent}/clients",
                   data={"name": "", "_csrf_token": csrf_token(app, PAGE)})
    text = page_text(checked_body(res, PAGE))
    assert "请填写客户端名称" in text and "A client name is required" not in text
    assert "name:" not in text
    en = "/en" + PAGE
    res = app.post(f"/en/merchant/entitlements/{ent}/clients",
                   data={"name": "", "_csrf_token": csrf_token(app, en)})
    text = page_text(checked_body(res, en))
    assert "A client name is required" in text and "请填写客户端名称" not in text
    client = new_client(ent)
    login(app, "merchant_two")
    token = csrf_token(app, PAGE)
    other_page = checked_body(app.get(PAGE), PAGE)
    assert client["client_id"] not in other_page
    res = app.post(f"/merchant/entitlements/{ent}/clients", data={"name": "x", "_csrf_token": token})
    assert res.status_code == 403
    for op in ("rotate", "revoke"):
        res = app.post(f"/merchant/clients/{client['id']}/{op}", data={"_csrf_token": token})
        assert res.status_code == 403
    assert clients.get(client["id"])["status"] == "active"


def test_english_page_and_the_bureau_page(client_world, app, login):
    new_client(client_world["entitlement"]["id"])
    login(app, "merchant_user")
    text = page_text(checked_body(app.get("/en" + PAGE), "/en" + PAGE))
    assert "API clients" in text and "Replace secret" in text and "Create client" in text
    assert "接口客户端" not in text
    login(app, "bureau_user")
    body = checked_body(app.get("/bureau/entitlements"), "/bureau/entitlements")
    assert "sanyi-api-clients" not in body


def test_english_page_names_the_product_in_english(client_world, app, login):
    from ckan.tests import helpers
    product = client_world["entitlement"]["product_name"]
    zh_title = helpers.call_action("package_show", id=product)["title"]
    helpers.call_action("package_patch", context={"user": "sysadmin", "ignore_auth": True},
                        id=product, title_en="Personal health profile and risk warning")
    login(app, "merchant_user")
    en = page_text(checked_body(app.get("/en" + PAGE), "/en" + PAGE))
    zh = page_text(checked_body(app.get(PAGE), PAGE))
    assert "Personal health profile and risk warning" in en and zh_title not in en
    assert zh_title in zh and "Personal health profile" not in zh


def test_visitors_are_sent_to_the_login(client_world, app):
    ent = client_world["entitlement"]["id"]
    res = app.post(f"/merchant/entitlements/{ent}/clients", data={"name": "x"},
                   follow_redirects=False)
    assert res.status_code in (302, 400, 403)
    assert call_as("bureau_user", "sanyi_client_list")["count"] == 0
