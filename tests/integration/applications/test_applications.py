"""The application state machine through the actions: every allowed transition, the free and
the charged journeys, the trace."""
from __future__ import annotations

import pytest
from applications_support import (
    HAS_PAYMENTS,
    ITEMS_CHRONIC,
    TODAY,
    call_as,
    free_data,
    pay,
    to_status,
)
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import helpers
from sqlalchemy import text

from ckanext.sanyi.applications import service
from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")


def _orders(application_id: str) -> int:
    exists = model.Session.execute(text("SELECT to_regclass('sanyi_order')")).scalar()
    if not exists:
        return 0
    return model.Session.execute(text("SELECT count(*) FROM sanyi_order WHERE application_id = :a"),
                                 {"a": application_id}).scalar()


def _actions(application_id: str) -> list[tuple[str, str | None]]:
    return [(r["action"], (r["after"] or {}).get("status"))
            for r in audit.list(object_type="application", object_id=application_id,
                                oldest_first=True)]


def test_free_journey_ends_active_with_no_order(world):
    """个人健康画像与风险预警 (public interest): draft → unit review → bureau → active."""
    app = call_as("merchant_user", "sanyi_application_create", **free_data())
    assert app["status"] == "draft" and app["version"] == 1
    assert [u["name"] for u in app["required_units"]] == ["shi-wei-jian-wei"]
    app = call_as("merchant_user", "sanyi_application_submit", id=app["id"])
    assert app["status"] == "unit_review" and app["submitted"]
    app = call_as("wj_editor", "sanyi_application_review", id=app["id"], decision="approve",
                  comment="数据使用范围合理")
    assert app["status"] == "bureau_review"
    app = call_as("bureau_user", "sanyi_application_review", id=app["id"], decision="approve")
    assert app["status"] == "active" and app["quote"] is None and app["order_id"] is None
    assert _orders(app["id"]) == 0
    ent = app["entitlement"]
    assert ent["status"] == "active" and ent["use"] == "public_interest"
    assert ent["data_items"] == ["hypertension:随访日期"] and ent["quota"] == 1000
    assert ent["period_start"] == TODAY.isoformat() and ent["purpose"] == "慢病风险预警（公益）"
    assert _actions(app["id"]) == [
        ("sanyi_application_create", "draft"), ("sanyi_application_submit", "unit_review"),
        ("sanyi_application_review", "bureau_review"), ("sanyi_application_review", "active")]
    last = audit.list(object_type="application", object_id=app["id"])[0]
    assert last["after"]["statuses"] == ["bureau_review", "approved", "active"]
    assert last["before"]["status"] == "bureau_review" and last["actor"] == "bureau_user"
    trace = [t["action"] for t in app["trace"]]
    assert trace[-1] == "sanyi_entitlement_create" and "sanyi_application_submit" in trace


def test_every_unit_must_approve_before_the_bureau(world):
    app = to_status("unit_review")
    assert {u["name"] for u in app["required_units"]} == {"shi-wei-jian-wei", "shi-yi-bao-ju"}
    app = call_as("yb_editor", "sanyi_application_review", id=app["id"], decision="approve")
    assert app["status"] == "unit_review"
    assert app["unit_decisions"] == {"shi-yi-bao-ju": "approved"}
    queue = call_as("wj_editor", "sanyi_application_list", queue=True)
    assert [a["id"] for a in queue["results"]] == [app["id"]]
    assert call_as("yb_editor", "sanyi_application_list", queue=True)["count"] == 0
    assert call_as("bureau_user", "sanyi_application_list", queue=True)["count"] == 0
    app = call_as("wj_editor", "sanyi_application_review", id=app["id"], decision="approve")
    assert app["status"] == "bureau_review"
    assert call_as("bureau_user", "sanyi_application_list", queue=True)["count"] == 1
    assert [r["organization"] for r in app["reviews"]] == ["shi-yi-bao-ju", "shi-wei-jian-wei"]


def test_charged_journey_locks_the_fee_and_activates_on_payment(world):
    app = to_status("bureau_review")
    app = call_as("bureau_user", "sanyi_application_review", id=app["id"], decision="approve",
                  comment="同意，按标准收费")
    assert app["status"] == "awaiting_payment"
    assert app["quote"]["amount_fen"] == 15000 * 30 and app["quote"]["free"] is False
    assert app["billing_unit"] == "call" and app["quantity"] == 15000
    assert app["entitlement"] is None
    if HAS_PAYMENTS:
        assert app["order_id"] and _orders(app["id"]) == 1
        order = call_as("merchant_user", "sanyi_order_show", id=app["order_id"])
        assert order["amount_fen"] == 450000 and order["status"] == "awaiting_payment"
    pay(app["id"], "BANK-42")
    app = call_as("merchant_user", "sanyi_application_show", id=app["id"])
    assert app["status"] == "active" and app["payment_ref"] == "BANK-42"
    assert app["entitlement"]["quota"] == 15000 and app["entitlement"]["quota_unit"] == "call"
    assert app["entitlement"]["data_items"] == ITEMS_CHRONIC
    actions = [a for a, _ in _actions(app["id"])]
    assert actions[-2:] == ["sanyi_application_pay", "sanyi_application_activate"]


