"""Bureau settings: revenue cap with warnings at 80 %/100 % and carry-over, shares, history."""
from __future__ import annotations

import pytest
from ckan.plugins import toolkit as tk
from pricing_support import TODAY, assert_bilingual_field_error, call_as

pytestmark = pytest.mark.usefixtures("with_plugins")
Y = TODAY.year


def cap(period, cost, profit=0, tax=0, **extra):
    return call_as("bureau_user", "sanyi_revenue_cap_set", period=str(period),
                   allowed_cost_fen=cost, allowed_profit_fen=profit, tax_fen=tax, **extra)


def billed(period, fen):
    return call_as("operator_user", "sanyi_revenue_billed_set", period=str(period), billed_fen=fen)


def test_cap_is_cost_plus_profit_plus_tax(pricing_world):
    row = cap(Y, 800_00, 150_00, 50_00)
    assert row["value"]["total_fen"] == 1000_00
    status = call_as("bureau_user", "sanyi_revenue_status")
    assert status["current"]["approved_cap_fen"] == 1000_00 and status["current"]["level"] == "ok"


@pytest.mark.parametrize("fen, level, warned", [(79_99, "ok", False), (80_00, "warning", True),
                                                 (99_99, "warning", True), (100_00, "exceeded", True),
                                                 (120_00, "exceeded", True)])
def test_warnings_at_80_and_100_percent(pricing_world, fen, level, warned):
    cap(Y, 100_00)
    billed(Y, fen)
    status = call_as("bureau_user", "sanyi_revenue_status")
    assert status["current"]["level"] == level
    assert bool(status["warnings"]) is warned
    if warned:
        message = status["warnings"][0]
        assert "最高准许收入" in message and "maximum allowed revenue" in message


def test_custom_warning_pct(pricing_world):
    cap(Y, 100_00, warning_pct="90")
    billed(Y, 85_00)
    assert call_as("bureau_user", "sanyi_revenue_status")["current"]["level"] == "ok"


def test_excess_is_carried_into_the_next_period(pricing_world):
    cap(Y - 1, 100_00)
    billed(Y - 1, 130_00)
    cap(Y, 100_00)
    billed(Y, 50_00)
    last, this = call_as("bureau_user", "sanyi_revenue_status")["periods"]
    assert (last["excess_fen"], last["carry_forward_fen"]) == (30_00, 30_00)
    assert (this["carried_deduction_fen"], this["effective_cap_fen"]) == (30_00, 70_00)
    assert this["used_pct"] == "71.43" and this["level"] == "ok"
    assert this["effective_cap_yuan"] == "70.00"


def test_cap_history_keeps_every_value(pricing_world):
    cap(Y, 100_00)
    cap(Y, 200_00)
    settings = call_as("bureau_user", "sanyi_pricing_settings_show")
    assert settings["revenue_caps"][str(Y)]["value"]["total_fen"] == 200_00
    assert [r["value"]["total_fen"] for r in settings["revenue_cap_history"]] == [200_00, 100_00]
    assert settings["revenue_cap_history"][0]["created_by"] == "bureau_user"


def test_shares_default_and_split(pricing_world):
    status = call_as("bureau_user", "sanyi_revenue_status", net_profit_fen=1000_00)
    assert status["shares"]["treasury_pct"] == "30" and status["shares"]["is_default"] is True
    assert status["split"]["treasury_fen"] == 300_00 and status["split"]["operator_fen"] == 700_00
    call_as("bureau_user", "sanyi_revenue_shares_set", treasury_pct="30", operator_share="60",
            merchants_share="40")
    split = call_as("bureau_user", "sanyi_revenue_status", net_profit_fen=1000_01)["split"]
    assert split["treasury_fen"] + split["operator_fen"] + split["merchants_fen"]["merchants"] == 1000_01
    # 30 % of 100001 fen = 30000.3 → 30000; the 70001 left split 60:40 by largest remainder
    assert split["treasury_fen"] == 300_00
    assert split["operator_fen"] == 420_01 and split["merchants_fen"]["merchants"] == 280_00


def test_discount_history(pricing_world):
    for pct in ("10", "12.5"):
        call_as("bureau_user", "sanyi_priority_discount_set", pct=pct)
    settings = call_as("bureau_user", "sanyi_pricing_settings_show")
    assert settings["priority_discount_pct"] == "12.5"
    assert [r["value"]["pct"] for r in settings["priority_discount_history"]] == ["12.5", "10"]
    assert call_as("anonymous", "sanyi_price_list")["priority_discount_pct"] == "12.5"


@pytest.mark.parametrize("action, data, field", [
    ("sanyi_priority_discount_set", {"pct": "101"}, "pct"),
    ("sanyi_priority_discount_set", {"pct": 0.2}, "pct"),
    ("sanyi_priority_discount_set", {}, "pct"),
    ("sanyi_revenue_cap_set", {"period": "26", "allowed_cost_fen": 1, "allowed_profit_fen": 1,
                               "tax_fen": 1}, "period"),
    ("sanyi_revenue_cap_set", {"period": "2026", "allowed_cost_fen": -1, "allowed_profit_fen": 1,
                               "tax_fen": 1}, "allowed_cost_fen"),
    ("sanyi_revenue_cap_set", {"period": "2026", "allowed_cost_fen": "1.5", "allowed_profit_fen": 1,
                               "tax_fen": 1}, "allowed_cost_fen"),
    ("sanyi_revenue_cap_set", {"period": "2026", "allowed_cost_fen": 1, "tax_fen": 1},
     "allowed_profit_fen"),
    ("sanyi_revenue_shares_set", {"treasury_pct": "130", "operator_share": "1",
                                  "merchants_share": "1"}, "treasury_pct"),
    ("sanyi_revenue_shares_set", {"operator_share": "0", "merchants_share": "0"}, "operator_share"),
    ("sanyi_revenue_shares_set", {"operator_share": "-1", "merchants_share": "1"}, "operator_share"),
    ("sanyi_product_pricing_policy_set", {"product": "health-profile"}, "industrial_use_allowed"),
    ("sanyi_product_pricing_policy_set", {"product": "health-profile",
                                          "industrial_use_allowed": "perhaps"}, "industrial_use_allowed"),
    ("sanyi_product_pricing_policy_set", {"product": "nope", "industrial_use_allowed": True}, "product"),
    ("sanyi_revenue_status", {"net_profit_fen": "x"}, "net_profit_fen"),
])
def test_bad_settings_input(pricing_world, action, data, field):
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", action, **data)
    assert_bilingual_field_error(err.value, field)


def test_bad_billed_input(pricing_world):
    with pytest.raises(tk.ValidationError) as err:
        call_as("operator_user", "sanyi_revenue_billed_set", period="2026", billed_fen="lots")
    assert_bilingual_field_error(err.value, "billed_fen")
