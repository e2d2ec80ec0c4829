"""The quota under concurrency, end to end: 1,000 calls of ``risk-assessment`` from 50 threads
over HTTP against an entitlement with a quota of 500 give exactly 500 answers, 500 granted
ledger rows and 500 refusals ``quota_exhausted`` (each ledgered).

CKAN's test client is not thread-safe, so the portal is served for real: the test app's WSGI
stack under Werkzeug's threaded server on a free port of 127.0.0.1, called through pooled
keep-alive sessions (one per thread)."""
from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from gateway_calls import P1, P2, P3, call_url, entitle, ledger_rows, risk_input, token
from werkzeug.serving import make_server

from ckanext.sanyi.delivery import quota

pytestmark = pytest.mark.usefixtures("with_plugins")
CALLS, THREADS, QUOTA = 1000, 50, 500


@pytest.fixture
def server(app, ckan_config, monkeypatch):
    """The portal served on 127.0.0.1 by a threaded Werkzeug server (no rate limit, and the
    quota-retry suspension off: the test counts quota refusals, not suspensions)."""
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.rate_limit", "off")
    monkeypatch.setitem(ckan_config, "ckanext.sanyi.delivery.suspend_on_quota_retry", "false")
    srv = make_server("127.0.0.1", 0, app.app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(10)


def test_1000_calls_from_50_threads_against_a_quota_of_500(app, gateway_world, server):
    ent = entitle(gateway_world, quota=QUOTA)
    tok = token(app, ent)
    url = server + call_url(ent["product"], "risk-assessment")
    people = (P1, P2, P3)
    local = threading.local()

    def one(n: int) -> tuple[int, str | None, str]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {tok}"
        res = session.post(url, json=risk_input(people[n % 3]), timeout=60,
                           headers={"X-Request-ID": f"conc-{n:05d}-{ent['id'][:8]}"})
        body = res.json()
        return res.status_code, body.get("error"), body["request_id"]

    started = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(one, range(CALLS)))
    seconds = time.monotonic() - started
    outcomes = Counter((status, error) for status, error, _ in answers)
    assert outcomes == {(200, None): QUOTA, (429, "quota_exhausted"): CALLS - QUOTA}, outcomes
    rows = ledger_rows(entitlement_id=ent["id"])
    assert Counter((r["outcome"], r["error"]) for r in rows) == {
        ("granted", None): QUOTA, ("refused", "quota_exhausted"): CALLS - QUOTA}
    assert sum(r["units"] for r in rows) == QUOTA
    assert {r["request_id"] for r in rows} == {rid for _, _, rid in answers}
    assert quota.usage({"id": ent["id"], "quota": QUOTA, "quota_unit": "call"}) == {
        "quota": QUOTA, "used": QUOTA, "remaining": 0}
    assert seconds < 120, f"{CALLS} calls took {seconds:.0f} s"
