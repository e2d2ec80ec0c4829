"""Load: 20 merchants submit 50 applications each, concurrently, against a running portal.

    .venv/bin/python bench/applications_load.py [--ini deploy/ckan.ini] [--merchants 20] [--each 50]

1. creates a scratch database ``ckan_sanyi_load`` (dropped first), migrates it and loads the
   demo data; registers ``--merchants`` merchants, which the bureau verifies, each with an
   API token;
2. starts the portal (``ckan run --threaded``) on a free loopback port;
3. one thread per merchant creates and submits ``--each`` applications for the free product
   个人健康画像与风险预警 over the Action API (two requests each); the loop is bounded;
4. prints throughput, request latency p50/p95/max, error responses, and how many applications
   the database holds in unit review afterwards (must be merchants x each).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")]
VENV_CKAN = os.path.join(ROOT, ".venv", "bin", "ckan")
DB = "ckan_sanyi_load"
PRODUCT_TITLE = "个人健康画像与风险预警"


def credit_code(i: int) -> str:
    from ckanext.sanyi.domain.credit_code import compute_check_char
    first17 = f"9142080{i:010d}"[:17]
    return first17 + compute_check_char(first17)


def prepare(src_ini: str, workdir: str, port: int, merchants: int) -> tuple[str, dict, list]:
    """Scratch database with demo data; merchants verified; returns ini, product, tokens."""
    import configparser

    from ckanext.sanyi import devtools
    cp = configparser.ConfigParser(interpolation=None)
    cp.read(src_ini)
    base, _, _ = cp.get("app:main", "sqlalchemy.url").rpartition("/")
    user = base.split("//", 1)[1].split(":", 1)[0]
    devtools.create_database(DB, user, recreate=True)
    ini = devtools.write_ini(os.path.join(workdir, "load.ini"), src_ini, {
        "sqlalchemy.url": f"{base}/{DB}", "ckan.site_url": f"http://127.0.0.1:{port}",
        "ckan.redis.url": "redis://127.0.0.1:6379/10", "ckanext.sanyi.demo_passwords": "false",
        "smtp.server": ""})
    devtools.migrate(VENV_CKAN, ini)
    subprocess.run([VENV_CKAN, "-c", ini, "sanyi", "load-demo"], check=True,
                   capture_output=True)
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    tokens = []
    with app._wsgi_app.test_request_context():
        import ckan.plugins.toolkit as tk
        from ckan import model
        product = model.Session.query(model.Package).filter_by(
            type="product", title=PRODUCT_TITLE).one()
        items = tk.get_action("sanyi_application_data_items")({"ignore_auth": True},
                                                              {"product": product.name})
        data_items = [o["value"] for o in items["data_items"]][:2]
        for i in range(merchants):
            name = f"load-merchant-{i:02d}"
            tk.get_action("user_create")({"ignore_auth": True}, {
                "name": name, "email": f"{name}@example.cn", "password": "Load-test-2026!"})
            m = tk.get_action("sanyi_merchant_register")({"user": name}, {
                "company_name": f"压测数商 {i:02d} 有限公司", "credit_code": credit_code(i),
                "contact_name": "测试", "contact_phone": "13800000000",
                "enterprise_size": "small"})
            tk.get_action("sanyi_merchant_verify")({"user": "bureau"},
                                                   {"id": m["id"], "decision": "approve"})
            tok = tk.get_action("api_token_create")({"user": name},
                                                    {"user": name, "name": "load"})
            tokens.append(tok["token"])
        model.Session.commit()
    return ini, {"name": product.name, "data_items": data_items}, tokens


def post(port: int, token: str, action: str, data: dict) -> tuple[int, float, dict]:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/3/action/{action}", data=json.dumps(data).encode(),
        headers={"Authorization": token, "Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            body = json.loads(res.read())
            return res.status, time.perf_counter() - t0, body
    except urllib.error.HTTPError as e:
        return e.code, time.perf_counter() - t0, {"error": e.read()[:300].decode(errors="replace")}


def wait_up(port: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise SystemExit("the portal exited during start-up")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("the portal did not start in time")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ini", default=os.path.join(ROOT, "deploy", "ckan.ini"))
    ap.add_argument("--merchants", type=int, default=20)
    ap.add_argument("--each", type=int, default=50)
    args = ap.parse_args()
    from ckanext.sanyi import devtools
    port = devtools.free_port()
    with tempfile.TemporaryDirectory(prefix="sanyi-load-") as tmp:
        t0 = time.time()
        ini, product, tokens = prepare(args.ini, tmp, port, args.merchants)
        print(f"set-up (database, demo data, {len(tokens)} verified merchants): "
              f"{time.time() - t0:.1f} s")
        log = open(os.path.join(tmp, "portal.log"), "w")
        proc = subprocess.Popen([VENV_CKAN, "-c", ini, "run", "--host", "127.0.0.1", "--port",
                                 str(port), "--threaded", "--disable-reloader"],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_up(port, proc)
            results: list[tuple[str, int, float]] = []
            errors: list[str] = []
            lock = threading.Lock()
            start = (dt.date.today() + dt.timedelta(days=1)).isoformat()
            end = (dt.date.today() + dt.timedelta(days=365)).isoformat()

            def merchant(k: int, token: str) -> None:
                rng = random.Random(k)
                for j in range(args.each):
                    data = {"product": product["name"], "use": "public_interest",
                            "scenario": f"压测场景 {k}-{j}", "purpose": "慢病风险预警（公益）",
                            "data_items": product["data_items"], "period_start": start,
                            "period_end": end, "expected_volume": rng.randint(100, 10000)}
                    status, took, body = post(port, token, "sanyi_application_create", data)
                    with lock:
                        results.append(("create", status, took))
                        if status != 200:
                            errors.append(f"create {status}: {body}")
                    if status != 200:
                        continue
                    app_id = body["result"]["id"]
                    status, took, body = post(port, token, "sanyi_application_submit",
                                              {"id": app_id})
                    with lock:
                        results.append(("submit", status, took))
                        if status != 200:
                            errors.append(f"submit {status}: {body}")

            threads = [threading.Thread(target=merchant, args=(k, tok))
                       for k, tok in enumerate(tokens)]
            t1 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t1
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        report(results, errors, wall, ini, args.merchants * args.each)


def report(results: list, errors: list, wall: float, ini: str, expected: int) -> None:
    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    from sqlalchemy import text
    app = make_app(load_config(ini))
    with app._wsgi_app.test_request_context():
        from ckan import model
        counts = dict(model.Session.execute(text(
            "SELECT status, count(*) FROM sanyi_application GROUP BY status")).all())
    lat = sorted(t for _, _, t in results)

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else 0.0
    ok = sum(1 for _, s, _ in results if s == 200)
    print(f"requests: {len(results)} in {wall:.1f} s = {len(results) / wall:.1f} req/s "
          f"({expected / wall:.1f} applications/s); ok {ok}, error responses {len(errors)}")
    print(f"latency: p50 {pct(0.50):.0f} ms, p95 {pct(0.95):.0f} ms, max {pct(1.0):.0f} ms")
    print(f"applications in the database by status: {counts}; expected {expected} submitted")
    for e in errors[:5]:
        print("  error:", e)
    if errors or sum(counts.values()) != expected:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
