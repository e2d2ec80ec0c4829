"""The order pages: list, order (with the operator's forms), the Stripe.js payment page."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from ckan.tests import factories
from payments_support import AMOUNT, call_as, new_order, order_row

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def pages(pay_world):
    tokens = {name: factories.APIToken(user=name)["token"] for name in
              ("merchant_user", "merchant_two", "operator_user", "bureau_user", "wj_editor")}
    return {"order": new_order(), "tokens": tokens, **pay_world}


def get(app, url, token=None, status=200):
    res = app.get(url, headers={"Authorization": token} if token else {})
    assert res.status_code == status, (url, res.status_code)
    return res.get_data(as_text=True)


@pytest.mark.parametrize("prefix, words", [("", ["待支付", "在线支付", "全程留痕", "¥6,500.00"]),
                                           ("/en", ["Awaiting payment", "Pay online",
                                                    "Full trace", "CNY 6,500.00"])])
def test_order_page_for_the_merchant(app, pages, prefix, words):
    html = get(app, f"{prefix}/order/{pages['order']['id']}", pages["tokens"]["merchant_user"])
    for word in words:
        assert word in html, word
    assert "第 1 档" in html or "Band 1" in html
    assert 'name="reference"' not in html  # no operator form for the merchant


def test_order_page_for_the_operator_has_the_bank_transfer_form(app, pages):
    html = get(app, f"/order/{pages['order']['id']}", pages["tokens"]["operator_user"])
    assert "登记对公转账" in html and 'name="received_on"' in html
    assert "sanyi-pay-link" not in html  # only the merchant pays


def test_order_page_refused_to_others(app, pages):
    url = f"/order/{pages['order']['id']}"
    for who in ("merchant_two", "wj_editor"):
        get(app, url, pages["tokens"][who], status=403)
    res = app.get(url, follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]
    get(app, "/order/nope", pages["tokens"]["operator_user"], status=404)


def test_pay_page_loads_the_configured_stripe_js_with_the_client_secret(app, pages):
    html = get(app, f"/order/{pages['order']['id']}/pay", pages["tokens"]["merchant_user"])
    intent_id = order_row(pages["order"]["id"])["stripe_payment_intent_id"]
    assert f'<script src="{pages["stripe_base"]}/js.stripe.com/v3/"></script>' in html
    secret = re.search(r'data-client-secret="([^"]+)"', html).group(1)
    assert secret.startswith(intent_id + "_secret_")
    assert 'data-publishable-key="pk_test_sanyi"' in html
    assert f'data-return-url="http://127.0.0.1:5000/order/{pages["order"]["id"]}"' in html
    assert "支付宝" in html and "微信支付" in html


def test_pay_page_refused_to_everyone_but_the_merchant(app, pages):
    for who in ("operator_user", "bureau_user"):
        get(app, f"/order/{pages['order']['id']}/pay", pages["tokens"][who], status=403)
    get(app, f"/order/{pages['order']['id']}/pay", pages["tokens"]["merchant_two"], status=403)
    assert order_row(pages["order"]["id"])["stripe_payment_intent_id"] is None


def test_bank_transfer_form_pays_the_order(app, pages):
    order_id = pages["order"]["id"]
    token = pages["tokens"]["operator_user"]
    res = app.post(f"/order/{order_id}/bank-transfer", headers={"Authorization": token},
                   data={"reference": "HX-1", "amount": "6500.01",
                         "received_on": dt.date.today().isoformat()})
    flashed = res.get_data(as_text=True)  # the amount differs, said in the page's language
    assert "到账金额 6,500.01 元与订单金额 6,500.00 元不符" in flashed or "与订单金额" in flashed
    assert "amount_fen" not in flashed and "differs from the order" not in flashed
    assert order_row(order_id)["status"] == "awaiting_payment"
    res = app.post(f"/order/{order_id}/bank-transfer", headers={"Authorization": token},
                   data={"reference": "HX-1", "amount": "6,500.00",
                         "received_on": dt.date.today().isoformat()})
    assert res.status_code == 200 and order_row(order_id)["status"] == "paid"
    html = get(app, f"/order/{order_id}", pages["tokens"]["merchant_user"])
    assert "已支付" in html and "HX-1" in html and "对公转账" in html
    # the pay page of a paid order sends the merchant back to the order
    html = get(app, f"/order/{order_id}/pay", pages["tokens"]["merchant_user"])
    assert "sanyi-payment-form" not in html


def test_bank_transfer_form_refused_to_the_merchant(app, pages):
    res = app.post(f"/order/{pages['order']['id']}/bank-transfer",
                   headers={"Authorization": pages["tokens"]["merchant_user"]},
                   data={"reference": "HX-1", "amount": "6500.00",
                         "received_on": dt.date.today().isoformat()})
    assert res.status_code == 403
    assert order_row(pages["order"]["id"])["status"] == "awaiting_payment"


def test_refund_complete_form(app, pages):
    from ckan import model

    from ckanext.sanyi.payments import refund_for_application
    order_id = pages["order"]["id"]
    call_as("operator_user", "sanyi_order_record_bank_transfer", id=order_id, reference="HX",
            amount_fen=AMOUNT, received_on=dt.date.today().isoformat())
    refund = refund_for_application("app-1", "bureau_user", "违规使用")
    model.Session.commit()
    html = get(app, "/orders", pages["tokens"]["operator_user"])
    assert "待执行的退款" in html and "违规使用" in html
    html = get(app, f"/order/{order_id}", pages["tokens"]["operator_user"])
    assert f"/refund/{refund['id']}/complete" in html
    res = app.post(f"/refund/{refund['id']}/complete",
                   headers={"Authorization": pages["tokens"]["operator_user"]},
                   data={"reference": "TK-1"})
    assert res.status_code == 200
    assert call_as("operator_user", "sanyi_refund_list")["results"][0]["status"] == "done"


def test_orders_list_pages(app, pages):
    new_order("app-2", merchant="merchant_two")
    mine = get(app, "/orders", pages["tokens"]["merchant_user"])
    staff = get(app, "/orders?status=awaiting_payment", pages["tokens"]["bureau_user"])
    assert staff.count('class="badge sanyi-order-status') == 2
    assert mine.count('class="badge sanyi-order-status') == 1
    assert "Orders and payments" in get(app, "/en/orders", pages["tokens"]["merchant_two"])
    res = app.get("/orders", follow_redirects=False)
    assert res.status_code == 302
