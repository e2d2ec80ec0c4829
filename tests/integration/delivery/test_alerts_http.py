"""Alerts over ``/api/3/action``: who lists which (anonymous and no role refused, a merchant
its own, bureau and operator all), filters and their bilingual field errors; the bureau's
decisions: confirm (stays suspended, the application's trace records it), dismiss (resumed,
the rule counts afresh), revoke (through the lifecycle); every decision audited; others
refused 403; bad input 409/404, never 500."""
from __future__ import annotations

import pytest
from applications_support import HAN, LATIN
from ckan import model
from ckan.tests import factories
from supervision_records import T0, audit_actions, notices, open_alerts, refuse, status_of

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import alerts

pytestmark = pytest.mark.usefixtures("with_plugins")
ROLES = ("no_role", "merchant_user", "merchant_two", "operator_user", "bureau_user", "wj_editor")


@pytest.fixture
def alert_world(sup_world):
    """Five over-scope refusals (suspended pending verification) for merchant_user, one
    quota_exhausted refusal for merchant_two; API tokens of every role."""
    ent, other = sup_world["entitlement"], sup_world["other_entitlement"]
    for i in range(5):
        refuse(ent, "out_of_scope", T0.replace(minute=i))
    refuse(other, "quota_exhausted", T0)
    tokens = {name: factories.APIToken(user=name)["token"] for name in ROLES}
    return dict(sup_world, tokens=tokens)


def _call(app, world, who, action, expect=200, method="post", **data):
    headers = {"Authorization": world["tokens"][who]} if who != "anonymous" else {}
    if method == "get":
        res = app.get(f"/api/3/action/{action}", query_string=data, headers=headers)
    else:
        res = app.post(f"/api/3/action/{action}", json=data, headers=headers)
    assert res.status_code == expect, res.get_data(as_text=True)[:500]
    return res.json


def _bilingual(body, field):
    message = " ".join(str(m) for m in body["error"][field])
    assert HAN.search(message) and LATIN.search(message), message
    return message


def _open_id(world, key="entitlement"):
    ent = world[key]["id"]
    return next(a["id"] for a in alerts.list_alerts(
        model.User.get("bureau_user"), {"entitlement_id": ent, "status": "open"}
    )["results"])


@pytest.mark.parametrize("who", ["anonymous", "no_role", "wj_editor"])
def test_nobody_without_a_role_lists_alerts(app, alert_world, who):
    body = _call(app, alert_world, who, "sanyi_alert_list", 403, method="get")
    assert body["success"] is False


def test_merchants_see_their_own_and_staff_all(app, alert_world):
    mine, theirs = alert_world["entitlement"]["id"], alert_world["other_entitlement"]["id"]
    seen = {}
    for who in ("merchant_user", "merchant_two", "operator_user", "bureau_user"):
        result = _call(app, alert_world, who, "sanyi_alert_list", method="get")["result"]
        seen[who] = {(a["entitlement_id"], a["kind"], a["count"]) for a in result["results"]}
    assert seen["merchant_user"] == {(mine, "out_of_scope", 5)}
    assert seen["merchant_two"] == {(theirs, "quota_exhausted", 1)}
    assert seen["operator_user"] == seen["bureau_user"] == seen["merchant_user"] | seen["merchant_two"]
    result = _call(app, alert_world, "bureau_user", "sanyi_alert_list", method="get",
                   kind="quota_exhausted", status="open", limit=1)["result"]
    assert result["count"] == 1 and result["results"][0]["company_name"]
    result = _call(app, alert_world, "merchant_two", "sanyi_alert_list", method="get",
                   entitlement_id=mine)["result"]
    assert result == {"count": 0, "results": []}
    for field, value in (("status", "closed"), ("kind", "robbery"), ("limit", "-1")):
        body = _call(app, alert_world, "bureau_user", "sanyi_alert_list", 409, **{field: value})
        if field != "limit":
            _bilingual(body, field)


@pytest.mark.parametrize("who", ["anonymous", "no_role", "merchant_user", "operator_user"])
def test_only_the_bureau_decides(app, alert_world, who):
    alert_id = _open_id(alert_world)
    body = _call(app, alert_world, who, "sanyi_alert_resolve", 403, id=alert_id,
                 decision="dismiss")
    assert body["success"] is False
    assert status_of(alert_world["entitlement"]["id"])[0] == "suspended"


