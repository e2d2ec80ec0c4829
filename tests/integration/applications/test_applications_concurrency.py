"""Two reviewers at the same moment, each in its own thread and database connection.

A hook holds the application row for a moment after it is locked, so the second request
really arrives while the first is deciding: it waits on the row lock, then sees the first's
result (one wins, the other gets 409, or, for two different units, both decisions count)."""
from __future__ import annotations

import threading
import time

import pytest
from applications_support import call_as, to_status
from ckan import model
from ckan.plugins import toolkit as tk
from sqlalchemy import text

from ckanext.sanyi.applications import service
from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def slow_lock(monkeypatch):
    """Call it to keep the row locked for 0.4 s after each lock() from then on (time for the
    rival to arrive); returns the times each lock was obtained."""
    original = service.lock
    locked_at: list[float] = []

    def lock(application_id):
        row = original(application_id)
        locked_at.append(time.monotonic())
        time.sleep(0.4)
        return row

    def enable() -> list[float]:
        monkeypatch.setattr(service, "lock", lock)
        return locked_at
    return enable


def race(*calls):
    """Run each (user, action, data) in its own thread at once; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, user, action, data):
        try:
            barrier.wait()
            results[i] = call_as(user, action, **data)
        except Exception as err:  # noqa: BLE001 - the outcome is the result
            results[i] = err
        finally:
            model.Session.remove()
    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_bureau_reviewers_one_wins_one_gets_409(world, slow_lock):
    app = to_status("bureau_review", free=True)
    model.Session.remove()
    locked_at = slow_lock()
    results = race(("bureau_user", "sanyi_application_review",
                    {"id": app["id"], "decision": "approve", "comment": "同意"}),
                   ("sysadmin", "sanyi_application_review",
                    {"id": app["id"], "decision": "reject", "comment": "不同意"}))
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Exception)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert isinstance(losses[0], tk.ValidationError) and "status" in losses[0].error_dict
    assert len(locked_at) == 2 and abs(locked_at[1] - locked_at[0]) >= 0.35  # one waited
    final = service.get(app["id"])
    assert final["status"] == wins[0]["status"] in ("active", "rejected")
    decisions = [r for r in audit.list(object_type="application", object_id=app["id"])
                 if r["action"] == "sanyi_application_review"
                 and r["before"]["status"] == "bureau_review"]
    assert len(decisions) == 1
    ents = model.Session.execute(text("SELECT count(*) FROM sanyi_entitlement")).scalar()
    assert ents == (1 if final["status"] == "active" else 0)


def test_two_units_at_once_both_count(world, slow_lock):
    app = to_status("unit_review")
    model.Session.remove()
    slow_lock()
    results = race(("wj_editor", "sanyi_application_review",
                    {"id": app["id"], "decision": "approve"}),
                   ("yb_editor", "sanyi_application_review",
                    {"id": app["id"], "decision": "approve"}))
    assert all(isinstance(r, dict) for r in results), results
    final = service.get(app["id"])
    assert final["status"] == "bureau_review"
    assert final["unit_decisions"] == {"shi-wei-jian-wei": "approved", "shi-yi-bao-ju": "approved"}
    assert final["version"] == app["version"] + 2


def test_same_unit_twice_at_once_one_gets_409(world, slow_lock):
    app = to_status("unit_review")
    model.Session.remove()
    slow_lock()
    results = race(*[("wj_editor", "sanyi_application_review",
                      {"id": app["id"], "decision": "approve"})] * 2)
    assert sorted(type(r).__name__ for r in results) == ["ValidationError", "dict"], results
    assert service.get(app["id"])["version"] == app["version"] + 1


def test_payment_confirmed_twice_at_once_activates_once(world, slow_lock):
    app = to_status("awaiting_payment")
    model.Session.remove()
    slow_lock()
    results = [None, None]
    barrier = threading.Barrier(2)

    def run(i):
        try:
            barrier.wait()
            service.mark_paid(app["id"], "operator_user", "REF-1", commit=True)
            results[i] = "ok"
        except Exception as err:  # noqa: BLE001
            results[i] = err
        finally:
            model.Session.remove()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == ["ok", "ok"]
    final = service.get(app["id"])
    assert final["status"] == "active" and final["payment_ref"] == "REF-1"
    assert [r["action"] for r in audit.list(object_type="application", object_id=app["id"])
            ].count("sanyi_application_pay") == 1
