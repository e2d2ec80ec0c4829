"""Delivery gateway benchmark: ``risk-assessment`` over HTTP against the portal served as
production serves it (uwsgi, several processes), and the gateway's own cost (the same call
path with the operation replaced by a no-op) in the same run.

    .venv/bin/python bench/delivery.py [--ini deploy/ckan.ini] [--persons 100000] [--reuse]
        [--server uwsgi|gunicorn] [--workers 4] [--threads 2] [--clients 50] [--seconds 20] [--serial-seconds 8]
        [--load wrk|python] [--serial 1000]

What it does, in databases of its own (``ckan_sanyi_bench_delivery`` for CKAN, owned by CKAN's
role, and ``ckan_sanyi_bench_delivery_domain`` for the data domain, owned by the domain role;
never the portal's or a test one) and Redis database 8:

1. creates them if needed (``ckanext.sanyi.devtools``), writes
   ``bench/results/ckan-bench-delivery.ini`` derived from ``--ini`` (rate limit off,
   ``ckanext.sanyi.delivery.bench_noop = true``, which CKAN accepts only with a benchmark
   database), runs the migrations, generates ``--persons`` persons into the domain (default
   100,000; ``--reuse`` keeps a domain holding that generation) and loads the demo catalog
   and products once;
2. gives a merchant a new active entitlement of 智慧核保 (``risk-assessment``) with a quota of
   100,000,000 calls and the data items the operation reads, and an API client;
3. serves the portal as production does (deploy/entrypoint.sh): ``uwsgi --http`` with its
   HTTP router (keep-alive on, as nginx's upstream keep-alive uses it) ahead of ``--workers``
   processes of ``--threads`` threads, ``deploy/wsgi.py`` built in each (``--lazy-apps``), on a
   free port of 127.0.0.1 (``--server gunicorn``: gthread workers, keep-alive, for
   comparison); asks the OAuth endpoint for a token;
4. measures, each phase with its own keep-alive connections, driven by ``wrk`` (Debian package
   ``wrk``, script ``bench/delivery_wrk.lua``; ``make bench-delivery`` installs it): its CPU
   per call is a few percent of a Python client's, which on a 2-core machine would take the
   CPU the portal needs (``--load python``: a thread pool of ``requests`` sessions, as
   before, the serial phase then ``--serial`` calls alternating the two kinds):

   * ``serial``: one client, ``--serial-seconds`` of the real operation, then as long of the
     no-op (header ``X-Sanyi-Bench-Noop: 1``): the latency of one call with nothing queued, so the
     no-op's figures are the gateway's own cost per call (HTTP, the WSGI layer that answers
     the calls ahead of Flask, the token query with the entitlement's lock, the checks, quota
     and rate limit in one Redis script, the ledger row with its commit);
   * ``concurrent``: ``--clients`` clients (a thread pool) for ``--seconds`` each, first the
     real operation, then the no-op: throughput (answers per second) and latency under load;

   and reads the ledger's own ``latency_ms`` of the calls (the pipeline inside the view, up to
   the answer, before the ledger write) for both kinds, and times one durable commit of the
   database (:func:`commit_latency`: ledgered calls commit one after another behind the hash
   chain's head row, so its inverse bounds the throughput whatever the CPU);
5. counts the CPU time per call of the concurrent phases (from /proc: the server's master, router
   and workers, the PostgreSQL backends of the two databases; the load generator's own apart) and
   the calls per second two cores would sustain at that cost with nothing else running: on a
   shared machine the latencies measure the queue for the CPU as much as the gateway.

Identity numbers are drawn from the generated domain (known persons, the fixed test persons and
the absent one). Prints the load average of the machine before and after (shared machines
make the figures move), and writes everything to ``bench/results/delivery-<time>.json``.
Targets: the gateway's overhead (the serial no-op) p50 <= 3 ms and p99 <= 10 ms; at least 500
``risk-assessment`` calls/s on 2 cores. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import configparser
import datetime as dt
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Python puts this script's folder first on the path; other bench scripts there (pricing.py)
# would shadow the project's packages of the same name.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
RESULTS = os.path.join(ROOT, "bench", "results")
VENV = os.path.join(ROOT, ".venv", "bin")
DB, DOMAIN_DB = "ckan_sanyi_bench_delivery", "ckan_sanyi_bench_delivery_domain"
REDIS = "redis://127.0.0.1:6379/8"
SCENARIO = "智慧核保(核保调查)"
OPERATION = "risk-assessment"
QUOTA = 100_000_000
NOOP_HEADER = "X-Sanyi-Bench-Noop"
OVERHEAD_P50_MS, OVERHEAD_P99_MS, TARGET_RPS = 3.0, 10.0, 500.0


# --------------------------------------------------------------------------- set-up
def setup(src_ini: str, persons: int, seed: int, today: dt.date, reuse: bool) -> str:
    from ckanext.sanyi import devtools
    from ckanext.sanyi.delivery.datadomain import generate, store
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(src_ini)
    base, _, _ = cp.get("app:main", "sqlalchemy.url").rpartition("/")
    user = base.split("//", 1)[1].split(":", 1)[0]
    devtools.create_database(DB, user)
    domain_url = devtools.create_domain_database(DOMAIN_DB)
    store.ensure_schema(domain_url)
    os.makedirs(os.path.join(RESULTS, "storage-delivery"), exist_ok=True)
    ini = devtools.write_ini(os.path.join(RESULTS, "ckan-bench-delivery.ini"), src_ini, {
        "sqlalchemy.url": f"{base}/{DB}", "ckan.redis.url": REDIS,
        "ckan.storage_path": os.path.join(RESULTS, "storage-delivery"),
        "ckanext.sanyi.domain.url": domain_url, "ckanext.sanyi.demo.domain_persons": 0,
        "ckanext.sanyi.delivery.rate_limit": "off",
        "ckanext.sanyi.delivery.bench_noop": "true", "debug": "false"})
    devtools.migrate(os.path.join(VENV, "ckan"), ini)
    with store.connect(domain_url) as conn:
        current = generate.current_origin(conn)
    wanted = generate.origin(persons, seed, today)
    if reuse and current == wanted:
        print(f"== reusing the domain in {DOMAIN_DB}: {wanted}")
    else:
        print(f"== generating {persons:,} persons (seed {seed}, today {today}) into {DOMAIN_DB}")
        started = time.perf_counter()
        with store.begin(domain_url) as conn:
            report = generate.generate(conn, persons=persons, seed=seed, today=today,
                                       loaded_by="bench")
        print(f"   {report.total:,} rows in {time.perf_counter() - started:.0f} s")
    return ini


def prepare(ini: str) -> dict[str, Any]:
    """The demo catalog (once), a merchant, a new entitlement with a client; answers the
    product name, the client's id and secret, and identity numbers for the calls."""
    import hashlib
    import logging

    import sqlalchemy as sa
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    logging.getLogger().setLevel(logging.CRITICAL)  # the demo's notices: no mail server here
    with app._wsgi_app.test_request_context():
        import ckan.model as model
        import ckan.plugins.toolkit as tk

        from ckanext.sanyi.applications.model import (
            application_table,
            entitlement_table,
            merchant_table,
        )
        from ckanext.sanyi.catalog import demo
        from ckanext.sanyi.delivery import clients
        from ckanext.sanyi.delivery.datadomain import catalog_link, fixed, store
        from ckanext.sanyi.delivery.operations import engine

        product = "p-" + hashlib.sha1(SCENARIO.encode()).hexdigest()[:12]
        if model.Package.get(product) is None:
            print("== loading the demo catalog and products")
            demo.load(echo=lambda line: None)
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})
        if model.User.get("bench_merchant") is None:
            tk.get_action("user_create")({"user": site["name"], "ignore_auth": True}, {
                "name": "bench_merchant", "email": "bench_merchant@example.com",
                "password": "Bench-merchant-2026"})
        user = model.User.get("bench_merchant")
        firm = model.Session.execute(sa.select(merchant_table.c.id).where(
            merchant_table.c.user_id == user.id)).scalar()
        if firm is None:
            firm = str(uuid.uuid4())
            model.Session.execute(merchant_table.insert().values(
                id=firm, user_id=user.id, company_name="压测数商有限公司",
                credit_code="91420800BENCH0001X", contact_name="压测", contact_phone="0724-0000000",
                contact_email="", enterprise_size="small", status="verified", verify_comment=""))
        pkg = model.Package.get(product)
        items = sorted(engine.required_items(OPERATION, catalog_link.resources()))
        today = dt.date.today()
        period = (dt.date(today.year - 1, 1, 1), dt.date(today.year + 1, 12, 31))
        app_id, ent_id = str(uuid.uuid4()), str(uuid.uuid4())
        model.Session.execute(application_table.insert().values(
            id=app_id, merchant_id=firm, applicant_id="bench_merchant", product_id=pkg.id,
            product_name=product, product_title=pkg.title, scenario="压测", use="industrial",
            purpose="网关压测", data_items=items, expected_volume=QUOTA, billing_unit="call",
            quantity=QUOTA, status="active", required_units=[], unit_decisions={},
            period_start=period[0], period_end=period[1]))
        model.Session.execute(entitlement_table.insert().values(
            id=ent_id, application_id=app_id, merchant_id=firm, product_id=pkg.id,
            product_name=product, purpose="网关压测", use="industrial", data_items=items,
            quota=QUOTA, quota_unit="call", status="active", period_start=period[0],
            period_end=period[1]))
        row, secret = clients.create(user, ent_id, f"bench-{ent_id[:8]}")
        model.Session.commit()
        with store.connect() as conn:
            ids = list(conn.execute(sa.text(
                "SELECT id_number FROM sanyi_domain.persons TABLESAMPLE SYSTEM (2) LIMIT 2000"))
                .scalars())
    ids += list(fixed.FIXED_IDS) + [fixed.ABSENT]
    random.Random(20261201).shuffle(ids)
    return {"product": product, "client_id": row["client_id"], "secret": secret,
            "entitlement_id": ent_id, "ids": ids}


