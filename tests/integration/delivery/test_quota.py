"""Quota counters (delivery/quota.py): exact under concurrency, released when a call fails,
rebuilt from the ledger when the Redis count is missing, units other than calls."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from ckan import model
from quota_calls import call, entitlement, ledger_counts

from ckanext.sanyi.delivery import counters, ledger, quota

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


def _run_threads(target, n_threads: int) -> None:
    errors: list[BaseException] = []

    def wrapped() -> None:
        try:
            target()
        except BaseException as err:  # noqa: BLE001  (reported by the test)
            errors.append(err)
        finally:
            model.Session.remove()
    threads = [threading.Thread(target=wrapped) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]


def test_1000_concurrent_calls_against_a_quota_of_500_grant_exactly_500():
    ent = entitlement(500)
    todo = iter(range(1000))
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()

    def worker() -> None:
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            outcome = call(ent, n)
            with lock:
                outcomes[outcome] += 1
    _run_threads(worker, 50)
    assert outcomes == {"granted": 500, "quota_exhausted": 500}
    assert ledger_counts(ent["id"]) == {"granted": 500, "quota_exhausted": 500}
    assert quota.usage(ent) == {"quota": 500, "used": 500, "remaining": 0}


def test_a_call_that_fails_after_its_reservation_gives_the_unit_back():
    ent = entitlement(1)
    with pytest.raises(RuntimeError, match="operation failed"):
        with quota.reserve(ent):
            raise RuntimeError("operation failed")
    model.Session.rollback()
    assert quota.usage(ent)["used"] == 0
    assert call(ent, 1) == "granted"
    assert call(ent, 2) == "quota_exhausted"
    assert ledger_counts(ent["id"]) == {"granted": 1, "quota_exhausted": 1}


def test_the_grant_reports_quota_used_and_remaining():
    ent = entitlement(3)
    with quota.reserve(ent) as grant:
        assert grant.usage() == {"quota": 3, "used": 1, "remaining": 2}
        ledger.record(request_id="r1", outcome="granted", entitlement_id=ent["id"], units=1)
    model.Session.commit()
    with quota.reserve(ent) as grant:
        assert (grant.used, grant.remaining) == (2, 1)
    model.Session.rollback()  # no ledger row: the next rebuild counts 1
    with pytest.raises(quota.QuotaExhausted) as refused:
        quota.take(entitlement(0))
    assert refused.value.retry_after is None and refused.value.quota == 0
    model.Session.rollback()


def test_a_missing_count_is_rebuilt_from_the_granted_ledger_rows():
    ent = entitlement(10)
    for n in range(4):
        assert call(ent, n) == "granted"
    client = counters.client()
    client.delete(quota.key(ent["id"]))
    assert call(ent, 10) == "granted"
    assert int(client.hget(quota.key(ent["id"]), "used")) == 5
    assert 0 < client.ttl(quota.key(ent["id"])) <= quota.KEY_TTL


def test_a_count_written_by_another_redis_server_is_not_trusted():
    """A count restored from a snapshot carries the run id of the server that built it."""
    ent = entitlement(10)
    assert call(ent, 1) == "granted"
    client = counters.client()
    client.hset(quota.key(ent["id"]), mapping={"used": 0, "rid": "0" * 40})  # stale
    assert call(ent, 2) == "granted"
    assert int(client.hget(quota.key(ent["id"]), "used")) == 2


def test_a_reservation_lost_with_its_process_costs_quota_until_the_next_rebuild():
    """The documented failure direction: a crash between reservation and ledger row counts
    the call without granting it; it is never granted twice."""
    ent = entitlement(2)
    quota.take(ent)
    model.Session.rollback()  # the process died: no ledger row, no refund
    assert quota.usage(ent)["used"] == 1 and ledger.granted_units(ent["id"]) == 0
    assert quota.rebuild(ent["id"]) == 0
    model.Session.commit()
    assert call(ent, 1) == "granted" and call(ent, 2) == "granted"
    assert call(ent, 3) == "quota_exhausted"


def test_records_are_counted_from_the_answer_and_never_overrun():
    ent = entitlement(10, unit="record")
    with quota.reserve(ent) as grant:
        grant.settle(4)
        assert (grant.units, grant.used, grant.remaining) == (4, 4, 6)
        ledger.record(request_id="r1", outcome="granted", entitlement_id=ent["id"],
                      units=grant.units)
    model.Session.commit()
    with pytest.raises(quota.QuotaExhausted):
        with quota.reserve(ent) as grant:
            grant.settle(7)  # 4 + 7 > 10: the answer is withheld, its unit given back
    model.Session.rollback()
    assert quota.usage(ent)["used"] == 4
    counters.client().delete(quota.key(ent["id"]))
    assert quota.usage(ent)["used"] == 4  # from the ledger's units


def test_time_quotas_count_calls_but_do_not_bound_them():
    ent = entitlement(1, unit="month")
    for n in range(3):
        assert call(ent, n) == "granted"
    assert quota.usage(ent) == {"quota": None, "used": 3, "remaining": None}


def test_an_unreachable_redis_refuses_the_call_without_counting_it():
    ent = entitlement(5)
    dead = counters.client("redis://127.0.0.1:1/0")
    assert call(ent, 1, redis_client=dead) == "temporarily_unavailable"
    assert ledger_counts(ent["id"]) == {"temporarily_unavailable": 1}
    assert call(ent, 2) == "granted"
