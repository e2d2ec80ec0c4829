"""Bad input found by the fuzz tests: each refused with a field-level error in Chinese and
English (409 through the API, 400 for the webhook), never a 500, nothing written."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from payments_support import sign

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")


def _post(app, world, action: str, role: str | None = "sysadmin", **data: Any):
    headers = {"Content-Type": "application/json"}
    if role:
        headers["Authorization"] = world["tokens"][role]
    return app.post(f"/api/3/action/{action}", data=json.dumps(data), headers=headers)


def field_error(res, field: str, *contains: str) -> str:
    """The response is a 409 naming ``field`` with a bilingual message; that message."""
    assert res.status_code == 409, (res.status_code, res.get_data(as_text=True)[:500])
    body = res.get_json()
    assert body["success"] is False and field in body["error"], body["error"]
    message = " ".join(map(str, body["error"][field]))
    assert HAN.search(message) and LATIN.search(message) and " / " in message, message
    for part in contains:
        assert part in message, (part, message)
    return message


def _count(table: str) -> int:
    model.Session.remove()
    return model.Session.execute(sa.select(sa.func.count()).select_from(sa.table(table))).scalar()


# -- clean_id -----------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [None, "", "  ", 1, 2**63, True, [], ["a"], {"a": 1},
                                   "a\x00b", "\ud800", "x\udfffy", "x" * 201])
def test_clean_id_refuses_what_sql_cannot_take(value):
    from ckanext.sanyi.common.ids import clean_id
    with pytest.raises(tk.ValidationError) as err:
        clean_id(value, "order_id")
    message = err.value.error_dict["order_id"][0]
    assert HAN.search(message) and LATIN.search(message) and " / " in message


def test_clean_id_keeps_real_ids():
    from ckanext.sanyi.common.ids import clean_id
    assert clean_id(" chronic-refill ", "product") == "chronic-refill"
    assert clean_id("慢病-1") == "慢病-1"


# -- ids with NUL or lone surrogates, before any SQL ---------------------------------------------
@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"])
@pytest.mark.parametrize("action,field", [
    ("sanyi_order_show", "id"), ("sanyi_order_pay", "id"),
    ("sanyi_order_record_bank_transfer", "id"), ("sanyi_refund_complete", "id"),
    ("sanyi_order_list", "application_id"), ("sanyi_refund_list", "order_id"),
    ("sanyi_price_quote", "product"), ("sanyi_price_history", "product"),
    ("sanyi_mark_updated", "id"), ("sanyi_audit_list", "object_id")])
def test_bad_ids_are_field_errors(fuzz_app, fuzz_world, action, field, bad):
    before = _count("sanyi_audit")
    data = {field: bad}
    if action == "sanyi_price_quote":
        data.update(use="industrial", unit="call", quantity=10)
    field_error(_post(fuzz_app, fuzz_world, action, **data), field)
    assert _count("sanyi_audit") == before


@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"])
def test_bad_application_ids_are_not_found_or_field_errors(fuzz_app, fuzz_world, bad):
    res = _post(fuzz_app, fuzz_world, "sanyi_application_show", "merchant_user", id=bad)
    assert res.status_code in (404, 409), res.get_data(as_text=True)
    for url in (f"/application/{bad}", f"/apply/{bad}", f"/en/application/{bad}/edit"):
        res = fuzz_app.get(url.replace("\x00", "%00").replace("\ud800", "%ED%A0%80"),
                           headers={"Authorization": fuzz_world["tokens"]["no_role"]})
        assert res.status_code < 500, (url, res.status_code)


# -- status of a list: text only ----------------------------------------------------------------
@pytest.mark.parametrize("status", [1, True, 2**63, [1], {"a": "paid"}])
@pytest.mark.parametrize("action", ["sanyi_application_list", "sanyi_merchant_list",
                                    "sanyi_entitlement_list", "sanyi_order_list",
                                    "sanyi_refund_list"])
def test_non_text_status_is_a_field_error(fuzz_app, fuzz_world, action, status):
    field_error(_post(fuzz_app, fuzz_world, action, status=status), "status")


# -- paging bounds ------------------------------------------------------------------------------
@pytest.mark.parametrize("action", ["sanyi_audit_list", "sanyi_order_list", "sanyi_refund_list"])
@pytest.mark.parametrize("offset", [2**63, "9223372036854775808", 10**6 + 1])
def test_offset_past_the_bound_is_a_field_error(fuzz_app, fuzz_world, action, offset):
    field_error(_post(fuzz_app, fuzz_world, action, offset=offset), "offset", "1000000")


@pytest.mark.parametrize("action", ["sanyi_audit_list", "sanyi_order_list", "sanyi_refund_list"])
def test_paging_within_bounds(fuzz_app, fuzz_world, action):
    res = _post(fuzz_app, fuzz_world, action, offset=10**6, limit=5000)
    assert res.status_code == 200, res.get_data(as_text=True)[:300]
    res = _post(fuzz_app, fuzz_world, action, limit=2**63)
    field_error(res, "limit", "1000000")


# -- quotes and amounts -------------------------------------------------------------------------
def test_quote_of_a_huge_quantity_states_the_bound(fuzz_app, fuzz_world):
    res = _post(fuzz_app, fuzz_world, "sanyi_price_quote", None, product="chronic-refill",
                use="industrial", unit="call", quantity=100000000000)
    field_error(res, "quantity", "1000000000")
    res = _post(fuzz_app, fuzz_world, "sanyi_price_quote", None, product="chronic-refill",
                use="industrial", unit="call", quantity="1000000000")
    assert res.status_code == 200
    assert res.get_json()["result"]["amount_fen"] == 30 * 10**9  # 0.30 yuan x 1e9, exact


@pytest.mark.parametrize("field", ["allowed_cost_fen", "allowed_profit_fen", "tax_fen"])
def test_amounts_past_the_bound_are_field_errors(fuzz_app, fuzz_world, field):
    data = {"period": "2031", "allowed_cost_fen": 1, "allowed_profit_fen": 1, "tax_fen": 1,
            field: 2**63}
    before = _count("sanyi_audit")
    field_error(_post(fuzz_app, fuzz_world, "sanyi_revenue_cap_set", "bureau_user", **data),
                field, "1000000000000000")
    assert _count("sanyi_audit") == before


@pytest.mark.parametrize("fmt", [1, True, ["csv"], {"a": 1}, "xlsx"])
def test_disclosure_format_must_be_json_or_csv(fuzz_app, fuzz_world, fmt):
    field_error(_post(fuzz_app, fuzz_world, "sanyi_disclosure_export", None, year=2025,
                      format=fmt), "format", "json", "csv")


def test_disclosure_format_is_case_insensitive(fuzz_app, fuzz_world):
    res = _post(fuzz_app, fuzz_world, "sanyi_disclosure_export", None, year=2025, format=" CSV ")
    assert res.status_code == 200 and res.get_json()["result"]["format"] == "csv"


# -- signed Stripe webhooks that are not events of the shape we read ------------------------------
def _event(**changes: Any) -> dict[str, Any]:
    evt = {"id": "evt_bad_shape", "object": "event", "type": "payment_intent.succeeded",
           "data": {"object": {"id": "pi_x", "amount": 100, "currency": "cny",
                               "metadata": {"order_id": "o-1"}}}}
    evt.update(changes)
    return evt


DEEP = "[" * 100_000 + "]" * 100_000
MALFORMED = {
    "list": b'[{"id": "evt_1", "type": "payment_intent.succeeded"}]',
    "deep": ('{"id": "evt_2", "type": "charge.refunded", "data": ' + DEEP + "}").encode(),
    "deep_but_parseable": json.dumps(_event(data={"object": {"id": "pi_y", "x": json.loads(
        "[" * 200 + "]" * 200)}})).encode(),
    "string_data": json.dumps(_event(data="x")).encode(),
    "string_object": json.dumps(_event(data={"object": "pi_x"})).encode(),
    "string_metadata": json.dumps(_event(data={"object": {"id": "pi_x", "metadata": "m"}})).encode(),
    "list_metadata": json.dumps(_event(data={"object": {"id": "pi_x", "metadata": []}})).encode(),
    "object_id": json.dumps(_event(data={"object": {"id": {"a": 1}}})).encode(),
    "int_type": json.dumps(_event(type=7)).encode(),
    "nul_id": json.dumps(_event(id="evt_\x00")).encode(),
    "string_error": json.dumps(_event(type="payment_intent.payment_failed", data={
        "object": {"id": "pi_x", "last_payment_error": "declined"}})).encode(),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_signed_malformed_webhook_is_400_and_records_nothing(fuzz_app, fuzz_world, name):
    body = MALFORMED[name]
    before = (_count("sanyi_payment_event"), _count("sanyi_audit"))
    res = fuzz_app.post("/stripe/webhook", data=body, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign(body)})
    assert res.status_code == 400, (name, res.status_code, res.get_data(as_text=True)[:300])
    assert "error" in (res.get_json() or {}), res.get_data(as_text=True)[:500]
    assert (_count("sanyi_payment_event"), _count("sanyi_audit")) == before


def test_signed_wellformed_webhook_still_recorded(fuzz_app, fuzz_world):
    body = json.dumps(_event(id="evt_ok_shape", type="customer.created",
                             data={"object": {"id": "cus_1"}})).encode()
    res = fuzz_app.post("/stripe/webhook", data=body, headers={
        "Content-Type": "application/json", "Stripe-Signature": sign(body)})
    assert res.status_code == 200 and res.get_json()["outcome"] == "ignored"


# -- choice fields given an object or a list ------------------------------------------------------
@pytest.mark.parametrize("value", [{"a": 1}, ["small"], 3])
def test_enterprise_size_of_wrong_type_is_a_field_error(fuzz_app, fuzz_world, value):
    field_error(_post(fuzz_app, fuzz_world, "sanyi_merchant_register", "no_role",
                      company_name="某公司", enterprise_size=value), "enterprise_size")


@pytest.mark.parametrize("value", [["call"], {"unit": "call"}])
def test_billing_unit_of_wrong_type_is_a_field_error(fuzz_app, fuzz_world, value):
    field_error(_post(fuzz_app, fuzz_world, "sanyi_application_create", "merchant_user",
                      product="chronic-refill", billing_unit=value), "billing_unit")