def test_mark_paid_twice_does_nothing_the_second_time(world):
    app = to_status("awaiting_payment")
    service.mark_paid(app["id"], "operator_user", "PAY-1", commit=True)
    before = (model.Session.execute(text("SELECT version FROM sanyi_application WHERE id=:i"),
                                    {"i": app["id"]}).scalar(), audit.count())
    service.mark_paid(app["id"], "operator_user", "PAY-1", commit=True)
    service.mark_paid(app["id"], "operator_user", "PAY-2", commit=True)
    after = (model.Session.execute(text("SELECT version FROM sanyi_application WHERE id=:i"),
                                   {"i": app["id"]}).scalar(), audit.count())
    assert before == after
    assert model.Session.execute(text("SELECT count(*) FROM sanyi_entitlement")).scalar() == 1
    assert service.get(app["id"])["payment_ref"] == "PAY-1"


def test_mark_paid_does_not_commit_by_default(world):
    app = to_status("awaiting_payment")
    service.mark_paid(app["id"], "operator_user", "PAY-1")
    assert service.get(app["id"])["status"] == "active"
    model.Session.rollback()  # the caller (payments) decides
    assert service.get(app["id"])["status"] == "awaiting_payment"


def test_unit_rejection_rejects(world):
    app = to_status("unit_review")
    app = call_as("yb_editor", "sanyi_application_review", id=app["id"], decision="reject",
                  comment="参保数据超出最小必要范围")
    assert app["status"] == "rejected" and app["decided"]
    assert app["reviews"][-1]["comment"] == "参保数据超出最小必要范围"


def test_returned_application_is_changed_and_reviewed_afresh(world):
    app = to_status("unit_review")
    call_as("yb_editor", "sanyi_application_review", id=app["id"], decision="approve")
    app = call_as("wj_editor", "sanyi_application_review", id=app["id"], decision="return",
                  comment="请删除随访日期")
    assert app["status"] == "returned"
    app = call_as("merchant_user", "sanyi_application_update", id=app["id"],
                  data_items=["hypertension:患者编号"])
    assert app["data_items"] == ["hypertension:患者编号"] and app["status"] == "returned"
    app = call_as("merchant_user", "sanyi_application_submit", id=app["id"])
    assert app["status"] == "unit_review" and app["unit_decisions"] == {}


def test_bureau_can_return_and_reject(world):
    app = to_status("bureau_review")
    app = call_as("bureau_user", "sanyi_application_review", id=app["id"], decision="return",
                  comment="请说明调用量测算依据")
    assert app["status"] == "returned"
    app = to_status("bureau_review")
    app = call_as("bureau_user", "sanyi_application_review", id=app["id"], decision="reject",
                  comment="用途与产品不符")
    assert app["status"] == "rejected"


@pytest.mark.parametrize("status", ["draft", "unit_review", "bureau_review", "returned"])
def test_merchant_withdraws_before_a_decision(world, status):
    app = to_status(status)
    app = call_as("merchant_user", "sanyi_application_withdraw", id=app["id"], reason="不再需要")
    assert app["status"] == "withdrawn"
    assert audit.list(object_type="application", object_id=app["id"])[0]["after"]["reason"] == "不再需要"


def test_trace_is_append_only(world):
    app = to_status("bureau_review")
    with pytest.raises(Exception, match="append-only"):
        model.Session.execute(text("DELETE FROM sanyi_application_review"))
    model.Session.rollback()
    with pytest.raises(Exception, match="append-only"):
        model.Session.execute(text("UPDATE sanyi_audit SET actor = 'x' WHERE object_id = :i"),
                              {"i": app["id"]})
    model.Session.rollback()
    assert len(call_as("merchant_user", "sanyi_application_show", id=app["id"])["reviews"]) == 2


def test_bureau_cannot_approve_charged_use_the_pricing_refuses(world):
    """Industrial use of a public-interest product needs the bureau's permission and a price:
    approval is refused (409, the pricing field named) and nothing changes until then."""
    from applications_support import call_as as call
    from applications_support import snapshot, system
    app = call("merchant_user", "sanyi_application_create",
               **free_data(use="industrial", billing_unit="year"))
    call("merchant_user", "sanyi_application_submit", id=app["id"])
    call("wj_editor", "sanyi_application_review", id=app["id"], decision="approve")
    before = snapshot(app["id"])
    with pytest.raises(tk.ValidationError) as err:
        call("bureau_user", "sanyi_application_review", id=app["id"], decision="approve")
    assert "use" in err.value.error_dict and " / " in err.value.error_dict["use"][0]
    assert snapshot(app["id"]) == before
    start = TODAY.replace(month=1, day=1).isoformat()
    call("bureau_user", "sanyi_product_pricing_policy_set", product="health-profile",
         industrial_use_allowed=True)
    for action, price in (("sanyi_price_ceiling_set", "20000"), ("sanyi_price_set", "15000")):
        system(action, product="health-profile", effective_from=start,
               schedule={"unit": "year", "bands": [{"upto": None, "price": price}]})
    app = call("bureau_user", "sanyi_application_review", id=app["id"], decision="approve")
    assert app["status"] == "awaiting_payment" and app["quote"]["amount_fen"] == 1500000
    assert app["quantity"] == 1 and app["billing_unit"] == "year"


def test_internal_show_without_a_user(world):
    """Payments reads an application with ignore_auth and no user."""
    app = to_status("unit_review")
    shown = helpers.call_action("sanyi_application_show", context={"ignore_auth": True, "user": ""},
                                id=app["id"])
    assert shown["applicant"] == "merchant_user" and shown["allowed_events"] == []
