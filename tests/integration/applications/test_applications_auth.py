"""Authorization of every application, merchant and entitlement action for every role:
anonymous, the applicant, a second merchant, the two data units whose data the product uses,
an uninvolved data unit, the operator, the bureau and a sysadmin."""
from __future__ import annotations

import pytest
from applications_support import (
    ROLES,
    app_data,
    call_as,
    credit_code,
    free_data,
    snapshot,
    to_status,
)
from ckan.plugins import toolkit as tk
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")
OK, E403, E404, E409 = "ok", tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError
STAFF = ["wj_editor", "yb_editor", "yj_editor", "operator_user", "bureau_user", "sysadmin"]


def _outcome(user, action, **data):
    try:
        return call_as(user, action, **data)
    except (tk.NotAuthorized, tk.ObjectNotFound, tk.ValidationError) as err:
        return type(err)


def _check(expected: dict, action: str, **data) -> None:
    got = {}
    for user in ROLES:
        result = _outcome(user, action, **data)
        got[user] = result if isinstance(result, type) else OK
    assert got == {u: expected[u] for u in ROLES}, action


def test_show_per_role(world):
    draft = to_status("draft")
    in_review = to_status("unit_review")
    seen = {"merchant_user": OK, "bureau_user": OK, "sysadmin": OK}
    _check({u: seen.get(u, E403) for u in ROLES}, "sanyi_application_show", id=draft["id"])
    seen.update(wj_editor=OK, yb_editor=OK)
    _check({u: seen.get(u, E403) for u in ROLES}, "sanyi_application_show", id=in_review["id"])


def test_lists_show_only_what_each_role_may_see(world):
    to_status("draft")
    to_status("unit_review")
    to_status("active", free=True, user="merchant_two")  # 市卫健委 only
    counts = {}
    for user in ROLES:
        result = _outcome(user, "sanyi_application_list")
        counts[user] = result if isinstance(result, type) else result["count"]
    assert counts == {"anonymous": E403, "merchant_user": 2, "merchant_two": 1, "wj_editor": 2,
                      "yb_editor": 1, "yj_editor": 0, "operator_user": 0, "bureau_user": 3,
                      "sysadmin": 3}
    ents = {}
    for user in ROLES:
        result = _outcome(user, "sanyi_entitlement_list")
        ents[user] = result if isinstance(result, type) else result["count"]
    assert ents == {"anonymous": E403, "merchant_user": 0, "merchant_two": 1, "wj_editor": 1,
                    "yb_editor": 0, "yj_editor": 0, "operator_user": 0, "bureau_user": 1,
                    "sysadmin": 1}
    mine = call_as("merchant_two", "sanyi_entitlement_list", mine=True)["results"]
    assert [e["product_name"] for e in mine] == ["health-profile"]


def test_merchant_actions_per_role(world):
    factories.User(name="newcomer")
    profile = dict(company_name="新数商有限公司", credit_code=credit_code(99), contact_name="李四",
                   contact_phone="13800000000", enterprise_size="micro")
    for user in ["anonymous"] + STAFF:
        with pytest.raises(tk.NotAuthorized):
            call_as(user, "sanyi_merchant_register", **profile)
    created = call_as("newcomer", "sanyi_merchant_register", **profile)
    assert created["status"] == "pending" and created["user_name"] == "newcomer"
    bureau = {"bureau_user": OK, "sysadmin": OK}
    _check({u: bureau.get(u, E403) for u in ROLES}, "sanyi_merchant_list")
    own = world["merchants"]["merchant_user"]["id"]
    _check({u: {"merchant_user": OK, **bureau}.get(u, E403) for u in ROLES},
           "sanyi_merchant_show", id=own)
    for user in ["anonymous", "merchant_user", "merchant_two", "wj_editor", "yj_editor",
                 "operator_user"]:
        with pytest.raises(tk.NotAuthorized):
            call_as(user, "sanyi_merchant_verify", id=created["id"], decision="approve")
    assert call_as("sysadmin", "sanyi_merchant_verify", id=created["id"],
                   decision="approve")["status"] == "verified"
    with pytest.raises(tk.ObjectNotFound):
        call_as("wj_editor", "sanyi_merchant_show")


def test_create_per_role(world):
    for user in ["anonymous"] + STAFF:
        before = snapshot()
        with pytest.raises(tk.NotAuthorized):
            call_as(user, "sanyi_application_create", **app_data())
        assert snapshot() == before
    assert call_as("merchant_two", "sanyi_application_create", **free_data())["status"] == "draft"
    assert call_as("anonymous", "sanyi_application_data_items",
                   product="chronic-refill")["required_units"] == ["shi-wei-jian-wei",
                                                                   "shi-yi-bao-ju"]


@pytest.mark.parametrize("action, extra", [
    ("sanyi_application_update", {"purpose": "改"}), ("sanyi_application_submit", {}),
    ("sanyi_application_withdraw", {})])
def test_applicant_only_actions(world, action, extra):
    app = to_status("draft")
    for user in [u for u in ROLES if u != "merchant_user"]:
        before = snapshot(app["id"])
        with pytest.raises(tk.NotAuthorized):
            call_as(user, action, id=app["id"], **extra)
        assert snapshot(app["id"]) == before, user
    call_as("merchant_user", action, id=app["id"], **extra)


def test_review_per_role(world):
    app = to_status("unit_review")
    expected = {u: E403 for u in ROLES if u not in ("wj_editor", "yb_editor")}
    expected.update(bureau_user=E409, sysadmin=E409)  # reviewers, but not in unit review
    for user, kind in expected.items():
        before = snapshot(app["id"])
        with pytest.raises(kind):
            call_as(user, "sanyi_application_review", id=app["id"], decision="approve")
        assert snapshot(app["id"]) == before, user
    for unit in ("wj_editor", "yb_editor"):
        call_as(unit, "sanyi_application_review", id=app["id"], decision="approve")
    for user in ("wj_editor", "merchant_user", "yj_editor", "operator_user"):
        kind = E409 if user == "wj_editor" else E403
        with pytest.raises(kind):
            call_as(user, "sanyi_application_review", id=app["id"], decision="approve")
    assert call_as("sysadmin", "sanyi_application_review", id=app["id"],
                   decision="approve")["status"] == "awaiting_payment"


@pytest.mark.parametrize("op, start, reason", [("suspend", "active", "核查"),
                                               ("resume", "suspended", None),
                                               ("revoke", "active", "违规")])
def test_entitlement_changes_per_role(world, op, start, reason):
    app = to_status(start, free=True)
    ent = app["entitlement"]["id"]
    data = {"id": ent, **({"reason": reason} if reason else {})}
    for user in [u for u in ROLES if u not in ("bureau_user", "sysadmin")]:
        before = snapshot(app["id"])
        with pytest.raises(tk.NotAuthorized):
            call_as(user, f"sanyi_entitlement_{op}", **data)
        assert snapshot(app["id"]) == before, user
    out = call_as("bureau_user", f"sanyi_entitlement_{op}", **data)
    assert out["entitlement"]["status"] == {"suspend": "suspended", "resume": "active",
                                            "revoke": "revoked"}[op]
    assert out["application"]["status"] == out["entitlement"]["status"]
