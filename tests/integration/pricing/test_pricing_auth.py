"""Every pricing write (and bureau-only read) action, with every role.

Roles: anonymous, merchant (plain user), data-unit editor, operator editor, bureau editor,
sysadmin. An allowed role's call must succeed; any other must raise NotAuthorized and store
nothing.
"""
from __future__ import annotations

import datetime as dt

import pytest
from ckan.plugins import toolkit as tk
from pricing_support import ROLES, TODAY, call_as, flat

from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")
SOON = (TODAY + dt.timedelta(days=3)).isoformat()
BUREAU = {"bureau_user", "sysadmin"}
OPERATOR = {"operator_user", "sysadmin"}

ACTIONS = {
    "sanyi_price_ceiling_set": (BUREAU, {"product": "rental", "schedule": flat("call", "0.45"),
                                         "effective_from": SOON}),
    "sanyi_price_set": (OPERATOR, {"product": "rental", "schedule": flat("call", "0.35"),
                                   "effective_from": SOON}),
    "sanyi_product_pricing_policy_set": (BUREAU, {"product": "health-profile",
                                                  "industrial_use_allowed": True}),
    "sanyi_priority_discount_set": (BUREAU, {"pct": "15"}),
    "sanyi_revenue_cap_set": (BUREAU, {"period": str(TODAY.year), "allowed_cost_fen": 100000,
                                       "allowed_profit_fen": 10000, "tax_fen": 6000}),
    "sanyi_revenue_shares_set": (BUREAU, {"treasury_pct": "30", "operator_share": "60",
                                          "merchants_share": "40"}),
    "sanyi_revenue_billed_set": (OPERATOR, {"period": str(TODAY.year), "billed_fen": 5000}),
}
BUREAU_READS = {"sanyi_pricing_settings_show": {}, "sanyi_audit_list": {}}
# read by bureau and operator staff: the cap bounds the operator's revenue
SHARED_READS = {"sanyi_revenue_status": (BUREAU | OPERATOR, {})}
PUBLIC_READS = {"sanyi_price_list": {}, "sanyi_price_history": {"product": "rental"},
                "sanyi_disclosure_export": {"year": TODAY.year},
                "sanyi_price_quote": {"product": "rental", "use": "industrial", "unit": "call",
                                      "quantity": 1}}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_write_action_by_role(pricing_world, action, role):
    allowed, data = ACTIONS[action]
    before = audit.count()
    if role in allowed:
        assert call_as(role, action, **data)
        assert audit.count() == before + 1
        [record] = audit.list(limit=1)
        assert record["action"] == action and record["actor"] == role
    else:
        with pytest.raises(tk.NotAuthorized):
            call_as(role, action, **data)
        assert audit.count() == before


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(BUREAU_READS))
def test_bureau_read_by_role(pricing_world, action, role):
    if role in BUREAU:
        assert call_as(role, action, **BUREAU_READS[action]) is not None
    else:
        with pytest.raises(tk.NotAuthorized):
            call_as(role, action, **BUREAU_READS[action])


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(SHARED_READS))
def test_shared_read_by_role(pricing_world, action, role):
    allowed, data = SHARED_READS[action]
    if role in allowed:
        assert "periods" in call_as(role, action, **data)
    else:
        with pytest.raises(tk.NotAuthorized) as err:
            call_as(role, action, **data)
        if role != "anonymous":  # CKAN answers anonymous callers with its own message
            assert "数据局或运营机构" in str(err.value) and "bureau or operator" in str(err.value)


@pytest.mark.parametrize("action", sorted(PUBLIC_READS))
def test_public_reads_allow_anonymous(pricing_world, action):
    assert call_as("anonymous", action, **PUBLIC_READS[action]) is not None


def test_bureau_member_without_editor_role_is_refused(pricing_world):
    from ckan.tests import factories, helpers
    factories.User(name="bureau_member")
    helpers.call_action("organization_member_create", context={"user": "sysadmin"},
                        id="shi-shu-ju-ju", username="bureau_member", role="member")
    with pytest.raises(tk.NotAuthorized):
        call_as("bureau_member", "sanyi_priority_discount_set", pct="10")


def test_refusal_message_is_bilingual(pricing_world):
    with pytest.raises(tk.NotAuthorized) as err:
        call_as("operator_user", "sanyi_price_ceiling_set", **ACTIONS["sanyi_price_ceiling_set"][1])
    assert "数据局" in str(err.value) and "bureau" in str(err.value)
