"""The quota survives Redis restarts mid-run: 50 threads make 1,000 calls against a quota of
500 on a Redis server of the test's own, which is stopped (without saving) and started again
while calls are in flight, once empty and once from a snapshot taken earlier (a stale count).
Calls refused while Redis is down are made again, so every one of the 1,000 ends granted or
refused for the quota: exactly 500 granted, each with its ledger row, and no more."""
from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import redis
from ckan import model
from quota_calls import call, entitlement, ledger_counts

from ckanext.sanyi.delivery import counters, quota

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


def test_the_count_survives_restarts_without_granting_a_call_twice(own_redis, monkeypatch):
    client = counters.client(own_redis.url)
    ent = entitlement(500)
    rebuilt: list[int] = []
    real_rebuild = quota.rebuild

    def counting_rebuild(*args, **kwargs):
        used = real_rebuild(*args, **kwargs)
        rebuilt.append(used)
        return used
    monkeypatch.setattr(quota, "rebuild", counting_rebuild)

    todo = iter(range(1000))
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while True:
                with lock:
                    n = next(todo, None)
                if n is None:
                    return
                for _ in range(500):
                    outcome = call(ent, n, hold=0.002, redis_client=client)
                    with lock:
                        outcomes[outcome] += 1
                    if outcome != "temporarily_unavailable":
                        break
                    time.sleep(0.02)
        except BaseException as err:  # noqa: BLE001
            errors.append(err)
        finally:
            model.Session.remove()

    def granted() -> int:
        with lock:
            return outcomes["granted"]

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 120
        while granted() < n:
            assert time.monotonic() < deadline, f"stuck at {granted()} granted"
            time.sleep(0.005)

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    wait_for(150)
    first = own_redis.run_id()
    own_redis.stop()  # lost: every count, and the reservations in flight
    time.sleep(0.1)
    own_redis.start()
    wait_for(250)
    redis.Redis(port=own_redis.port).save()  # a snapshot at about 250 granted
    wait_for(350)
    own_redis.stop()
    own_redis.start()  # comes back from the snapshot: a count about 100 too low
    for t in threads:
        t.join(300)
    assert not errors, errors[:3]

    assert own_redis.run_id() != first
    assert len(rebuilt) >= 2, rebuilt
    assert outcomes["granted"] == 500 and outcomes["quota_exhausted"] == 500
    counts = ledger_counts(ent["id"])
    assert counts["granted"] == 500 and counts["quota_exhausted"] == 500
    assert counts.get("temporarily_unavailable", 0) == outcomes["temporarily_unavailable"]
    assert quota.usage(ent, redis_client=client)["used"] == 500