@pytest.mark.parametrize("data, field", [
    ({"decision": "forgive"}, "decision"), ({"decision": "confirm"}, "comment"),
    ({"decision": "revoke", "comment": "  "}, "comment"), ({"decision": ["confirm"]}, "decision"),
    ({"decision": "dismiss", "comment": {"x": 1}}, "comment"),
    ({"decision": "dismiss", "comment": "x" * 1001}, "comment"),
    ({"decision": "dismiss", "comment": "bad\x00"}, "comment"),
])
def test_bad_decisions_are_field_errors(app, alert_world, data, field):
    body = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve", 409,
                 id=_open_id(alert_world), **data)
    _bilingual(body, field)
    assert status_of(alert_world["entitlement"]["id"])[0] == "suspended"


@pytest.mark.parametrize("alert_id, expect", [("999999", 404), ("x", 409), (["1"], 409),
                                               ("1" * 40, 409), ("", 409), (None, 409)])
def test_unknown_or_malformed_ids(app, alert_world, alert_id, expect):
    body = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve", expect, id=alert_id,
                 decision="dismiss")
    assert body["success"] is False


def test_confirm_keeps_suspended_and_the_trace_records_it(app, alert_world):
    ent, application = alert_world["entitlement"], alert_world["application"]
    refuse(ent, "suspended", T0.replace(minute=30))  # a second open alert of the entitlement
    alert_id = _open_id(alert_world)
    result = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve", id=alert_id,
                   decision="confirm", comment="核实：调用了未授权的产品")["result"]
    assert result["entitlement"]["status"] == "suspended" and len(result["resolved"]) == 2
    assert result["alert"]["decision"] == "confirm" and result["alert"]["decided_by"] == "bureau_user"
    assert status_of(ent["id"]) == ("suspended", "suspended")
    assert open_alerts(ent["id"]) == {}
    assert alerts.suspension_of(ent["id"]).kind == "confirmed"
    shown = _call(app, alert_world, "merchant_user", "sanyi_application_show", method="get",
                  id=application["id"])["result"]
    record = next(r for r in shown["trace"] if r["action"] == "sanyi_alert_confirm")
    assert record["actor"] == "bureau_user" and record["after"]["comment"] == "核实：调用了未授权的产品"
    assert record["after"]["entitlement_status"] == "suspended"
    for alert in result["resolved"]:
        assert audit_actions(str(alert)).count("sanyi_alert_resolve") == 1
    assert any("核实确认" in n for n in notices("merchant_user"))
    again = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve", 409, id=alert_id,
                  decision="dismiss")
    _bilingual(again, "status")


def test_dismiss_resumes_and_the_rule_counts_afresh(app, alert_world):
    ent, application = alert_world["entitlement"], alert_world["application"]
    result = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve",
                   id=_open_id(alert_world), decision="dismiss")["result"]
    assert result["entitlement"]["status"] == "active"
    assert status_of(ent["id"]) == ("active", "active")
    assert alerts.suspension_of(ent["id"]) is None
    assert "sanyi_alert_dismiss" in audit_actions(application["id"])
    assert "sanyi_application_resume" in audit_actions(application["id"])
    for i in range(4):  # four more within minutes: the count starts again
        assert not refuse(ent, "out_of_scope", T0.replace(minute=10 + i)).suspended
    assert refuse(ent, "out_of_scope", T0.replace(minute=14)).suspended


def test_dismiss_of_an_alert_that_suspended_nothing_leaves_the_entitlement(app, alert_world):
    other = alert_world["other_entitlement"]
    result = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve",
                   id=_open_id(alert_world, "other_entitlement"), decision="dismiss",
                   comment="已补充额度")["result"]
    assert result["entitlement"]["status"] == "active" and status_of(other["id"])[0] == "active"
    assert "sanyi_application_resume" not in audit_actions(alert_world["other_application"]["id"])
    # the merchant was told afresh: the next exhaustion is the first again
    assert not refuse(other, "quota_exhausted", T0.replace(hour=5)).suspended


def test_revoke_goes_through_the_lifecycle(app, alert_world):
    ent, application = alert_world["entitlement"], alert_world["application"]
    result = _call(app, alert_world, "bureau_user", "sanyi_alert_resolve",
                   id=_open_id(alert_world), decision="revoke", comment="多次超范围调用")["result"]
    assert result["entitlement"]["status"] == "revoked"
    assert status_of(ent["id"]) == ("revoked", "revoked")
    actions = audit_actions(application["id"])
    assert "sanyi_application_revoke" in actions and "sanyi_alert_revoke" in actions
    assert audit.count(action="sanyi_entitlement_revoked", object_id=ent["id"]) == 1