def serve(ini: str, workers: int, threads: int, log_path: str, server: str = "uwsgi"
          ) -> tuple[subprocess.Popen, str]:
    """The portal under ``server`` on a free port of 127.0.0.1: ``uwsgi`` as
    deploy/entrypoint.sh serves it (an HTTP router process ahead of ``workers`` processes of
    ``threads`` threads, each building its own app) with the router's keep-alive on, as
    nginx's upstream keep-alive uses it; or ``gunicorn`` (gthread, keep-alive)."""
    from ckanext.sanyi import devtools
    port = devtools.free_port()
    env = dict(os.environ, CKAN_INI=ini)
    log = open(log_path, "w")  # noqa: SIM115 (kept open for the server's life)
    if server == "uwsgi":
        cmd = [os.path.join(VENV, "uwsgi"), "--http", f"127.0.0.1:{port}",
               "--http-keepalive", "--master", "--lazy-apps", "--processes", str(workers),
               "--threads", str(threads), "--wsgi-file", os.path.join(ROOT, "deploy", "wsgi.py"),
               "--callable", "application", "--harakiri", "60", "--die-on-term",
               "--disable-logging", "--listen", "1024", "--need-app"]
    else:
        cmd = [os.path.join(VENV, "gunicorn"), "--chdir", os.path.join(ROOT, "deploy"),
               "wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
               "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30",
               "--backlog", "2048", "--timeout", "120", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    import requests
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server exited; see its log")
        try:
            if requests.get(url + "/api/delivery/openapi.json", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the portal did not answer in time")


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------- calls
def access_token(url: str, client_id: str, secret: str) -> str:
    import requests
    res = requests.post(url + "/api/delivery/oauth/token", auth=(client_id, secret),
                        data={"grant_type": "client_credentials"}, timeout=30)
    res.raise_for_status()
    return res.json()["access_token"]


class Caller:
    """Keep-alive sessions, one per thread, posting one call at a time."""

    def __init__(self, url: str, token: str, ids: list[str], tag: str) -> None:
        self.url, self.token, self.ids, self.tag = url, token, ids, tag
        self._local = threading.local()
        self._n = 0
        self._lock = threading.Lock()

    def _session(self) -> Any:
        import requests
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update({"Authorization": f"Bearer {self.token}",
                                    "Content-Type": "application/json"})
        return session

    def once(self, noop: bool) -> tuple[float, int]:
        with self._lock:
            n = self._n = self._n + 1
        headers = {"X-Request-ID": f"{self.tag}-{'noop' if noop else 'real'}-{n:07d}"}
        if noop:
            headers[NOOP_HEADER] = "1"
        body = json.dumps({"id_number": self.ids[n % len(self.ids)],
                           "consent_ref": f"BENCH-{n:06d}"})
        started = time.perf_counter()
        res = self._session().post(self.url, data=body, headers=headers, timeout=60)
        elapsed = time.perf_counter() - started
        if res.status_code == 200 and noop != ("noop" in res.json()["result"]):
            raise RuntimeError("the no-op switch did not take effect: check the bench ini")
        return elapsed, res.status_code


# --------------------------------------------------------------------------- CPU accounting
SPEED_LOOP = 10_000_000


def machine_speed() -> float:
    """Milliseconds of ``SPEED_LOOP`` empty loop turns in this process (the best of three):
    the speed of one core now. On a shared machine it moves by tens of percent from one
    run to the next, and every figure of the run with it."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(SPEED_LOOP):
            pass
        best = min(best, (time.perf_counter() - started) * 1000.0)
    return best


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process from /proc (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def cpu_snapshot(master: int) -> dict[int, tuple[str, float]]:
    """CPU seconds so far, per process, of the server's master and its children (``gateway``) and
    of the PostgreSQL backends serving the benchmark's two databases (``postgres``), from
    Linux's /proc. Redis is shared with everything else on the machine and left out."""
    out: dict[int, tuple[str, float]] = {}
    pids = [int(d) for d in os.listdir("/proc") if d.isdigit()] if os.path.isdir("/proc") else []
    for pid in pids:
        st = _stat(pid)
        if st is None:
            continue
        if pid == master or st[0] == master:
            out[pid] = ("gateway", st[1])
        else:
            line = _cmdline(pid)
            if line.startswith("postgres:") and (f" {DB} " in line or f" {DOMAIN_DB} " in line):
                out[pid] = ("postgres", st[1])
    return out


def cpu_per_call(before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]],
                 calls: int, client: float) -> dict[str, float]:
    """CPU milliseconds per call by kind. A process that exited meanwhile (a pooled
    connection closed) is missed: the PostgreSQL figure is a lower bound."""
    spent = {"gateway": 0.0, "postgres": 0.0}
    for pid, (kind, seconds) in after.items():
        spent[kind] += max(0.0, seconds - before.get(pid, (kind, 0.0))[1])
    per = {k: round(v / max(1, calls) * 1000, 3) for k, v in spent.items()}
    per["client"] = round(client / max(1, calls) * 1000, 3)
    server = per["gateway"] + per["postgres"]
    per["server"] = round(server, 3)
    per["two_cores_calls_per_s"] = round(2000 / server, 0) if server > 0 else 0.0
    return per


