"""Who may do what with orders and refunds: every payment action × every role, through
check_access, through the action itself (a refusal changes nothing) and over the HTTP API."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk
from ckan.tests import factories
from payments_support import AMOUNT, ROLES, call_as, new_order, order_row

from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")

# the order belongs to merchant_user; merchant_two is another merchant
ALLOWED = {
    "sanyi_order_show": {"merchant_user", "operator_user", "bureau_user", "sysadmin"},
    "sanyi_order_list": set(ROLES) - {"anonymous"},
    "sanyi_order_pay": {"merchant_user"},  # the owner only, not even a sysadmin
    "sanyi_order_record_bank_transfer": {"operator_user", "sysadmin"},
    "sanyi_refund_list": set(ROLES) - {"anonymous"},
    "sanyi_refund_complete": {"operator_user", "sysadmin"},
}


def _may(role: str, action: str, data: dict) -> bool:
    context = {"user": "" if role == "anonymous" else role, "ignore_auth": False}
    try:
        return tk.check_access(action, context, data)
    except tk.NotAuthorized:
        return False


@pytest.fixture
def order(pay_world, sanyi_db, request):
    """An order awaiting payment (built once while the tests only read: ``sanyi_db.layer``)."""
    return sanyi_db.layer(request, new_order)


def test_authorization_table(order):
    data = {"id": order["id"]}
    table = {action: {role for role in ROLES if _may(role, action, data)} for action in ALLOWED}
    assert table == ALLOWED


@pytest.mark.parametrize("role", sorted(set(ROLES) - ALLOWED["sanyi_order_show"]))
def test_order_show_refused(order, role):
    with pytest.raises(tk.NotAuthorized):
        call_as(role, "sanyi_order_show", id=order["id"])


@pytest.mark.parametrize("role", sorted(set(ROLES) - ALLOWED["sanyi_order_pay"]))
def test_pay_refused_changes_nothing(order, role):
    with pytest.raises(tk.NotAuthorized):
        call_as(role, "sanyi_order_pay", id=order["id"])
    assert order_row(order["id"])["stripe_payment_intent_id"] is None
    assert audit.count(object_id=order["id"]) == 1


@pytest.mark.parametrize("role", sorted(set(ROLES) - ALLOWED["sanyi_order_record_bank_transfer"]))
def test_bank_transfer_refused_changes_nothing(order, role):
    with pytest.raises(tk.NotAuthorized):
        call_as(role, "sanyi_order_record_bank_transfer", id=order["id"], reference="HX",
                amount_fen=AMOUNT, received_on="2026-01-01")
    assert order_row(order["id"])["status"] == "awaiting_payment"


@pytest.mark.parametrize("role", sorted(set(ROLES) - ALLOWED["sanyi_refund_complete"]))
def test_refund_complete_refused(order, role):
    from ckan import model

    from ckanext.sanyi.payments import refund_for_application
    call_as("operator_user", "sanyi_order_record_bank_transfer", id=order["id"], reference="HX",
            amount_fen=AMOUNT, received_on="2026-01-01")
    refund = refund_for_application("app-1", "bureau_user", "违规使用")
    model.Session.commit()
    with pytest.raises(tk.NotAuthorized):
        call_as(role, "sanyi_refund_complete", id=refund["id"], reference="TK")
    assert call_as("operator_user", "sanyi_refund_list")["results"][0]["status"] == "pending"


def test_unknown_order_is_not_found(pay_world):
    with pytest.raises(tk.ObjectNotFound):
        call_as("operator_user", "sanyi_order_show", id="no-such-order")


def test_over_the_api(order, app):
    tokens = {r: factories.APIToken(user=r)["token"] for r in ROLES if r != "anonymous"}
    url = f"/api/action/sanyi_order_show?id={order['id']}"
    assert app.get(url).status_code == 403
    for role, token in tokens.items():
        expected = 200 if role in ALLOWED["sanyi_order_show"] else 403
        assert app.get(url, headers={"Authorization": token}).status_code == expected, role
    res = app.post("/api/action/sanyi_order_pay", json={"id": order["id"]},
                   headers={"Authorization": tokens["sysadmin"]})
    assert res.status_code == 403
    res = app.post("/api/action/sanyi_order_pay", json={"id": order["id"]},
                   headers={"Authorization": tokens["merchant_user"]})
    assert res.status_code == 200 and res.json["result"]["client_secret"]
