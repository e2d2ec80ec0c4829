"""Ledger benchmark: the cost of the hash chain on inserts, and the time of a full verify.

    .venv/bin/python bench/ledger.py [--rows 1000000] [--tx-rows 10000] [--clients 8]

In its own database (``ckan_sanyi_bench_ledger``, recreated; never the portal's or a test
one), migrated with the plugin's migrations, in one run:

1. **bulk**: ``--rows`` ledger rows (default 1,000,000) appended by ``INSERT ... SELECT`` in
   statements of 10,000 rows, each its own transaction, into ``sanyi_ledger`` (chained: the
   BEFORE INSERT trigger locks the head, hashes, moves the head, per row) and into a plain
   copy of it (``CREATE TABLE ... (LIKE sanyi_ledger INCLUDING ALL)``: the same columns,
   defaults, checks and indexes, no trigger). Rows/s of each and the ratio: the server-side
   cost of chaining.
2. **one row per transaction**, as the gateway writes (``BEGIN; INSERT ...; COMMIT``, the
   commit flushed): ``--tx-rows`` rows from 1 client and from ``--clients`` concurrent
   clients, chained and plain. The chain's head row is locked until each commit, so
   concurrent writers of the chained table queue behind each other's commits while the plain
   table's commits are grouped: this is the lock's cost.
3. **verify**: ``ckan sanyi audit verify --log ledger`` (the real command: Python recomputes
   every row's hash from the rows streamed through a server-side cursor) over all the rows,
   timed; and the same recomputation inside PostgreSQL (one ``count(*)`` of rows whose hash
   differs) for comparison.

Prints the figures; they also go to ``bench/results/ledger-<time>.json``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
RESULTS = os.path.join(ROOT, "bench", "results")
CKAN = os.path.join(ROOT, ".venv", "bin", "ckan")
DB = "ckan_sanyi_bench_ledger"
USER = PASSWORD = "ckan_sanyi"
URL = f"postgresql://{USER}:{PASSWORD}@127.0.0.1/{DB}"
BATCH = 10_000
COLUMNS = ("request_id, merchant_id, client_id, entitlement_id, product, operation, outcome, "
           "error, units, input_hash, fields_read, resources, answer_bytes, latency_ms")
# one synthetic call per i: a third refused, Chinese data items, a 64-hex input hash
SELECT = """
    SELECT 'req-' || i, 'merchant-' || (i %% 20), 'sanyi_client' || (i %% 40),
           'ent-' || (i %% 40), '智慧核保', 'risk-assessment',
           CASE WHEN i %% 3 = 0 THEN 'refused' ELSE 'granted' END,
           CASE WHEN i %% 3 = 0 THEN 'out_of_scope' END,
           CASE WHEN i %% 3 = 0 THEN 0 ELSE 1 END,
           md5(i::text) || md5((i + 1)::text),
           jsonb_build_array('hypertension:患者编号', 'diabetes:确诊日期', 'yb-persons:参保类型'),
           ARRAY['diabetes', 'hypertension', 'yb-persons'],
           200 + i %% 800, ((i %% 5000) / 100.0)::numeric(12, 3)
      FROM generate_series(%(a)s::bigint, %(b)s::bigint) AS i
