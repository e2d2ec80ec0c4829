"""The call pipeline over HTTP with real tokens: granted answers of the fixed persons (the
envelope, usage, headers, the ledger row with the input only as a hash), and every refusal in
its place in the order of the checks, each one ledgered and none running anything in the
domain; 404/405/413 outside the order; the domain out of reach is a 503."""
from __future__ import annotations

import json
import re

import pytest
from ckan import model
from gateway_calls import (
    ABSENT,
    CONSENT,
    NOON,
    P1,
    P2,
    P3,
    call,
    call_url,
    entitle,
    ledger_rows,
    risk_input,
    rows_as_text,
    set_status,
    token,
)

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import gateway, quota
from ckanext.sanyi.delivery.operations import engine

pytestmark = pytest.mark.usefixtures("with_plugins")
HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def ran(monkeypatch):
    """Operations run inside the domain during the test (names), through engine.run."""
    seen: list[str] = []
    real = engine.run

    def spy(op, payload, **kw):
        seen.append(op.name if hasattr(op, "name") else op)
        return real(op, payload, **kw)
    monkeypatch.setattr(engine, "run", spy)
    return seen


@pytest.fixture
def noon():
    with clock.freeze(NOON):
        yield


def refused(res, status: int, code: str) -> dict:
    assert res.status_code == status, res.get_data(as_text=True)
    body = res.json
    assert body["error"] == code, body
    assert HAN.search(body["message"]["zh"]) and body["message"]["en"], body
    assert body["error_description"] == body["message"]["en"]
    assert body["request_id"] == res.headers["X-Request-ID"]
    assert res.headers["Content-Type"].startswith("application/json")
    return body


# -- granted ---------------------------------------------------------------------------------
def test_granted_answers_of_the_fixed_persons(app, gateway_world, noon, ran):
    ent = entitle(gateway_world, quota=10)
    tok = token(app, ent)
    expected = {
        P1: {"found": True, "chronic_conditions": ["高血压", "2型糖尿病"], "hospitalizations_3y": 2,
             "major_disease": False, "risk_level": "C"},
        P2: {"found": True, "chronic_conditions": [], "hospitalizations_3y": 0,
             "major_disease": False, "risk_level": "A"},
        P3: {"found": True, "chronic_conditions": [], "hospitalizations_3y": 1,
             "major_disease": False, "risk_level": "B"},
        ABSENT: {"found": False},
    }
    for n, (number, result) in enumerate(expected.items(), start=1):
        res = call(app, tok, ent["product"], "risk-assessment", risk_input(number),
                   headers={"X-Request-ID": f"req-gw-{n:04d}"})
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.json == {"request_id": f"req-gw-{n:04d}", "product": ent["product"],
                            "operation": "risk-assessment", "result": result,
                            "usage": {"quota": 10, "used": n, "remaining": 10 - n}}
        assert res.headers["X-Request-ID"] == f"req-gw-{n:04d}"
        assert "no-store" in res.headers["Cache-Control"]
        assert int(res.headers["X-RateLimit-Limit"]) == 100
        assert 0 <= int(res.headers["X-RateLimit-Remaining"]) < 100
    assert ran == ["risk-assessment"] * 4
    rows = ledger_rows(entitlement_id=ent["id"])
    assert [(r["outcome"], r["error"], r["units"], r["request_id"]) for r in rows] == [
        ("granted", None, 1, f"req-gw-{n:04d}") for n in range(1, 5)]
    for row in rows:
        assert row["client_id"] == ent["client_id"] and row["merchant_id"] == ent["merchant_id"]
        assert (row["product"], row["operation"]) == (ent["product"], "risk-assessment")
        assert re.fullmatch(r"[0-9a-f]{64}", row["input_hash"])
        assert set(row["fields_read"]) <= set(gateway_world["items"]["risk-assessment"])
        assert row["fields_read"] and row["resources"]
        assert row["answer_bytes"] > 50 and row["latency_ms"] > 0
        assert row["at"] == NOON
    assert len({r["input_hash"] for r in rows}) == 4
    text = rows_as_text(entitlement_id=ent["id"])
    for number in expected:
        assert number not in text and CONSENT not in text