def percentiles(times: list[float]) -> dict[str, float]:
    if not times:
        return {"n": 0}
    ordered = sorted(times)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    return {"n": len(ordered), "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(pct(95), 2), "p99_ms": round(pct(99), 2),
            "max_ms": round(ordered[-1] * 1000, 2)}


def serial(caller: Caller, calls: int) -> dict[str, Any]:
    times: dict[bool, list[float]] = {False: [], True: []}
    statuses: Counter = Counter()
    for i in range(calls):
        noop = bool(i % 2)
        elapsed, status = caller.once(noop)
        statuses[status] += 1
        times[noop].append(elapsed)
    return {"real": percentiles(times[False]), "noop": percentiles(times[True]),
            "statuses": dict(statuses)}


def concurrent(caller: Caller, clients: int, seconds: float, noop: bool) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    times: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()

    def loop() -> None:
        mine: list[float] = []
        seen: Counter = Counter()
        while time.monotonic() < deadline:
            elapsed, status = caller.once(noop)
            mine.append(elapsed)
            seen[status] += 1
        with lock:
            times.extend(mine)
            statuses.update(seen)

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(loop) for _ in range(clients)]:
            future.result()
    wall = time.monotonic() - started
    return {"clients": clients, "seconds": round(wall, 1),
            "calls_per_s": round(len(times) / wall, 1), **percentiles(times),
            "statuses": dict(statuses)}


