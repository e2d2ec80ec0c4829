"""What the merchant is shown to pay and keeps once paid, over HTTP: the receiving account and
the reference to quote for a bank transfer, online payment only where it is configured, the
printable receipt and authorization letter of a paid order (its merchant, the operator, the
bureau; nobody else)."""
from __future__ import annotations

import datetime as dt

import pytest
from applications_support import to_status
from ckan.tests import factories
from payments_support import call_as

pytestmark = pytest.mark.usefixtures("with_plugins")
BANK = "演示银行城东支行"
ACCOUNT = "6200 1111 2222 3333"


@pytest.fixture
def docs(world):
    application = to_status("awaiting_payment")
    tokens = {name: factories.APIToken(user=name)["token"]
              for name in ("merchant_user", "merchant_two", "operator_user", "bureau_user",
                           "wj_editor")}
    return {"application": application, "order_id": application["order_id"], "tokens": tokens}


def get(app, url, token=None, status=200):
    res = app.get(url, headers={"Authorization": token} if token else {},
                  follow_redirects=False)
    assert res.status_code == status, (url, res.status_code)
    return res.get_data(as_text=True)


def pay_by_transfer(order_id: str) -> None:
    order = call_as("operator_user", "sanyi_order_show", id=order_id)
    call_as("operator_user", "sanyi_order_record_bank_transfer", id=order_id,
            reference="HX20261202001", amount_fen=order["amount_fen"],
            received_on=dt.date.today().isoformat())


@pytest.mark.ckan_config("ckanext.sanyi.payee.bank_name", BANK)
@pytest.mark.ckan_config("ckanext.sanyi.payee.account_number", ACCOUNT)
@pytest.mark.ckan_config("ckanext.sanyi.payee.account_name", "三医数据运营有限公司")
@pytest.mark.ckan_config("ckanext.sanyi.stripe.secret_key", "")
@pytest.mark.ckan_config("ckanext.sanyi.stripe.publishable_key", "")
@pytest.mark.parametrize("prefix, words", [
    ("", ["对公转账", "户名", "三医数据运营有限公司", BANK, ACCOUNT, "转账附言"]),
    ("/en", ["Bank transfer", "Account name", BANK, ACCOUNT, "Reference to quote"])])
def test_unpaid_order_shows_the_account_and_no_online_payment_unconfigured(app, docs, prefix,
                                                                           words):
    html = get(app, f"{prefix}/order/{docs['order_id']}", docs["tokens"]["merchant_user"])
    for word in words:
        assert word in html, word
    assert "sanyi-pay-link" not in html  # Stripe is not configured
    assert "sanyi-receipt-link" not in html  # not paid yet
    reference = call_as("merchant_user", "sanyi_order_show", id=docs["order_id"])["human_ref"]
    assert reference.startswith("DD-") and docs["order_id"] not in reference
    assert reference in html.split("sanyi-bank-reference", 1)[1][:200]


@pytest.mark.ckan_config("ckanext.sanyi.payee.bank_name", "")
@pytest.mark.ckan_config("ckanext.sanyi.payee.account_number", "")
def test_unpublished_account_sends_the_merchant_to_the_operator(app, docs, stripe_config):
    html = get(app, f"/order/{docs['order_id']}", docs["tokens"]["merchant_user"])
    assert "收款账户尚未公布" in html and "sanyi-bank-account-number" not in html
    assert "sanyi-pay-link" in html  # Stripe is configured: online payment is offered


def test_documents_of_an_unpaid_order_are_refused(app, docs):
    for doc in ("receipt", "authorization"):
        get(app, f"/order/{docs['order_id']}/{doc}", docs["tokens"]["merchant_user"], status=409)


def test_paid_order_has_a_receipt_and_an_authorization_letter(app, docs):
    order_id, tokens = docs["order_id"], docs["tokens"]
    pay_by_transfer(order_id)
    order_page = get(app, f"/order/{order_id}", tokens["merchant_user"])
    assert "sanyi-receipt-link" in order_page and "sanyi-authorization-link" in order_page
    assert "sanyi-bank-account" not in order_page  # paid: nothing more to transfer

    receipt = get(app, f"/order/{order_id}/receipt", tokens["merchant_user"])
    amount = call_as("merchant_user", "sanyi_order_show", id=order_id)["amount_fen"]
    assert "收款凭证" in receipt and "对公转账" in receipt and "HX20261202001" in receipt
    assert f"¥{amount // 100:,}.{amount % 100:02d}" in receipt

    letter = get(app, f"/order/{order_id}/authorization", tokens["merchant_user"])
    shown = call_as("merchant_user", "sanyi_application_show", id=docs["application"]["id"])
    entitlement = shown["entitlement"]
    assert "授权书" in letter and shown["merchant"]["company_name"] in letter
    assert shown["product"]["title"] in letter
    assert f"{entitlement['period_start']} — {entitlement['period_end']}" in letter
    for item in shown["data_item_details"]:
        assert item["resource_title"] in letter
    english = get(app, f"/en/order/{order_id}/authorization", tokens["merchant_user"])
    assert "Authorization to use a public data product" in english

    for who in ("operator_user", "bureau_user"):
        get(app, f"/order/{order_id}/receipt", tokens[who])
        get(app, f"/order/{order_id}/authorization", tokens[who])
    for who in ("merchant_two", "wj_editor"):
        get(app, f"/order/{order_id}/receipt", tokens[who], status=403)
        get(app, f"/order/{order_id}/authorization", tokens[who], status=403)
    anonymous = app.get(f"/order/{order_id}/receipt", follow_redirects=False)
    assert anonymous.status_code == 302 and "/user/login" in anonymous.headers["Location"]
    get(app, "/order/no-such-order/receipt", tokens["operator_user"], status=404)
