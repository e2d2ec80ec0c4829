"""Refused transitions: not allowed from the current status → 409, not by this actor → 403,
and in every case nothing changed (application row, audit, reviews, entitlements,
notifications). Checked through the actions and, for the codes, through the HTTP API."""
from __future__ import annotations

import pytest
from applications_support import call_as, snapshot, to_status
from ckan.plugins import toolkit as tk
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")

E409, E403 = tk.ValidationError, tk.NotAuthorized
APPROVE = {"decision": "approve", "comment": "同意"}
REJECT = {"decision": "reject", "comment": "不同意"}
RETURN = {"decision": "return", "comment": "请修改"}

# (user, action, extra data, expected) per starting status; "ENT" targets the entitlement.
REFUSED = {
    "draft": [
        ("merchant_two", "sanyi_application_submit", {}, E403),
        ("bureau_user", "sanyi_application_submit", {}, E403),
        ("merchant_two", "sanyi_application_update", {"purpose": "x"}, E403),
        ("merchant_two", "sanyi_application_withdraw", {}, E403),
        ("merchant_user", "sanyi_application_review", APPROVE, E403),
        ("yj_editor", "sanyi_application_review", APPROVE, E403),
        ("wj_editor", "sanyi_application_review", APPROVE, E409),
        ("bureau_user", "sanyi_application_review", APPROVE, E409),
    ],
    "unit_review": [
        ("merchant_user", "sanyi_application_submit", {}, E409),
        ("merchant_user", "sanyi_application_update", {"purpose": "改"}, E409),
        ("merchant_two", "sanyi_application_withdraw", {}, E403),
        ("bureau_user", "sanyi_application_review", APPROVE, E409),
        ("bureau_user", "sanyi_application_review", REJECT, E409),
        ("yj_editor", "sanyi_application_review", APPROVE, E403),
        ("operator_user", "sanyi_application_review", APPROVE, E403),
        ("merchant_user", "sanyi_application_review", APPROVE, E403),
        ("wj_editor", "sanyi_application_review", {"decision": "reject"}, E409),  # no reason
        ("wj_editor", "sanyi_application_review", {"decision": "maybe"}, E409),
    ],
    "bureau_review": [
        ("wj_editor", "sanyi_application_review", APPROVE, E409),
        ("yb_editor", "sanyi_application_review", REJECT, E409),
        ("merchant_user", "sanyi_application_submit", {}, E409),
        ("merchant_user", "sanyi_application_update", {"purpose": "改"}, E409),
        ("bureau_user", "sanyi_application_review", {"decision": "return"}, E409),  # no reason
        ("yj_editor", "sanyi_application_review", APPROVE, E403),
        ("merchant_user", "sanyi_application_review", APPROVE, E403),
        ("bureau_user", "sanyi_application_review", dict(APPROVE, version=1), E409),  # stale
    ],
    "returned": [
        ("wj_editor", "sanyi_application_review", APPROVE, E409),
        ("bureau_user", "sanyi_application_review", APPROVE, E409),
        ("merchant_two", "sanyi_application_submit", {}, E403),
    ],
    "rejected": [
        ("merchant_user", "sanyi_application_submit", {}, E409),
        ("merchant_user", "sanyi_application_withdraw", {}, E409),
        ("merchant_user", "sanyi_application_update", {"purpose": "改"}, E409),
        ("bureau_user", "sanyi_application_review", APPROVE, E409),
        ("wj_editor", "sanyi_application_review", APPROVE, E409),
    ],
    "withdrawn": [
        ("merchant_user", "sanyi_application_submit", {}, E409),
        ("merchant_user", "sanyi_application_withdraw", {}, E409),
    ],
    "awaiting_payment": [
        ("merchant_user", "sanyi_application_withdraw", {}, E409),
        ("bureau_user", "sanyi_application_review", APPROVE, E409),
        ("wj_editor", "sanyi_application_review", RETURN, E409),
        ("merchant_user", "sanyi_entitlement_revoke", {"application_id": "APP", "reason": "x"}, E403),
    ],
    "active": [
        ("merchant_user", "sanyi_application_withdraw", {}, E409),
        ("bureau_user", "sanyi_application_review", RETURN, E409),
        ("bureau_user", "sanyi_entitlement_resume", {"id": "ENT"}, E409),
        ("bureau_user", "sanyi_entitlement_suspend", {"id": "ENT"}, E409),  # no reason
        ("merchant_user", "sanyi_entitlement_suspend", {"id": "ENT", "reason": "x"}, E403),
        ("wj_editor", "sanyi_entitlement_revoke", {"id": "ENT", "reason": "x"}, E403),
        ("operator_user", "sanyi_entitlement_suspend", {"id": "ENT", "reason": "x"}, E403),
    ],
    "suspended": [
        ("bureau_user", "sanyi_entitlement_suspend", {"id": "ENT", "reason": "再次"}, E409),
        ("merchant_user", "sanyi_entitlement_resume", {"id": "ENT"}, E403),
        ("merchant_user", "sanyi_application_withdraw", {}, E409),
    ],
    "revoked": [
        ("bureau_user", "sanyi_entitlement_resume", {"id": "ENT"}, E409),
        ("bureau_user", "sanyi_entitlement_suspend", {"id": "ENT", "reason": "x"}, E409),
        ("bureau_user", "sanyi_entitlement_revoke", {"id": "ENT", "reason": "x"}, E409),
    ],
}