"""
ONE = ("INSERT INTO {table} (" + COLUMNS + ") VALUES (%(r)s, 'merchant-1', 'sanyi_client1', "
       "'ent-1', '智慧核保', 'risk-assessment', 'granted', NULL, 1, md5(%(r)s) || md5(%(r)s), "
       "'[\"hypertension:患者编号\"]', ARRAY['hypertension'], 300, 12.345)")


def connect() -> Any:
    import psycopg2
    return psycopg2.connect(URL)


def setup(src_ini: str) -> str:
    from ckanext.sanyi import devtools
    os.makedirs(RESULTS, exist_ok=True)
    devtools.create_database(DB, USER, recreate=True)
    ini = devtools.write_ini(os.path.join(RESULTS, "ckan-bench-ledger.ini"), src_ini, {
        "sqlalchemy.url": URL, "ckan.redis.url": "redis://127.0.0.1:6379/9",
        "ckanext.sanyi.demo_passwords": "false", "ckanext.sanyi.demo.domain_persons": "0"})
    devtools.migrate(CKAN, ini)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_plain (LIKE sanyi_ledger INCLUDING ALL)")
    return ini


def bulk(table: str, rows: int, start: int = 1) -> float:
    """Rows/s of ``rows`` rows in statements (and transactions) of BATCH rows."""
    conn = connect()
    began = time.perf_counter()
    with conn.cursor() as cur:
        done = 0
        while done < rows:
            n = min(BATCH, rows - done)
            cur.execute(f"INSERT INTO {table} ({COLUMNS}) {SELECT}",
                        {"a": start + done, "b": start + done + n - 1})
            conn.commit()
            done += n
            if done % 100_000 == 0:
                print(f"    {table}: {done:,} rows, {done / (time.perf_counter() - began):,.0f} "
                      "rows/s", flush=True)
    elapsed = time.perf_counter() - began
    conn.close()
    return rows / elapsed


def per_transaction(table: str, rows: int, clients: int) -> dict[str, float]:
    """Rows/s and per-commit latency (p50/p95 ms) of one row per transaction from
    ``clients`` concurrent connections."""
    each = rows // clients
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        conn = connect()
        mine: list[float] = []
        with conn.cursor() as cur:
            barrier.wait()
            for j in range(each):
                t0 = time.perf_counter()
                cur.execute(ONE.format(table=table), {"r": f"tx-{k}-{j}"})
                conn.commit()
                mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    latencies.sort()
    return {"rows_per_s": each * clients / elapsed,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)]}


def verify(ini: str) -> dict[str, Any]:
    began = time.perf_counter()
    done = subprocess.run([CKAN, "-c", ini, "sanyi", "audit", "verify", "--log", "ledger",
                           "--quiet"], capture_output=True, text=True)
    seconds = time.perf_counter() - began
    line = [x for x in done.stdout.splitlines() if x.startswith("ledger:")]
    with connect() as conn, conn.cursor() as cur:
        t0 = time.perf_counter()
        cur.execute("SELECT count(*) FROM sanyi_ledger l WHERE encode(sha256(convert_to("
                    "sanyi_ledger_canonical(l), 'UTF8')), 'hex') IS DISTINCT FROM row_hash")
        differing = cur.fetchone()[0]
        sql_seconds = time.perf_counter() - t0
        cur.execute("SELECT count(*), pg_total_relation_size('sanyi_ledger'), "
                    "pg_total_relation_size('bench_plain') FROM sanyi_ledger")
        count, chained_size, plain_size = cur.fetchone()
    return {"exit_code": done.returncode, "seconds": seconds, "output": line[:1],
            "rows": count, "rows_per_s": count / seconds, "sql_recompute_seconds": sql_seconds,
            "sql_differing_rows": differing, "size_chained_mb": chained_size / 2**20,
            "size_plain_mb": plain_size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tx-rows", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--ini", default=os.path.join(ROOT, "deploy", "ckan.ini"))
    args = parser.parse_args()
    print(f"scratch database {DB}: creating and migrating", flush=True)
    ini = setup(args.ini)
    out: dict[str, Any] = {"rows": args.rows, "tx_rows": args.tx_rows, "clients": args.clients,
                           "load_before": os.getloadavg()}
    print(f"1. bulk: {args.rows:,} rows in statements of {BATCH:,}", flush=True)
    out["bulk_plain_rows_per_s"] = bulk("bench_plain", args.rows)
    out["bulk_chained_rows_per_s"] = bulk("sanyi_ledger", args.rows)
    print(f"   plain   {out['bulk_plain_rows_per_s']:>10,.0f} rows/s")
    print(f"   chained {out['bulk_chained_rows_per_s']:>10,.0f} rows/s  "
          f"(x{out['bulk_plain_rows_per_s'] / out['bulk_chained_rows_per_s']:.2f} slower)")
    print(f"2. one row per transaction: {args.tx_rows:,} rows", flush=True)
    for clients in (1, args.clients):
        for table, name in (("bench_plain", "plain"), ("sanyi_ledger", "chained")):
            fig = per_transaction(table, args.tx_rows, clients)
            out[f"tx_{name}_{clients}"] = fig
            print(f"   {clients:>2} client(s) {name:<8} {fig['rows_per_s']:>8,.0f} rows/s  "
                  f"p50 {fig['p50_ms']:.2f} ms  p95 {fig['p95_ms']:.2f} ms", flush=True)
    print("3. ckan sanyi audit verify --log ledger", flush=True)
    out["verify"] = v = verify(ini)
    print(f"   {v['rows']:,} rows in {v['seconds']:.1f} s ({v['rows_per_s']:,.0f} rows/s), exit "
          f"{v['exit_code']}: {' '.join(v['output'])}")
    print(f"   the same hashes recomputed in SQL: {v['sql_recompute_seconds']:.1f} s, "
          f"{v['sql_differing_rows']} differ")
    print(f"   size: chained {v['size_chained_mb']:.0f} MiB, plain {v['size_plain_mb']:.0f} MiB")
    out["load_after"] = os.getloadavg()
    path = os.path.join(RESULTS, f"ledger-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
    print(f"load average before {out['load_before']}, after {out['load_after']}; {path}")


if __name__ == "__main__":
    main()
