"""Concurrent writers cannot fork a chain: threads writing through CKAN's session, through
the gateway's own pool and by raw INSERTs on connections of their own give one unbroken
sequence; a writer waits for the head's lock while another's transaction is open (it is held
until commit), and a rolled-back row leaves no gap."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from chain_support import ledger_rows, sql
from ckan import model

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import call_store, ledger
from ckanext.sanyi.supervision import chain

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")
THREADS, EACH = 6, 15


def _session_writer(i: int) -> None:
    for j in range(EACH):
        ledger.record(request_id=f"s{i}-{j}", outcome="granted", units=1, fields_read=["a:b"])
        audit.record("t", "sanyi_test", "thread", f"{i}-{j}")
        model.Session.commit()
    model.Session.remove()


def _gateway_writer(i: int) -> None:
    eng = call_store.engine()
    for j in range(EACH):
        with eng.connect() as conn:
            conn.exec_driver_sql(
                "BEGIN; INSERT INTO sanyi_ledger (request_id, outcome, units, fields_read) "
                "VALUES (%(r)s, 'granted', 1, '[]'); COMMIT", {"r": f"g{i}-{j}"})


def _raw_writer(i: int) -> None:
    for j in range(EACH):
        with model.meta.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sanyi_ledger (request_id, outcome, error) "
                                 "VALUES (:r, 'refused', 'x')"), {"r": f"r{i}-{j}"})
            conn.execute(sa.text("INSERT INTO sanyi_audit (actor, action, object_type) "
                                 "VALUES ('raw', 'x', 'y')"))


def test_parallel_writers_give_one_unbroken_chain():
    ledger_rows(1)
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(kind, i):
        try:
            barrier.wait()
            kind(i)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)
    kinds = [_session_writer, _gateway_writer, _raw_writer]
    threads = [threading.Thread(target=run, args=(kinds[i % 3], i)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    n = 1 + THREADS * EACH
    assert sql("SELECT count(*), min(seq), max(seq), count(DISTINCT seq), "
               "count(DISTINCT prev_hash) FROM sanyi_ledger")[0] == (n, 1, n, n, n)
    result = chain.verify("ledger")
    assert result.ok and result.length == n
    audit_n = 2 * EACH * 2  # two session writers and two raw writers write audit rows
    check = chain.verify("audit")
    assert check.ok and check.length == audit_n


def test_the_head_lock_is_held_until_commit_and_a_rollback_leaves_no_gap():
    ledger_rows(2)
    first = model.meta.engine.connect()
    tx = first.begin()
    first.execute(sa.text("INSERT INTO sanyi_ledger (request_id, outcome, units) "
                          "VALUES ('open', 'granted', 1)"))
    with model.meta.engine.connect() as second:
        with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
            with second.begin():
                second.execute(sa.text("SET LOCAL lock_timeout = '150ms'"))
                second.execute(sa.text("INSERT INTO sanyi_ledger (request_id, outcome, units) "
                                       "VALUES ('waiting', 'granted', 1)"))
    tx.rollback()
    first.close()
    ledger_rows(1, request_id="after")
    assert sql("SELECT request_id, seq FROM sanyi_ledger ORDER BY seq") == [
        ("req-0", 1), ("req-1", 2), ("after", 3)]
    assert chain.verify("ledger").ok