def test_a_request_id_of_the_caller_is_kept_only_when_safe(app, gateway_world, noon):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input(),
               headers={"X-Request-ID": "bad id <script>"})
    assert res.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", res.json["request_id"])
    assert res.headers["X-Request-ID"] == res.json["request_id"]


def test_an_operation_scope_alone_is_enough(app, gateway_world, noon):
    ent = entitle(gateway_world, scope=f"{gateway_world['underwriting']}:risk-assessment")
    tok = token(app, ent)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input(P2))
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.json["result"]["risk_level"] == "A"


# -- 1. the token ----------------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer garbage", "Bearer " + "x" * 43,
                                    "Basic dXNlcjpwYXNz", "bearer  " + "A" * 300, "Token abc"])
def test_no_live_token_is_401_with_the_challenge(app, gateway_world, noon, ran, header):
    ent = entitle(gateway_world)
    headers = {"Authorization": header} if header is not None else {}
    res = call(app, None, ent["product"], "risk-assessment", risk_input(), headers=headers)
    refused(res, 401, "invalid_token")
    challenge = res.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="sanyi-delivery"')
    assert 'error="invalid_token"' in challenge
    assert ran == []


def test_an_expired_token_is_401_and_ledgered_under_its_client(app, gateway_world, ran):
    with clock.freeze(NOON):
        ent = entitle(gateway_world)
        tok = token(app, ent)
        assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    with clock.freeze(NOON.replace(hour=10, minute=59, second=59)):
        assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    with clock.freeze(NOON.replace(hour=11)):
        refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 401,
                "invalid_token")
    rows = ledger_rows(entitlement_id=ent["id"])
    assert [(r["outcome"], r["error"], r["client_id"], r["merchant_id"]) for r in rows] == [
        ("granted", None, ent["client_id"], ent["merchant_id"])] * 2 + [
        ("refused", "invalid_token", ent["client_id"], ent["merchant_id"])]
    assert ran == ["risk-assessment"] * 2


def test_revoked_tokens_and_clients_fail_at_once(app, gateway_world, noon):
    from client_calls import REVOKE_URL, basic
    ent = entitle(gateway_world)
    first, second = token(app, ent), token(app, ent)
    res = app.post(REVOKE_URL, data={"token": first},
                   headers=basic(ent["client_id"], ent["client_secret"]))
    assert res.status_code == 200
    refused(call(app, first, ent["product"], "risk-assessment", risk_input()), 401,
            "invalid_token")
    assert call(app, second, ent["product"], "risk-assessment", risk_input()).status_code == 200
    from ckanext.sanyi.delivery import clients
    clients.revoke(model.User.get(gateway_world["user"]), ent["client_id"])
    model.Session.commit()
    refused(call(app, second, ent["product"], "risk-assessment", risk_input()), 401,
            "invalid_token")
    codes = [r["error"] for r in ledger_rows(entitlement_id=ent["id"])]
    assert codes == ["invalid_token", None, "invalid_token"]


def test_anonymous_refusals_are_ledgered_within_a_bound(app, gateway_world, noon, monkeypatch,
                                                        ckan_config):
    from ckanext.sanyi.delivery import counters
    monkeypatch.setitem(ckan_config, gateway.UNAUTH_PER_MINUTE, "3")
    minute = 29_000_000 + id(app) % 1000  # a minute of the test's own
    monkeypatch.setattr(gateway, "_minute", lambda: minute)
    counters.client().delete(f"sanyi:unauth:anonymous:{minute}")
    ent = entitle(gateway_world)
    before = len(ledger_rows(error="invalid_token", client_id=None))
    for n in range(8):
        res = call(app, "garbage-token-" + "x" * 30, ent["product"], "risk-assessment",
                   risk_input(), headers={"X-Request-ID": f"anon-{minute}-{n}"})
        refused(res, 401, "invalid_token")
    rows = [r for r in ledger_rows(error="invalid_token")
            if r["request_id"].startswith(f"anon-{minute}-")]
    assert len(rows) == 3
    assert all(r["merchant_id"] is None and r["entitlement_id"] is None for r in rows)
    assert len(ledger_rows(error="invalid_token", client_id=None)) >= before
    assert int(counters.client().get(f"sanyi:unauth:anonymous:{minute}")) == 8