WRK_SCRIPT = os.path.join(ROOT, "bench", "delivery_wrk.lua")


def wrk_available() -> bool:
    import shutil
    return shutil.which("wrk") is not None


def wrk_phase(url: str, token: str, ids_path: str, tag: str, noop: bool, clients: int,
              seconds: float, label: str) -> dict[str, Any]:
    """One phase driven by wrk (``bench/delivery_wrk.lua``): ``clients`` keep-alive
    connections for ``seconds``; its latency percentiles, and its own CPU time (the load
    generator's) from the child's resource usage."""
    threads = max(1, min(clients, os.cpu_count() or 1))
    cmd = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{max(1, round(seconds))}s",
           "--timeout", "60s", "-s", WRK_SCRIPT, url, "--", token, ids_path,
           f"{tag}-{'noop' if noop else 'real'}-{label}", "1" if noop else "0"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - started
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK-JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}):\n{out}")
    got = json.loads(line[len("WRK-JSON "):])
    calls, bad = int(got["requests"]), int(got["non_2xx"])
    duration = got["duration_us"] / 1e6
    statuses: dict[Any, int] = {200: calls - bad}
    if bad:
        statuses["non-2xx"] = bad
    for kind, count in got["errors"].items():
        if count:
            statuses[f"socket {kind}"] = count
    return {"clients": clients, "seconds": round(duration, 1),
            "calls_per_s": round(calls / duration, 1) if duration else 0.0, "n": calls,
            "p50_ms": got["p50_ms"], "p95_ms": got["p95_ms"], "p99_ms": got["p99_ms"],
            "max_ms": got["max_ms"], "statuses": statuses, "load_generator": "wrk",
            "client_cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": round(wall, 1)}


