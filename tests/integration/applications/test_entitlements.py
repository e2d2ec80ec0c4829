"""Entitlements: what activation yields, suspension/resumption/revocation by the bureau (with a
refund when paid), and the daily expiry job ``ckan sanyi expire-entitlements``."""
from __future__ import annotations

import datetime as dt

import pytest
from applications_support import (
    HAS_PAYMENTS,
    TODAY,
    call_as,
    free_data,
    snapshot,
    to_status,
)
from ckan import model
from ckan.cli.cli import ckan as ckan_cli
from ckan.plugins import toolkit as tk
from sqlalchemy import text

from ckanext.sanyi.applications import notify, service
from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")


def _expire(cli, day: dt.date | str):
    result = cli.invoke(ckan_cli, ["sanyi", "expire-entitlements", "--today", str(day)])
    model.Session.remove()
    return result


def _ent_status(ent_id: str) -> str:
    return model.Session.execute(text("SELECT status FROM sanyi_entitlement WHERE id = :i"),
                                 {"i": ent_id}).scalar()


def test_activation_yields_the_entitlement_of_the_application(world):
    app = to_status("active", free=True)
    ent = app["entitlement"]
    assert {k: ent[k] for k in ("merchant_id", "product_name", "purpose", "use", "data_items",
                                "period_start", "period_end", "quota", "quota_unit", "status")} == {
        "merchant_id": world["merchants"]["merchant_user"]["id"], "product_name": "health-profile",
        "purpose": app["purpose"], "use": "public_interest", "data_items": app["data_items"],
        "period_start": app["period_start"], "period_end": app["period_end"],
        "quota": app["quantity"], "quota_unit": app["billing_unit"], "status": "active"}
    record = audit.list(object_type="entitlement", object_id=ent["id"])[0]
    assert record["action"] == "sanyi_entitlement_create" and record["after"]["status"] == "active"


def test_expiry_job_is_inclusive_idempotent_and_traced(world, cli):
    end = TODAY + dt.timedelta(days=30)
    app = call_as("merchant_user", "sanyi_application_create",
                  **free_data(period_end=end.isoformat()))
    call_as("merchant_user", "sanyi_application_submit", id=app["id"])
    call_as("wj_editor", "sanyi_application_review", id=app["id"], decision="approve")
    app = call_as("bureau_user", "sanyi_application_review", id=app["id"], decision="approve")
    other = to_status("suspended", free=True)  # ends in a year: untouched
    ent = app["entitlement"]["id"]
    result = _expire(cli, end)
    assert result.exit_code == 0, result.output
    assert "0 entitlement(s) expired" in result.output and _ent_status(ent) == "active"
    unread = notify.unread_count(model.User.get("merchant_user").id)
    result = _expire(cli, end + dt.timedelta(days=1))
    assert result.exit_code == 0 and f"expired / 已到期 {ent}" in result.output
    assert "1 entitlement(s) expired" in result.output
    assert _ent_status(ent) == "expired" and service.get(app["id"])["status"] == "expired"
    assert _ent_status(other["entitlement"]["id"]) == "suspended"
    assert notify.unread_count(model.User.get("merchant_user").id) == unread + 1
    last = audit.list(object_type="application", object_id=app["id"])[0]
    assert last["action"] == "sanyi_application_expire"
    assert last["before"]["status"] == "active" and last["after"]["status"] == "expired"
    assert audit.list(object_type="entitlement", object_id=ent)[0]["action"] == \
        "sanyi_entitlement_expired"
    before = snapshot(app["id"])
    result = _expire(cli, end + dt.timedelta(days=2))
    assert result.exit_code == 0 and "0 entitlement(s) expired" in result.output
    assert snapshot(app["id"]) == before


def test_suspended_entitlement_expires_too(world, cli):
    app = to_status("suspended", free=True)
    end = dt.date.fromisoformat(app["period_end"])
    assert _expire(cli, end + dt.timedelta(days=1)).exit_code == 0
    assert _ent_status(app["entitlement"]["id"]) == "expired"


def test_expiry_job_refuses_a_bad_date(world, cli):
    result = _expire(cli, "someday")
    assert result.exit_code == 2 and "someday" in result.output


def test_suspend_resume_revoke_traced(world):
    app = to_status("active", free=True)
    ent = app["entitlement"]["id"]
    out = call_as("bureau_user", "sanyi_entitlement_suspend", id=ent, reason="超范围调用核查")
    assert out["entitlement"]["status"] == "suspended" and out["application"]["status"] == "suspended"
    assert call_as("merchant_user", "sanyi_entitlement_list", status="suspended")["count"] == 1
    out = call_as("bureau_user", "sanyi_entitlement_resume", id=ent)
    assert out["entitlement"]["status"] == "active"
    out = call_as("bureau_user", "sanyi_entitlement_revoke", id=ent, reason="违规使用")
    assert out["entitlement"]["status"] == "revoked" and out["entitlement"]["ended"]
    assert out["refund"] is None  # free use: nothing paid
    actions = [r["action"] for r in audit.list(object_type="entitlement", object_id=ent,
                                               oldest_first=True)]
    assert actions == ["sanyi_entitlement_create", "sanyi_entitlement_suspended",
                       "sanyi_entitlement_active", "sanyi_entitlement_revoked"]
    reasons = [r["after"].get("reason") for r in audit.list(object_type="application",
                                                            object_id=app["id"], oldest_first=True)]
    assert reasons[-3:] == ["超范围调用核查", None, "违规使用"]
    trace = call_as("merchant_user", "sanyi_application_show", id=app["id"])["trace"]
    assert {"sanyi_entitlement_suspended", "sanyi_application_revoke"} <= {t["action"] for t in trace}


def test_revoking_a_paid_application_asks_payments_to_refund(world):
    app = to_status("active")
    out = call_as("bureau_user", "sanyi_entitlement_revoke", id=app["entitlement"]["id"],
                  reason="数据用途与申报不符")
    assert out["application"]["status"] == "revoked"
    if HAS_PAYMENTS:
        assert out["refund"]["amount_fen"] == app["quote"]["amount_fen"]
        assert out["refund"]["kind"] == "revocation" and out["refund"]["reason"] == "数据用途与申报不符"
        refunds = model.Session.execute(text(
            "SELECT count(*) FROM sanyi_refund WHERE application_id = :a"), {"a": app["id"]}).scalar()
        assert refunds == 1
    record = audit.list(object_type="application", object_id=app["id"])[0]
    assert record["action"] == "sanyi_refund_requested" and record["after"]["payment_ref"]


def test_revoking_an_unpaid_application_by_id(world):
    app = to_status("awaiting_payment")
    with pytest.raises(tk.ValidationError):  # no entitlement id, no application id
        call_as("bureau_user", "sanyi_entitlement_revoke", reason="x")
    out = call_as("bureau_user", "sanyi_entitlement_revoke", application_id=app["id"],
                  reason="逾期未缴费")
    assert out["application"]["status"] == "revoked" and out["entitlement"] is None
    assert out["refund"] is None
    if HAS_PAYMENTS and app["order_id"]:
        status = model.Session.execute(text("SELECT status FROM sanyi_order WHERE id = :o"),
                                       {"o": app["order_id"]}).scalar()
        assert status == "cancelled"