# -- 2. the entitlement ----------------------------------------------------------------------
@pytest.mark.parametrize("status", ["expired", "revoked"])
def test_an_entitlement_not_active_is_403(app, gateway_world, noon, ran, status):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    set_status(ent["id"], status)
    refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 403,
            "entitlement_inactive")
    assert ran == []
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == ["entitlement_inactive"]


def test_a_suspended_entitlement_is_403_suspended_and_alerted(app, gateway_world, noon, ran):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    set_status(ent["id"], "suspended")
    body = refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 403,
                   "suspended")
    assert "暂停" in body["message"]["zh"] and "suspended" in body["message"]["en"]
    assert ran == []
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == ["suspended"]
    assert _alerts(ent) in ([], [("suspended", 1)])  # [] only without the alerts module
    if gateway._alerts() is not None:
        assert _alerts(ent) == [("suspended", 1)]


def test_the_period_ends_at_midnight_in_beijing(app, gateway_world, ran):
    period = (clock.today().replace(year=2026, month=1, day=1),
              clock.today().replace(year=2026, month=12, day=1))
    with clock.freeze(NOON):
        ent = entitle(gateway_world, period=period)
    with clock.freeze("2026-12-01T23:30:00+08:00"):
        tok = token(app, ent)
    with clock.freeze("2026-12-01T23:59:00+08:00"):
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
        assert res.status_code == 200, res.get_data(as_text=True)
    with clock.freeze("2026-12-02T00:00:00+08:00"):  # 2026-12-01 16:00 UTC, the same token
        refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 403,
                "outside_period")
    assert ran == ["risk-assessment"]
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == [None, "outside_period"]


def test_before_the_period_starts_is_outside_it(app, gateway_world):
    import datetime as dt
    with clock.freeze(NOON):
        ent = entitle(gateway_world, period=(dt.date(2026, 12, 1), dt.date(2027, 11, 30)))
        tok = token(app, ent)
    with clock.freeze("2026-11-30T23:59:59+08:00"):
        refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 403,
                "outside_period")


# -- 3. product and operation ----------------------------------------------------------------
def test_another_product_is_out_of_scope_and_alerted(app, gateway_world, noon, ran):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    payload = {"id_number": P1, "institution": "市第一人民医院", "date_from": "2026-01-01",
               "date_to": "2026-11-30"}
    refused(call(app, tok, gateway_world["claims"], "visit-verification", payload), 403,
            "out_of_scope")
    assert ran == []
    rows = ledger_rows(entitlement_id=ent["id"])
    assert [(r["error"], r["product"], r["operation"]) for r in rows] == [
        ("out_of_scope", gateway_world["claims"], "visit-verification")]
    if gateway._alerts() is not None:
        assert _alerts(ent) == [("out_of_scope", 1)]


# -- 4. data items ---------------------------------------------------------------------------
def test_reads_beyond_the_approved_items_are_403_with_the_missing_ones(app, gateway_world,
                                                                     noon, ran):
    items = gateway_world["items"]["risk-assessment"]
    lacking = [i for i in items if i.endswith(":诊断编码")] or items[-1:]
    ent = entitle(gateway_world, items=[i for i in items if i not in lacking])
    tok = token(app, ent)
    body = refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 403,
                   "data_items_exceeded")
    assert set(body["missing"]) == set(lacking)
    assert ran == []
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == ["data_items_exceeded"]
    if gateway._alerts() is not None:
        assert _alerts(ent) == [("data_items_exceeded", 1)]


def test_a_whole_resource_approved_covers_its_fields(app, gateway_world, noon):
    items = gateway_world["items"]["risk-assessment"]
    ent = entitle(gateway_world, items=sorted({i.split(":", 1)[0] for i in items}))
    tok = token(app, ent)
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200