def measured(master: int, phase: Any) -> dict[str, Any]:
    """Run ``phase`` (a concurrent run), adding its CPU cost per call. The load generator's
    CPU is wrk's (``client_cpu_s``) or this process's own (the Python clients)."""
    before, client = cpu_snapshot(master), time.process_time()
    result = phase()
    after, client = cpu_snapshot(master), time.process_time() - client
    client = result.pop("client_cpu_s", client)
    calls = sum(result["statuses"].values())
    result["cpu_ms"] = cpu_per_call(before, after, calls, client)
    return result


def ledger_latency(ini: str, tag: str) -> dict[str, Any]:
    """The ledger's latency_ms (inside the view) of this run's calls, per kind."""
    import sqlalchemy as sa
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ini)
    engine = sa.create_engine(cp.get("app:main", "sqlalchemy.url"))
    out = {}
    with engine.connect() as conn:
        for kind in ("real", "noop"):
            values = [float(v) / 1000 for v in conn.execute(sa.text(
                "SELECT latency_ms FROM sanyi_ledger WHERE request_id LIKE :p "
                "AND outcome = 'granted'"), {"p": f"{tag}-{kind}-%"}).scalars()]
            out[kind] = percentiles(values)
    engine.dispose()
    return out


def commit_latency(ini: str, commits: int = 200) -> dict[str, Any]:
    """The latency of one durable commit in the benchmark's database (a one-row insert into
    a scratch table, then dropped). The ledger's hash chain holds its head row from a row's
    insert until its transaction has committed, so ledgered calls commit one after another:
    at most 1000 / p50 of them per second, whatever the CPU."""
    import psycopg2
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(ini)
    conn = psycopg2.connect(cp.get("app:main", "sqlalchemy.url"))
    conn.autocommit = True
    times: list[float] = []
    try:
        cur = conn.cursor()
        cur.execute("CREATE TABLE IF NOT EXISTS sanyi_bench_commit_probe (n int)")
        for n in range(commits):
            started = time.perf_counter()
            cur.execute("BEGIN; INSERT INTO sanyi_bench_commit_probe VALUES (%(n)s); COMMIT",
                        {"n": n})
            times.append(time.perf_counter() - started)
        cur.execute("DROP TABLE sanyi_bench_commit_probe")
    finally:
        conn.close()
    out = percentiles(times)
    out["serialized_ceiling_calls_per_s"] = round(1000 / out["p50_ms"]) if out["p50_ms"] else 0
    return out


