"""A granted call's round trips to CKAN's database (``call_store.CallTx``): two statements on
the calls' own pool (``BEGIN`` with the token query and its lock, the ledger row with
``COMMIT``), none through CKAN's session once the route table and the catalog resources are
cached; no transaction left open after a call, granted or refused; a pooled connection the
server dropped is retried once; a ledger row the database refuses gives the quota back. Both
statements are prepared on each pooled connection by its first call, in that call's first
round trip, and prepared again on a connection that lost them."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from ckan import model
from gateway_calls import NOON, call, entitle, ledger_rows, risk_input, set_status, token

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import call_store, quota

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def noon():
    with clock.freeze(NOON):
        yield


@pytest.fixture
def statements(monkeypatch):
    """Statements sent, by pool: ``calls`` (the gateway's own) and ``ckan`` (CKAN's)."""
    seen: dict[str, list[str]] = {"calls": [], "ckan": []}
    real = call_store._execute

    def execute(conn, sql, params=None):
        seen["calls"].append(sql)
        return real(conn, sql, params)
    monkeypatch.setattr(call_store, "_execute", execute)

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen["ckan"].append(statement)
    sa.event.listen(model.meta.engine, "before_cursor_execute", listener)
    yield seen
    sa.event.remove(model.meta.engine, "before_cursor_execute", listener)


def _open_transactions() -> int:
    with call_store.engine().connect() as conn:
        return int(conn.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %(name)s AND state LIKE 'idle in transaction%%'",
            {"name": call_store.APPLICATION_NAME}).scalar_one())


def test_a_granted_call_is_two_statements_on_the_calls_pool(app, gateway_world, noon,
                                                            statements):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    for kind in statements:
        statements[kind].clear()
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 200 and res.json["usage"]["used"] == 2
    calls = statements["calls"]
    assert len(calls) == 2, calls
    # prepared statements (the first call on a connection prepared them): executed only
    assert calls[0].startswith("BEGIN; EXECUTE sanyi_call_open_")
    assert calls[1].startswith("EXECUTE sanyi_call_row_") and calls[1].endswith("; COMMIT")
    assert "pg_advisory_xact_lock_shared" in call_store._OPEN_PREPARED.prepare_sql
    assert "INSERT INTO sanyi_ledger" in call_store._INSERT_PREPARED.prepare_sql
    assert statements["ckan"] == []
    assert _open_transactions() == 0
    rows = ledger_rows(entitlement_id=ent["id"])
    assert [(r["outcome"], r["units"]) for r in rows] == [("granted", 1)] * 2


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_a_refused_call_leaves_no_transaction_open(app, gateway_world, noon, status):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    set_status(ent["id"], status)
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 403
    assert _open_transactions() == 0
    # the entitlement's lock is free: a rebuild (exclusive lock) does not wait
    model.Session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
    assert quota.rebuild(ent["id"]) == 0
    model.Session.rollback()
    assert [r["error"] for r in ledger_rows(entitlement_id=ent["id"])] == [res.json["error"]]


def test_an_expired_token_is_ledgered_under_its_client_from_the_same_row(app, gateway_world,
                                                                         statements):
    ent = entitle(gateway_world, quota=5)
    with clock.freeze(NOON):
        tok = token(app, ent)
    with clock.freeze(NOON.replace(hour=23)):
        statements["calls"].clear()
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 401 and res.json["error"] == "invalid_token"
    assert len(statements["calls"]) == 2 and statements["calls"][1] == "ROLLBACK"
    row, = ledger_rows(entitlement_id=ent["id"])
    assert (row["client_id"], row["merchant_id"]) == (ent["client_id"], ent["merchant_id"])


def test_pooled_connections_the_server_dropped_are_retried(app, gateway_world, noon):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    held = [call_store.engine().raw_connection() for _ in range(3)]  # several in the pool
    for conn in held:
        conn.close()
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    killed = model.Session.execute(sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name = :name AND state = 'idle'"),
        {"name": call_store.APPLICATION_NAME}).scalar()
    model.Session.commit()
    assert killed >= 1
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.json["usage"]["used"] == 2


def test_a_new_connection_prepares_the_statements_in_its_first_round_trip(
        app, gateway_world, noon, statements):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    call_store.dispose()  # a new pool: its connections have prepared nothing
    statements["calls"].clear()
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 200, res.get_data(as_text=True)
    first, second = statements["calls"]
    assert first.startswith("PREPARE sanyi_call_open_") and \
        "; BEGIN; EXECUTE sanyi_call_open_" in first
    assert second.startswith("EXECUTE sanyi_call_row_")


def test_connections_that_lost_their_prepared_statements_prepare_them_again(
        app, gateway_world, noon):
    ent = entitle(gateway_world, quota=5)
    tok = token(app, ent)
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    held = [call_store.engine().raw_connection() for _ in range(3)]
    for conn in held:  # as after DISCARD ALL (a pooler, an operator)
        conn.cursor().execute("DEALLOCATE ALL")
    for conn in held:
        conn.close()
    for used in (2, 3, 4):
        res = call(app, tok, ent["product"], "risk-assessment", risk_input())
        assert res.status_code == 200, res.get_data(as_text=True)
        assert res.json["usage"]["used"] == used
    assert [r["outcome"] for r in ledger_rows(entitlement_id=ent["id"])] == ["granted"] * 4


def _no_such_statement(sql: str) -> str:
    return sql.replace("EXECUTE sanyi_call_row_", "EXECUTE sanyi_no_such_statement_", 1)


def _wrong_arity(sql: str) -> str:
    return sql.replace("(", "(%(at)s, ", 1)


@pytest.mark.parametrize("broken", [_no_such_statement, _wrong_arity])
def test_a_ledger_row_the_database_refuses_gives_the_quota_back(app, gateway_world, noon,
                                                                monkeypatch, broken):
    ent = entitle(gateway_world, quota=3)
    tok = token(app, ent)
    assert call_store._INSERT_PREPARED.execute_sql.startswith("EXECUTE sanyi_call_row_")
    monkeypatch.setattr(call_store._INSERT_PREPARED, "execute_sql",
                        broken(call_store._INSERT_PREPARED.execute_sql))
    monkeypatch.setattr(call_store, "_INSERT",
                        call_store._INSERT.replace("sanyi_ledger", "sanyi_no_such_ledger", 1))
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 503 and res.json["error"] == "temporarily_unavailable"
    assert _open_transactions() == 0
    assert quota.usage({"id": ent["id"], "quota": 3, "quota_unit": "call"})["used"] == 0
    monkeypatch.undo()
    res = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert res.status_code == 200 and res.json["usage"]["used"] == 1
    assert [r["outcome"] for r in ledger_rows(entitlement_id=ent["id"])] == ["granted"]


def test_quota_and_rate_limit_are_one_round_trip_to_redis(app, gateway_world, noon, ckan_config,
                                                          monkeypatch):
    from ckanext.sanyi.delivery import ratelimit
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.rate_limit", "2/min")
    ent = entitle(gateway_world, quota=10)
    tok = token(app, ent)
    scripts: list[str] = []
    real_run = quota._run

    def run(client, name, keys, args):
        scripts.append(name)
        return real_run(client, name, keys, args)
    monkeypatch.setattr(quota, "_run", run)
    monkeypatch.setattr(ratelimit, "hit", lambda *a, **kw: pytest.fail("a second round trip"))
    first = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert first.status_code == 200 and first.headers["X-RateLimit-Remaining"] == "1"
    assert scripts == ["reserve_slide", "rebuild", "reserve_slide"]  # a new count: built first
    scripts.clear()
    assert call(app, tok, ent["product"], "risk-assessment", risk_input()).status_code == 200
    assert scripts == ["reserve_slide"]
    limited = call(app, tok, ent["product"], "risk-assessment", risk_input())
    assert limited.status_code == 429 and limited.json["error"] == "rate_limited"
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert scripts == ["reserve_slide"] * 2  # the refusal gave nothing back: nothing was taken
    assert quota.usage({"id": ent["id"], "quota": 10, "quota_unit": "call"})["used"] == 2
    exhausted = entitle(gateway_world, quota=0)
    tok = token(app, exhausted)
    res = call(app, tok, exhausted["product"], "risk-assessment", risk_input())
    assert res.status_code == 429 and res.json["error"] == "quota_exhausted"
    assert "X-RateLimit-Limit" not in res.headers  # the quota refuses before the rate limit