# -- the input -------------------------------------------------------------------------------
def test_an_invalid_input_names_every_field_and_consumes_no_quota(app, gateway_world, noon, ran):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    body = refused(call(app, tok, ent["product"], "risk-assessment",
                        {"id_number": "420802195803124022"}), 400, "invalid_input")
    fields = {e["field"] for e in body["errors"]}
    assert {"id_number", "consent_ref"} <= fields, body["errors"]
    for e in body["errors"]:
        assert HAN.search(e["zh"]) and re.search(r"[A-Za-z]{3}", e["en"]), e
    assert ran == []
    assert quota.usage({"id": ent["id"], "quota": 5, "quota_unit": "call"})["used"] == 0
    row, = ledger_rows(entitlement_id=ent["id"])
    assert (row["error"], row["units"]) == ("invalid_input", 0)
    assert re.fullmatch(r"[0-9a-f]{64}", row["input_hash"])
    assert "420802195803124022" not in rows_as_text(entitlement_id=ent["id"])
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.json["usage"] == {"quota": 5, "used": 1, "remaining": 4}


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b'{"a": NaN}',
                                  b'{"id_number": "\\u0000"}', b'{"x": "\\ud800"}',
                                  b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000])
def test_a_body_that_is_no_json_object_is_400_invalid_request(app, gateway_world, noon, ran,
                                                             body):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    refused(call(app, tok, ent["product"], "risk-assessment", body=body,
                 headers={"Content-Type": "application/json"}), 400, "invalid_request")
    assert ran == []
    row, = ledger_rows(entitlement_id=ent["id"])
    assert row["error"] == "invalid_request" and re.fullmatch(r"[0-9a-f]{64}", row["input_hash"])


def test_an_empty_body_is_an_empty_input(app, gateway_world, noon):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    body = refused(call(app, tok, ent["product"], "risk-assessment", body=b""), 400,
                   "invalid_input")
    assert {"id_number", "consent_ref"} <= {e["field"] for e in body["errors"]}


# -- 5. quota, 6. rate limit -----------------------------------------------------------------
def test_the_quota_is_exhausted_then_429_and_alerted(app, gateway_world, noon, ran, ckan_config,
                                                     monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_on_quota_retry", "false")
    ent = entitle(gateway_world, quota=2)
    tok = token(app, ent)
    for n in (1, 2):
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
        assert res.json["usage"] == {"quota": 2, "used": n, "remaining": 2 - n}
    for _ in range(2):
        body = refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 429,
                       "quota_exhausted")
        assert body["usage"] == {"quota": 2, "used": 2, "remaining": 0}
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    refused(res, 429, "quota_exhausted")
    assert "Retry-After" not in res.headers  # this quota never renews
    assert ran == ["risk-assessment"] * 2
    rows = ledger_rows(entitlement_id=ent["id"])
    assert [(r["outcome"], r["error"], r["units"]) for r in rows] == [
        ("granted", None, 1)] * 2 + [("refused", "quota_exhausted", 0)] * 3
    if gateway._alerts() is not None:
        assert _alerts(ent) == [("quota_exhausted", 3)]


def test_the_rate_limit_refuses_with_its_figures_and_gives_the_quota_back(
        app, gateway_world, noon, ran, ckan_config, monkeypatch):
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.rate_limit", "2/min")
    ent = entitle(gateway_world, quota=10)
    tok = token(app, ent)
    first = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert first.headers["X-RateLimit-Limit"] == "2"
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert 1 <= int(first.headers["X-RateLimit-Reset"]) <= 60
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    refused(res, 429, "rate_limited")
    assert res.headers["X-RateLimit-Limit"] == "2"
    assert res.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(res.headers["Retry-After"]) <= 60
    assert ran == ["risk-assessment"] * 2
    assert quota.usage({"id": ent["id"], "quota": 10, "quota_unit": "call"})["used"] == 2
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == [None, None,
                                                                           "rate_limited"]


# -- outside the order: paths, methods, sizes -------------------------------------------------
@pytest.mark.parametrize("path", [
    "/api/delivery/v1/p-000000000000/risk-assessment", "/api/delivery/v1/{u}/no-such-op",
    "/api/delivery/v1/{u}/visit-verification", "/api/delivery/v1/{u}",
    "/api/delivery/v1/{u}/risk-assessment/extra", "/api/delivery/v1/", "/api/delivery/v1/%00/x"])
