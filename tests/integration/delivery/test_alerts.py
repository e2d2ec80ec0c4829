"""The suspension rule of over-scope supervision: alerts per entitlement and kind with their
count and first and last time; 5 over-scope refusals within 10 minutes suspend pending
verification (4 do not, 5 spread over more than the window do not); a quota_exhausted refusal
after the merchant was told suspends; the suspension goes through the application lifecycle
(trace, notifications), later calls count as ``suspended``; two processes raising the fifth
refusal at once suspend once; the rule's figures come from the configuration."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from ckan import model
from supervision_records import T0, audit_actions, notices, open_alerts, refuse, status_of

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import alerts, ledger

pytestmark = pytest.mark.usefixtures("with_plugins")
MIN = dt.timedelta(minutes=1)


def test_four_over_scope_refusals_alert_and_the_fifth_suspends(sup_world):
    ent, app = sup_world["entitlement"], sup_world["application"]
    kinds = ["out_of_scope", "data_items_exceeded", "out_of_scope", "data_items_exceeded"]
    reactions = [refuse(ent, kind, T0 + i * MIN) for i, kind in enumerate(kinds)]
    assert [r.opened for r in reactions] == [True, True, False, False]
    assert not any(r.suspended for r in reactions)
    assert status_of(ent["id"]) == ("active", "active")
    assert open_alerts(ent["id"]) == {"out_of_scope": 2, "data_items_exceeded": 2}
    assert alerts.suspension_of(ent["id"]) is None
    bureau_notices = notices("bureau_user")
    assert sum("超范围调用预警" in n for n in bureau_notices) == 2  # one per alert opened

    fifth = refuse(ent, "out_of_scope", T0 + 9 * MIN, operation="other-product-op")
    assert fifth.suspended and fifth.count == 3 and not fifth.opened
    assert status_of(ent["id"]) == ("suspended", "suspended")
    suspension = alerts.suspension_of(ent["id"])
    assert suspension.kind == "pending_verification" and suspension.alert_id == fifth.alert_id
    assert suspension.since == T0 + 9 * MIN
    assert "10 分钟内 5 次超授权范围调用" in suspension.reason
    zh, en = suspension.message
    assert "暂停待核实" in zh and "pending verification" in en

    listing = alerts.list_alerts(model.User.get("bureau_user"), {"status": "open"})
    out = {a["kind"]: a for a in listing["results"]}
    assert out["out_of_scope"]["count"] == 3 and out["out_of_scope"]["suspended"] is True
    assert out["out_of_scope"]["first_at"] == T0.isoformat()
    assert out["out_of_scope"]["last_at"] == (T0 + 9 * MIN).isoformat()
    assert out["out_of_scope"]["last_operation"] == "other-product-op"
    assert out["out_of_scope"]["merchant_id"] == ent["merchant_id"]
    assert out["out_of_scope"]["entitlement_status"] == "suspended"

    # the lifecycle's trace: the application's suspend event by the system, the entitlement's
    # suspension of kind pending_verification
    assert "sanyi_application_suspend" in audit_actions(app["id"])
    record = audit.list(object_type="entitlement", object_id=ent["id"],
                        action="sanyi_entitlement_suspended")[0]
    assert record["after"]["kind"] == "pending_verification"
    assert "超授权范围调用" in record["after"]["reason"]
    assert any("暂停待核实" in n for n in notices("merchant_user"))
    assert any("待数据局核实" in n for n in notices("bureau_user"))
    assert "sanyi_alert_suspend" in audit_actions(str(fifth.alert_id))

    # calls while suspended: the gateway refuses them "suspended", which counts on its alert
    later = refuse(ent, "suspended", T0 + 10 * MIN)
    again = refuse(ent, "out_of_scope", T0 + 11 * MIN)
    assert later.opened and not later.suspended and not again.suspended
    assert open_alerts(ent["id"])["suspended"] == 1
    assert audit.count(action="sanyi_entitlement_suspended", object_id=ent["id"]) == 1


def test_refusals_spread_over_more_than_the_window_do_not_suspend(sup_world):
    ent = sup_world["entitlement"]
    for i in range(5):  # the first and the fifth 12 minutes apart
        assert not refuse(ent, "out_of_scope", T0 + 3 * i * MIN).suspended
    assert status_of(ent["id"])[0] == "active"
    assert open_alerts(ent["id"]) == {"out_of_scope": 5}
    # a sixth: the last five span 10 minutes exactly, within the window
    assert refuse(ent, "out_of_scope", T0 + 13 * MIN).suspended
    assert status_of(ent["id"])[0] == "suspended"


def test_other_refusals_neither_alert_nor_count(sup_world):
    ent = sup_world["entitlement"]
    for code in ("rate_limited", "invalid_token", "entitlement_inactive", "outside_period"):
        assert refuse(ent, code, T0) is None
    assert alerts.on_refusal({"entitlement_id": "no-such-entitlement"}, "out_of_scope") is None
    assert alerts.on_refusal({}, "out_of_scope") is None
    assert open_alerts(ent["id"]) == {}


def test_quota_exhausted_after_the_merchant_was_told_suspends(sup_world):
    ent = sup_world["entitlement"]
    first = refuse(ent, "quota_exhausted", T0)
    assert first.opened and not first.suspended
    assert status_of(ent["id"])[0] == "active"
    assert any("额度已用尽" in n for n in notices("merchant_user"))
    second = refuse(ent, "quota_exhausted", T0 + dt.timedelta(hours=5))
    assert second.suspended and second.count == 2
    assert status_of(ent["id"]) == ("suspended", "suspended")
    assert "已告知后继续调用" in alerts.suspension_of(ent["id"]).reason


def test_the_rule_follows_the_configuration(sup_world, ckan_config, monkeypatch):
    ent, other = sup_world["entitlement"], sup_world["other_entitlement"]
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_after", "2")
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_window", "60")
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_on_quota_retry", "false")
    assert not refuse(ent, "out_of_scope", T0).suspended
    assert not refuse(ent, "out_of_scope", T0 + 2 * MIN).suspended  # 120 s apart
    assert refuse(ent, "data_items_exceeded", T0 + 2 * MIN + dt.timedelta(seconds=30)).suspended
    assert "1 分钟内 2 次" in alerts.suspension_of(ent["id"]).reason
    for hours in (0, 1, 2):
        assert not refuse(other, "quota_exhausted", T0 + dt.timedelta(hours=hours)).suspended
    assert status_of(other["id"])[0] == "active"
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_after", "0")  # off
    for i in range(8):
        assert not refuse(other, "out_of_scope", T0 + i * MIN).suspended


def test_two_processes_raising_the_fifth_refusal_suspend_once(sup_world):
    ent = sup_world["entitlement"]
    for i in range(4):
        refuse(ent, "out_of_scope", T0 + i * MIN)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def fifth(n: int) -> None:
        try:
            barrier.wait(5)
            ledger.record(request_id=f"race-{n}", outcome="refused", error="out_of_scope",
                          product=ent["product_name"], operation="x",
                          merchant_id=ent["merchant_id"], entitlement_id=ent["id"],
                          at=T0 + 5 * MIN)
            results.append(alerts.on_refusal({"entitlement_id": ent["id"]}, "out_of_scope",
                                             T0 + 5 * MIN))
            model.Session.commit()
        except BaseException as err:  # reported below
            results.append(err)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=fifth, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, alerts.Reaction) for r in results), results
    assert sorted(r.suspended for r in results) == [False, True]
    assert sorted(r.count for r in results) == [5, 6]
    assert status_of(ent["id"])[0] == "suspended"
    assert audit.count(action="sanyi_entitlement_suspended", object_id=ent["id"]) == 1
    assert audit.count(action="sanyi_application_suspend",
                       object_id=sup_world["application"]["id"]) == 1
