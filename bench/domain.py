"""Data-domain benchmark: generate a prefecture-sized domain, its size, the operations' latency.

    .venv/bin/python bench/domain.py [--persons 1000000] [--seed 20261201] [--today 2026-12-01]
                                     [--reuse] [--reps 200] [--no-operations]

What it does, in a database of its own (``ckan_sanyi_bench_domain``, owned by the domain role
``sanyi_domain`` as deploy/setup.sh creates the portal's domain; never the portal's or a test
one):

1. creates the database if needed (devtools.create_domain_database: ``su postgres -c psql``)
   and the domain's schema;
2. generates N persons (default 1,000,000) with ``datadomain.generate`` (the code behind
   ``ckan sanyi domain generate``): rows per table, seconds spent making and sending the rows
   and rebuilding the keys and indexes, rows per second. ``--reuse`` keeps a domain that
   already holds that generation;
3. reports the database's size (``pg_database_size``) and each table's (heap, indexes);
4. times the product operations at that size (:func:`time_operations`): p50/p95 per operation
   over ``--reps`` calls with inputs drawn from the domain (known and unknown persons,
   institutions, drugs, one-year windows). Targets: verification operations p95 <= 10 ms,
   ``cohort-statistics`` p95 <= 500 ms for a one-year window.

Results also go to ``bench/results/domain-<time>.json``. No CKAN configuration is needed: the
domain is reached by URL.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Python puts this script's folder first on the path; other bench scripts there (pricing.py)
# would shadow the project's packages of the same name.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
RESULTS = os.path.join(ROOT, "bench", "results")
DB = "ckan_sanyi_bench_domain"
VERIFY_P95_MS, COHORT_P95_MS = 10.0, 500.0


# --------------------------------------------------------------------------- generation
def setup(db: str) -> str:
    from ckanext.sanyi import devtools
    from ckanext.sanyi.delivery.datadomain import store
    url = devtools.create_domain_database(db)
    store.ensure_schema(url)
    return url


def generate(url: str, db: str, persons: int, seed: int, today: dt.date,
             reuse: bool) -> dict[str, Any]:
    from ckanext.sanyi.delivery.datadomain import generate as gen
    from ckanext.sanyi.delivery.datadomain import store
    if reuse:
        with store.connect(url) as conn:
            if gen.current_origin(conn) == gen.origin(persons, seed, today):
                print(f"reusing the domain in {db}: {gen.origin(persons, seed, today)}")
                return {"reused": True}
    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 15 or done == total:
            print(f"  {done:>10,} / {total:,} persons", flush=True)
            last[0] = now

    print(f"generating {persons:,} persons (seed {seed}, today {today}) into {db} ...")
    with store.begin(url) as conn:
        report = gen.generate(conn, persons=persons, seed=seed, today=today,
                              progress=progress, loaded_by="bench")
    width = max(len(t) for t in report.rows)
    for name, n in report.rows.items():
        print(f"  {name:<{width}} {n:>13,}")
    print(f"{report.total:,} rows in {report.seconds:.1f} s = {report.rows_per_second:,.0f} rows/s"
          f" (rows {report.phases['rows']:.1f} s, keys and indexes {report.phases['keys']:.1f} s)")
    return {"reused": False, "rows": report.rows, "total_rows": report.total,
            "seconds": round(report.seconds, 1), "rows_per_second": round(report.rows_per_second),
            "phases": {k: round(v, 1) for k, v in report.phases.items()}}


def sizes(url: str) -> dict[str, Any]:
    import sqlalchemy as sa

    from ckanext.sanyi.delivery.datadomain import store
    from ckanext.sanyi.delivery.datadomain.sources import SCHEMA, SOURCES
    out: dict[str, Any] = {"tables": {}}
    with store.connect(url) as conn:
        out["database_bytes"] = conn.execute(
            sa.text("SELECT pg_database_size(current_database())")).scalar()
        for s in SOURCES:
            rel = f'{SCHEMA}."{s.table}"'
            heap, index = conn.execute(sa.text(
                "SELECT pg_table_size(CAST(:r AS regclass)), "
                "pg_indexes_size(CAST(:r AS regclass))"), {"r": rel}).one()
            out["tables"][s.table] = {"heap_bytes": heap, "index_bytes": index}
    mb = 1024 * 1024
    print(f"database size {out['database_bytes'] / mb:,.0f} MB")
    for name, t in out["tables"].items():
        print(f"  {name:<22} heap {t['heap_bytes'] / mb:>9,.1f} MB   indexes "
              f"{t['index_bytes'] / mb:>9,.1f} MB")
    return out


# --------------------------------------------------------------------------- operations
def sample_inputs(url: str, today: dt.date, n: int, seed: int) -> dict[str, list[Any]]:
    """Inputs drawn from the domain: identity numbers (mostly known, some unknown), institutions
    and dates of real visits, drugs, one-year windows."""
    import sqlalchemy as sa

    from ckanext.sanyi.delivery.datadomain import fixed, reference
    from ckanext.sanyi.delivery.datadomain.store import connect
    rng = random.Random(seed)
    with connect(url) as conn:
        ids = list(conn.execute(sa.text(
            "SELECT id_number FROM sanyi_domain.persons TABLESAMPLE SYSTEM (1) LIMIT :n"),
            {"n": n}).scalars())
        visits = conn.execute(sa.text(
            "SELECT id_number, institution_name, visit_date FROM sanyi_domain.outpatient_visits "
            "TABLESAMPLE SYSTEM (0.1) LIMIT :n"), {"n": n}).all()
    ids = ids + list(fixed.FIXED_IDS) + [fixed.ABSENT]
    rng.shuffle(ids)
    return {
        "id_numbers": ids,
        "visits": [(v.id_number, v.institution_name, v.visit_date - dt.timedelta(days=30),
                    v.visit_date + dt.timedelta(days=30)) for v in visits],
        "drugs": [d.generic_name for d in reference.DRUGS],
        "windows": [_year_window(today, k) for k in range(12)],
    }


def _year_window(today: dt.date, k: int) -> tuple[dt.date, dt.date]:
    """Twelve whole months ending ``k`` months before the last complete month."""
    first = dt.date(today.year, today.month, 1)
    for _ in range(k):
        first = (first - dt.timedelta(days=1)).replace(day=1)
    end = first - dt.timedelta(days=1)
    start = end.replace(day=1)
    for _ in range(11):
        start = (start - dt.timedelta(days=1)).replace(day=1)
    return start, end


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    q = statistics.quantiles(times, n=20, method="inclusive") if len(times) > 1 else times * 19
    return {"n": len(times), "p50_ms": round(statistics.median(times) * 1000, 2),
            "p95_ms": round(q[18] * 1000, 2), "max_ms": round(times[-1] * 1000, 2)}


def _time(call: Callable[[], Any], reps: int) -> dict[str, float]:
    call()  # warm the caches and the plans
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return _percentiles(times)


def operation_calls(url: str, today: dt.date, inputs: dict[str, list[Any]]
                    ) -> dict[str, Callable[[int], Any]] | None:
    """``{operation: call(i)}`` for the product operations, or None when the operations
    package (``ckanext.sanyi.delivery.operations``) is not there.

    Each call runs the operation inside the domain with its ``i``-th sample input, as the
    gateway would (through the operations' own entry point, not SQL of this script).
    """
    try:
        from ckanext.sanyi.delivery.operations import engine
    except ImportError:
        return None
    return _operation_calls(engine, url, today, inputs)


def _operation_calls(engine: Any, url: str, today: dt.date,
                     inputs: dict[str, list[Any]]) -> dict[str, Callable[[int], Any]]:
    """The calls, through the operations engine (``engine.run(name, payload, conn=, today=)``:
    input validation, the operation's SQL, the check of the answer against its schema)."""
    from ckanext.sanyi.delivery.datadomain.store import connect
    ids, visits = inputs["id_numbers"], inputs["visits"]
    drugs, windows = inputs["drugs"], inputs["windows"]

    def run(name: str, args: dict[str, Any]) -> Any:
        with connect(url) as conn:
            return engine.run(name, args, conn=conn, today=today)

    return {
        "risk-assessment": lambda i: run("risk-assessment", {
            "id_number": ids[i % len(ids)], "consent_ref": f"BENCH-{i}"}),
        "visit-verification": lambda i: run("visit-verification", {
            "id_number": visits[i % len(visits)][0], "institution": visits[i % len(visits)][1],
            "date_from": visits[i % len(visits)][2].isoformat(),
            "date_to": visits[i % len(visits)][3].isoformat(), "diagnosis_chapter": "J"}),
        "renewal-eligibility": lambda i: run("renewal-eligibility", {
            "id_number": ids[i % len(ids)]}),
        "health-profile": lambda i: run("health-profile", {"id_number": ids[i % len(ids)]}),
        "cohort-statistics": lambda i: run("cohort-statistics", {
            "drug": drugs[i % len(drugs)], "date_from": windows[i % len(windows)][0].isoformat(),
            "date_to": windows[i % len(windows)][1].isoformat(),
            "group_by": ["age_band", "sex"]}),
    }


def time_operations(url: str, today: dt.date, reps: int, seed: int) -> dict[str, Any] | None:
    inputs = sample_inputs(url, today, max(reps, 50), seed)
    calls = operation_calls(url, today, inputs)
    if calls is None:
        print("operations: ckanext.sanyi.delivery.operations is not there yet; not timed")
        return None
    out: dict[str, Any] = {}
    for name, call in calls.items():
        counter = iter(range(10 ** 9))
        reps_here = min(reps, 60) if name == "cohort-statistics" else reps
        out[name] = _time(lambda c=call, k=counter: c(next(k)), reps_here)
        target = COHORT_P95_MS if name == "cohort-statistics" else VERIFY_P95_MS
        out[name]["target_p95_ms"] = target
        mark = "ok" if out[name]["p95_ms"] <= target else "OVER"
        print(f"  {name:<20} p50 {out[name]['p50_ms']:>8.2f} ms  p95 {out[name]['p95_ms']:>8.2f} ms"
              f"  (target {target:g} ms: {mark})")
    return out


# --------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--today", type=dt.date.fromisoformat, default=dt.date(2026, 12, 1))
    ap.add_argument("--db", default=DB)
    ap.add_argument("--reuse", action="store_true", help="keep a domain holding this generation")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--no-operations", action="store_true")
    args = ap.parse_args()
    url = setup(args.db)
    result: dict[str, Any] = {"persons": args.persons, "seed": args.seed,
                              "today": args.today.isoformat(), "db": args.db,
                              "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    result["generation"] = generate(url, args.db, args.persons, args.seed, args.today, args.reuse)
    result["size"] = sizes(url)
    if not args.no_operations:
        result["operations"] = time_operations(url, args.today, args.reps, args.seed)
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"domain-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=2, default=str)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
