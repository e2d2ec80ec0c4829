"""Over-scope supervision through the real call pipeline: five calls of another product's
operation are refused out_of_scope and the fifth suspends the entitlement pending
verification, so the next call, even a covered one, is 403 ``suspended`` with that reason and
runs nothing; the bureau dismisses the alerts and the entitlement answers again."""
from __future__ import annotations

import pytest
from ckan.tests import factories, helpers
from gateway_calls import NOON, P1, call, entitle, ledger_rows, risk_input, token

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import alerts

pytestmark = pytest.mark.usefixtures("with_plugins")
CLAIMS_INPUT = {"id_number": P1, "institution": "市第一人民医院", "date_from": "2026-01-01",
                "date_to": "2026-11-30"}


def test_five_out_of_scope_calls_suspend_then_the_bureau_dismisses(app, gateway_world):
    with clock.freeze(NOON):
        ent = entitle(gateway_world)
        tok = token(app, ent)
        for _ in range(5):
            res = call(app, tok, gateway_world["claims"], "visit-verification", CLAIMS_INPUT)
            assert res.status_code == 403 and res.json["error"] == "out_of_scope"
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
        assert res.status_code == 403 and res.json["error"] == "suspended", res.json
        assert "暂停待核实" in res.json["message"]["zh"]
        assert "pending verification" in res.json["message"]["en"]
        assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == \
            ["out_of_scope"] * 5 + ["suspended"]
        assert alerts.suspension_of(ent["id"]).kind == "pending_verification"

        admin = factories.Sysadmin()  # sysadmins count as bureau staff
        listing = helpers.call_action("sanyi_alert_list", context={"user": admin["name"]},
                                      entitlement_id=ent["id"], status="open")
        assert sorted((a["kind"], a["count"]) for a in listing["results"]) == [
            ("out_of_scope", 5), ("suspended", 1)]
        helpers.call_action("sanyi_alert_resolve", context={"user": admin["name"]},
                            id=listing["results"][0]["id"], decision="dismiss",
                            comment="核实为调用方配置错误")
        res = call(app, token(app, ent), ent["product"], "risk-assessment", risk_input())
        assert res.status_code == 200, res.get_data(as_text=True)