@pytest.mark.parametrize("status", list(REFUSED))
def test_refused_transitions_change_nothing(world, status):
    app = to_status(status, free=status in ("active", "suspended", "revoked"))
    ent = (app.get("entitlement") or {}).get("id")
    for user, action, extra, expected in REFUSED[status]:
        data = {"id": app["id"]}
        data.update({k: {"ENT": ent, "APP": app["id"]}.get(v, v) if isinstance(v, str) else v
                     for k, v in extra.items()})
        before = snapshot(app["id"])
        with pytest.raises(expected) as err:
            call_as(user, action, **data)
        assert snapshot(app["id"]) == before, (user, action)
        if expected is E409:
            messages = " ".join(" ".join(map(str, v)) for v in err.value.error_dict.values())
            assert " / " in messages, (user, action, err.value.error_dict)
    assert call_as("bureau_user", "sanyi_application_show", id=app["id"])["status"] == status


def _post(app, action: str, token: str, **data):
    return app.post(f"/api/3/action/{action}", json=data, headers={"Authorization": token})


def test_http_codes_409_403_and_404(app, world):
    tokens = {u: factories.APIToken(user=u)["token"] for u in
              ("merchant_user", "merchant_two", "wj_editor", "bureau_user")}
    application = to_status("unit_review")
    before = snapshot(application["id"])
    res = _post(app, "sanyi_application_submit", tokens["merchant_user"], id=application["id"])
    assert res.status_code == 409
    body = res.get_json()
    assert body["success"] is False and "status" in body["error"]
    assert "数源单位审核中" in body["error"]["status"][0] and "unit_review" in body["error"]["status"][0]
    res = _post(app, "sanyi_application_withdraw", tokens["merchant_two"], id=application["id"])
    assert res.status_code == 403 and "申请人" in res.get_json()["error"]["message"]
    res = _post(app, "sanyi_application_review", tokens["bureau_user"], id=application["id"],
                decision="approve")
    assert res.status_code == 409
    res = _post(app, "sanyi_application_show", tokens["merchant_two"], id=application["id"])
    assert res.status_code == 403
    res = _post(app, "sanyi_application_show", tokens["bureau_user"], id="no-such-id")
    assert res.status_code == 404
    assert snapshot(application["id"]) == before
    res = _post(app, "sanyi_application_review", tokens["wj_editor"], id=application["id"],
                decision="approve", comment="同意")
    assert res.status_code == 200 and res.get_json()["result"]["unit_decisions"] == {
        "shi-wei-jian-wei": "approved"}