# --------------------------------------------------------------------------- main
def _line(label: str, figures: dict[str, Any]) -> str:
    rate = f"{figures['calls_per_s']:>8,.0f} calls/s  " if "calls_per_s" in figures else " " * 19
    return (f"  {label:<34}{rate}p50 {figures['p50_ms']:>7.2f}  p95 {figures['p95_ms']:>7.2f}  "
            f"p99 {figures['p99_ms']:>7.2f}  max {figures['max_ms']:>8.2f} ms  (n={figures['n']:,})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ini", default=os.path.join(ROOT, "deploy", "ckan.ini"))
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    ap.add_argument("--reuse", action="store_true", help="keep a domain of that generation")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--server", choices=("uwsgi", "gunicorn"), default="uwsgi",
                    help="uwsgi as deploy/entrypoint.sh serves the portal, or gunicorn")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--serial", type=int, default=1000,
                    help="calls of the serial phase (Python load generator)")
    ap.add_argument("--serial-seconds", type=float, default=8.0,
                    help="seconds of each serial phase (wrk)")
    ap.add_argument("--load", choices=("wrk", "python"), default=None,
                    help="load generator (default: wrk when installed, else Python threads)")
    args = ap.parse_args()
    load = args.load or ("wrk" if wrk_available() else "python")
    if load == "wrk" and not wrk_available():
        ap.error("wrk is not installed (Debian package wrk; make bench-delivery installs it)")

    load_before = os.getloadavg()
    speed_before = machine_speed()
    print(f"== load average before: {load_before[0]:.2f} {load_before[1]:.2f} "
          f"{load_before[2]:.2f} ({os.cpu_count()} cores); {speed_before:.0f} ms for "
          f"{SPEED_LOOP:,} empty loop turns of one Python thread")
    ini = setup(args.ini, args.persons, args.seed, args.today, args.reuse)
    world = prepare(ini)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    log_path = os.path.join(RESULTS, f"delivery-{args.server}-{stamp}.log")
    kind = "HTTP router, keep-alive" if args.server == "uwsgi" else "gthread, keep-alive"
    print(f"== {args.server}: {args.workers} processes x {args.threads} threads ({kind}); "
          f"log {os.path.relpath(log_path, ROOT)}")
    proc, url = serve(ini, args.workers, args.threads, log_path, args.server)
    tag = f"bench-{stamp}"
    try:
        wait_ready(url, proc)
        token = access_token(url, world["client_id"], world["secret"])
        caller = Caller(f"{url}/api/delivery/v1/{world['product']}/{OPERATION}", token,
                        world["ids"], tag)
        for noop_call in (False, True):  # the switch works (the Python client checks it)
            caller.once(noop_call)
        if load == "wrk":
            ids_path = os.path.join(RESULTS, f"delivery-ids-{stamp}.txt")
            with open(ids_path, "w", encoding="utf-8") as f:
                f.write("\n".join(world["ids"]) + "\n")

            def phase(noop_call: bool, clients: int, seconds: float, label: str) -> dict[str, Any]:
                return wrk_phase(caller.url, token, ids_path, tag, noop_call, clients, seconds,
                                 label)
        else:
            def phase(noop_call: bool, clients: int, seconds: float, label: str) -> dict[str, Any]:
                return concurrent(caller, clients, seconds, noop_call)
        print(f"== load generator: {load}")
        print(f"== warm-up: {args.clients} clients for 10 s (every worker builds its caches)")
        phase(False, args.clients, 7.0, "warm")
        phase(True, args.clients, 3.0, "warm")
        if load == "wrk":
            print(f"== serial: one client, {args.serial_seconds:.0f} s of {OPERATION}, then as "
                  "long of the no-op")
            r1 = phase(False, 1, args.serial_seconds, "c1")
            n1 = phase(True, 1, args.serial_seconds, "c1")
            one = {"real": r1, "noop": n1,
                   "statuses": dict(Counter(r1["statuses"]) + Counter(n1["statuses"]))}
        else:
            print(f"== serial: one client, {args.serial} calls alternating {OPERATION} and the "
                  "no-op")
            one = serial(caller, args.serial)
        print(_line(f"{OPERATION} (c=1)", one["real"]))
        print(_line("no-op: the gateway's own (c=1)", one["noop"]))
        print(f"== concurrent: {args.clients} clients, {args.seconds:.0f} s each")
        real = measured(proc.pid, lambda: phase(False, args.clients, args.seconds, "cc"))
        print(_line(f"{OPERATION} (c={args.clients})", real))
        noop = measured(proc.pid, lambda: phase(True, args.clients, args.seconds, "cc"))
        print(_line(f"no-op (c={args.clients})", noop))
        print("== CPU per call (ms; server = its processes + PostgreSQL backends of the two "
              "databases; the 2 cores' capacity at that cost with nothing else running)")
        for label, result in ((OPERATION, real), ("no-op", noop)):
            c = result["cpu_ms"]
            print(f"  {label:<18} workers {c['gateway']:6.2f}  postgres {c['postgres']:6.2f}  "
                  f"server {c['server']:6.2f}  (load generator {c['client']:5.2f})  "
                  f"-> {c['two_cores_calls_per_s']:,.0f} calls/s on 2 idle cores")
    finally:
        stop(proc)
    inside = ledger_latency(ini, tag)
    flush = commit_latency(ini)
    print(_line("one durable commit (PostgreSQL)", flush) +
          f"  -> ledgered calls commit one after another: at most "
          f"{flush['serialized_ceiling_calls_per_s']:,}/s")
    print("== inside the view (the ledger's latency_ms: up to the answer, before its own row)")
    print(_line(f"{OPERATION}", inside["real"]))
    print(_line("no-op", inside["noop"]))
    load_after = os.getloadavg()
    speed_after = machine_speed()
    print(f"== load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f};"
          f" {speed_after:.0f} ms for the same loop (a shared machine's speed moves: compare "
          "runs of similar loop times)")
    bad = {k: v for phase in (one, real, noop) for k, v in phase["statuses"].items() if k != 200}
    if bad:
        print(f"!! answers other than 200: {bad}")
    verdict = {
        "overhead_p50": one["noop"]["p50_ms"] <= OVERHEAD_P50_MS,
        "overhead_p99": one["noop"]["p99_ms"] <= OVERHEAD_P99_MS,
        "throughput": real["calls_per_s"] >= TARGET_RPS,
    }
    print(f"== targets: overhead p50 <= {OVERHEAD_P50_MS} ms: "
          f"{'met' if verdict['overhead_p50'] else 'NOT met'}; p99 <= {OVERHEAD_P99_MS} ms: "
          f"{'met' if verdict['overhead_p99'] else 'NOT met'}; >= {TARGET_RPS:.0f} calls/s: "
          f"{'met' if verdict['throughput'] else 'NOT met'}")
    result = {"when": dt.datetime.now().isoformat(), "machine": f"{os.cpu_count()} cores",
              "load_before": load_before, "load_after": load_after,
              "loop_ms": {"before": speed_before, "after": speed_after, "turns": SPEED_LOOP}, "persons": args.persons,
              "workers": args.workers, "threads": args.threads, "load_generator": load,
              "serial": one,
              "concurrent": {"real": real, "noop": noop}, "inside_view": inside,
              "commit_latency": flush,
              "targets": verdict}
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"delivery-{stamp}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(f"results: {os.path.relpath(path, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