def test_unknown_paths_are_json_404(app, gateway_world, noon, path):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    res = app.post(path.format(u=gateway_world["underwriting"]), data=json.dumps(risk_input()),
                   headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
    refused(res, 404, "not_found")
    assert ledger_rows(entitlement_id=ent["id"]) == []


def test_only_post_is_answered(app, gateway_world, noon):
    ent = entitle(gateway_world)
    res = app.get(call_url(ent["product"], "risk-assessment"))
    refused(res, 405, "invalid_request")
    assert res.headers["Allow"] == "POST"


def test_a_body_too_large_is_413(app, gateway_world, noon, ran):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    big = json.dumps(risk_input(pad="x" * (gateway.max_body_bytes() + 10)))
    refused(call(app, tok, ent["product"], "risk-assessment", body=big,
                 headers={"Content-Type": "application/json"}), 413, "request_too_large")
    assert ran == [] and ledger_rows(entitlement_id=ent["id"]) == []


# -- failures --------------------------------------------------------------------------------
def test_the_domain_out_of_reach_is_503_and_gives_the_quota_back(app, gateway_world, noon,
                                                                 ckan_config, monkeypatch):
    ent = entitle(gateway_world, quota=3)
    tok = token(app, ent)
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.domain.url",
                        "postgresql://sanyi_domain:sanyi_domain@127.0.0.1:9/none")
    refused(call(app, tok, ent["product"], "risk-assessment", risk_input()), 503,
            "temporarily_unavailable")
    assert quota.usage({"id": ent["id"], "quota": 3, "quota_unit": "call"})["used"] == 0
    monkeypatch.undo()
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 200 and res.json["usage"]["used"] == 1
    assert [(r["error"], r["units"]) for r in ledger_rows(entitlement_id=ent["id"])] == [
        ("temporarily_unavailable", 0), (None, 1)]


def test_an_unexpected_error_is_a_json_500_with_the_request_id(app, gateway_world, noon,
                                                              monkeypatch):
    ent = entitle(gateway_world, quota=3)
    tok = token(app, ent)

    def boom(*a, **kw):
        raise RuntimeError("a bug")
    monkeypatch.setattr(engine, "run", boom)
    body = refused(call(app, tok, ent["product"], "risk-assessment", risk_input(),
                        headers={"X-Request-ID": "req-boom-0001"}), 500, "server_error")
    assert body["request_id"] == "req-boom-0001"
    assert quota.usage({"id": ent["id"], "quota": 3, "quota_unit": "call"})["used"] == 0
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == ["server_error"]


def _alerts(ent):
    import sqlalchemy as sa

    from ckanext.sanyi.delivery.model import alert_table as t
    rows = model.Session.execute(sa.select(t.c.kind, t.c.count)
                                 .where(t.c.entitlement_id == ent["id"])
                                 .order_by(t.c.kind)).all()
    model.Session.commit()
    return [tuple(r) for r in rows]


# -- quota units -----------------------------------------------------------------------------
def test_a_quota_by_records_counts_the_records_of_the_answer(app, gateway_world, noon):
    ent = entitle(gateway_world, quota=2, unit="record")
    tok = token(app, ent)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.json["usage"] == {"quota": 2, "used": 1, "remaining": 1}
    row, = ledger_rows(entitlement_id=ent["id"])
    assert row["units"] == 1


def test_a_time_quota_counts_calls_without_bounding_them(app, gateway_world, noon):
    ent = entitle(gateway_world, quota=12, unit="month")
    tok = token(app, ent)
    for n in (1, 2):
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
        assert res.json["usage"] == {"quota": None, "used": n, "remaining": None}


# -- the benchmark's no-op ---------------------------------------------------------------------
def test_the_noop_header_runs_the_operation_without_the_switch(app, gateway_world, noon, ran):
    ent = entitle(gateway_world)
    tok = token(app, ent)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input(),
               headers={gateway.BENCH_HEADER: "1"})
    assert res.json["result"]["risk_level"] == "C" and ran == ["risk-assessment"]


def test_the_noop_switch_outside_a_benchmark_database_is_refused(app, gateway_world, noon, ran,
                                                                ckan_config, monkeypatch):
    from ckan.exceptions import CkanConfigurationException
    monkeypatch.setitem(ckan_config, gateway.BENCH_NOOP, "true")
    assert not gateway.bench_noop_enabled()
    with pytest.raises(CkanConfigurationException, match="bench"):
        gateway.check_bench_config()
    ent = entitle(gateway_world)
    tok = token(app, ent)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input(),
               headers={gateway.BENCH_HEADER: "1"})
    assert "noop" not in res.json["result"] and ran == ["risk-assessment"]
