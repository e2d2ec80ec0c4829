"""Quotes per second: the fee engine alone, and ``sanyi_price_quote`` over HTTP.

    .venv/bin/python bench/pricing.py --ini /path/to/ckan.ini [--seconds 0.4]
        [--requests 400] [--max-seconds 20] [--engine-only]

1. Engine: ``pricing.quote`` with no CKAN and no database (the cases of
   ``bench/pricing_engine.py``: flat and 3-band tiered per-call schedules, with and without a
   priority-support discount, quantities spread over all bands).
2. HTTP: writes its own ini (``use = config:<--ini>``, in a temporary directory), applies the
   plugin migrations, makes sure a bench product with a tiered ceiling and price exists (created
   with ``ignore_auth``; idempotent), starts a portal (``ckan run``, single process, reloader
   off) on a free loopback port, and sends a bounded number of sequential GET requests to
   ``/api/3/action/sanyi_price_quote`` on 127.0.0.1 only (at most ``--requests``, stopping
   early after ``--max-seconds``), anonymous, over one keep-alive connection. Prints quotes/s
   and latency percentiles, then stops the portal it started (by its process id).

The database is the one of ``--ini``: use a test or bench database, never production.
"""
from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import urlencode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
VENV_CKAN = os.path.join(ROOT, ".venv", "bin", "ckan")
PRODUCT = "bench-pricing-tiered"
QUANTITIES = (1, 999, 9_999, 15_000, 99_999, 250_000, 1_000_000)


def engine_figures(seconds: float) -> None:
    from pricing_engine import CASES, rate
    from pricing_engine import QUANTITIES as ENGINE_QUANTITIES
    print(f"== engine alone (pricing.quote), Python {sys.version.split()[0]}, "
          f"quantities {', '.join(map(str, ENGINE_QUANTITIES))}")
    for name, prod in CASES.items():
        for discount in (None, "20"):
            per_s = rate(prod, discount, seconds)
            label = f"{name}{' + 20% discount' if discount else ''}"
            print(f"  {label:<34} {per_s:>10,.0f} quotes/s  {1e6 / per_s:>7.1f} us/quote")


def write_ini(src_ini: str, port: int, directory: str) -> str:
    from ckanext.sanyi import devtools
    return devtools.write_ini(os.path.join(directory, "bench-pricing.ini"), src_ini,
                              {"ckan.site_url": f"http://127.0.0.1:{port}", "debug": "false"})


def ensure_data(ini: str) -> None:
    """Migrations, the bureau/operator/data-unit organisations and a tiered bench product."""
    subprocess.run([VENV_CKAN, "-c", ini, "db", "pending-migrations", "--apply"], check=True,
                   capture_output=True)
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    with app._wsgi_app.test_request_context():
        import ckan.model as model
        import ckan.plugins.toolkit as tk
        site = tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"]
        ctx = lambda: {"user": site, "ignore_auth": True}  # noqa: E731
        for name, title in (("shi-shu-ju-ju", "市数据局"), ("san-yi-yun-ying", "三医数据运营有限公司"),
                            ("shi-wei-jian-wei", "市卫健委")):
            if model.Group.get(name) is None:
                tk.get_action("organization_create")(ctx(), {"name": name, "title": title})
        if model.Package.get(PRODUCT) is None:
            tk.get_action("package_create")(ctx(), {
                "type": "product", "name": PRODUCT, "title": "基准测试产品（阶梯计费）",
                "owner_org": "san-yi-yun-ying", "category": "industrial", "scenario": "bench",
                "product_forms": ["api"], "supplying_units": ["shi-wei-jian-wei"],
                "status": "approved"})
        history = tk.get_action("sanyi_price_history")(ctx(), {"product": PRODUCT})
        if not history["versions"]:
            start = dt.date(dt.date.today().year, 1, 1).isoformat()

            def bands(p: tuple[str, str, str]) -> list[dict]:
                return [{"upto": 10000, "price": p[0]}, {"upto": 100000, "price": p[1]},
                        {"upto": None, "price": p[2]}]
            tk.get_action("sanyi_price_ceiling_set")(ctx(), {
                "product": PRODUCT, "effective_from": start,
                "schedule": {"unit": "call", "bands": bands(("0.60", "0.35", "0.12"))}})
            tk.get_action("sanyi_price_set")(ctx(), {
                "product": PRODUCT, "effective_from": start,
                "schedule": {"unit": "call", "bands": bands(("0.50", "0.30", "0.10"))}})
        model.Session.remove()


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the portal exited with code {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/3/action/status_show")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the portal did not start in time")


def http_figures(port: int, requests: int, max_seconds: float) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    checked = False
    start = time.perf_counter()
    for i in range(requests + 5):
        qty = QUANTITIES[i % len(QUANTITIES)]
        query = urlencode({"product": PRODUCT, "use": "industrial", "unit": "call",
                           "quantity": qty})
        t0 = time.perf_counter()
        conn.request("GET", f"/api/3/action/sanyi_price_quote?{query}")
        res = conn.getresponse()
        body = res.read()
        elapsed = time.perf_counter() - t0
        if res.status != 200:
            raise SystemExit(f"HTTP {res.status}: {body[:300]!r}")
        if not checked and qty == 15_000:
            assert json.loads(body)["result"]["amount_fen"] == 650000
            checked = True
        if i >= 5:  # the first few warm the portal up
            latencies.append(elapsed)
        if time.perf_counter() - start > max_seconds:
            break
    conn.close()
    total = sum(latencies)
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    print(f"== sanyi_price_quote over HTTP (loopback, one keep-alive connection, sequential, "
          f"anonymous; werkzeug dev server, 1 process): {len(latencies)} requests")
    print(f"  {len(latencies) / total:,.0f} quotes/s   p50 {pct(50):.1f} ms   "
          f"p95 {pct(95):.1f} ms   max {ordered[-1] * 1000:.1f} ms   mean {statistics.mean(latencies) * 1000:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ini", required=False, help="CKAN config of a test or bench database")
    parser.add_argument("--seconds", type=float, default=0.4, help="time per engine figure")
    parser.add_argument("--requests", type=int, default=400, help="HTTP requests (upper bound)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="HTTP time bound")
    parser.add_argument("--engine-only", action="store_true")
    args = parser.parse_args()
    engine_figures(args.seconds)
    if args.engine_only:
        return
    if not args.ini:
        raise SystemExit("--ini is required for the HTTP figures (or pass --engine-only)")
    with tempfile.TemporaryDirectory(prefix="sanyi-bench-pricing-") as tmp:
        from ckanext.sanyi import devtools
        port = devtools.free_port()
        ini = write_ini(args.ini, port, tmp)
        ensure_data(ini)
        log = open(os.path.join(tmp, "portal.log"), "w")
        proc = subprocess.Popen([VENV_CKAN, "-c", ini, "run", "--host", "127.0.0.1", "--port",
                                 str(port), "--disable-reloader"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_until_up(port, proc)
            http_figures(port, args.requests, args.max_seconds)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the group of the process started above
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            log.close()


if __name__ == "__main__":
    main()
