"""Benchmark ``ckan sanyi import-catalog``: N generated rows into a fresh database.

    .venv/bin/python bench/import_catalog.py               # 100,000 rows
    .venv/bin/python bench/import_catalog.py -n 2000       # a quick run, with a 100k estimate
    .venv/bin/python bench/import_catalog.py -n 2000 100000 --reimport
        # 2,000 rows, the estimate for 100,000, then 100,000 if within --budget minutes;
        # --reimport also times re-importing the same file (a no-op)
    .venv/bin/python bench/import_catalog.py -n 10000 --update
        # 10,000 rows created, then all 10,000 changed on re-import (the bulk update path),
        # and a sample of --old-sample rows through package_patch (the old path), same run

Creates (drops first) the database ``ckan_sanyi_bench_import`` the way deploy/setup.sh
creates the portal's (OWNER ckan_sanyi, pg_trgm, ``ckan db init``, ``ckan db
pending-migrations --apply``), writes a CSV in the first-batch layout, then imports it in a
separate process that has loaded CKAN (start-up is not counted) and prints rows/s, the
total, the Python CPU time per row and the load average (the machine may be shared). With
``--update`` it then re-imports the file with every row changed (更新周期 and 资源描述) and
prints the update rows/s (after an untimed ``VACUUM ANALYZE``), twice: validated and shown field by field (the default) and whole
(``ckanext.sanyi.catalog.import_field_delta = false``), and times ``package_patch`` (the path updates
took before) on a sample of the rows for comparison. Needs PostgreSQL and Redis on 127.0.0.1 (deploy/setup.sh) and to run as root or with
sudo for ``psql -U postgres``.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.environ.get("VENV", os.path.join(ROOT, ".venv"))
DB = "ckan_sanyi_bench_import"
DB_USER = os.environ.get("SANYI_DB_USER", "ckan_sanyi")
DB_PASS = os.environ.get("SANYI_DB_PASS", "ckan_sanyi")
INI = f"/tmp/{DB}.ini"

UNITS = ["市卫健委", "市医保局", "市市场监管局", "市药监局", "市人社局", "市公交集团",
         "市住房和城市更新局", "市自然资源和城乡建设局", "荆门住房公积金中心", "市科技局",
         "市司法局", "市公安局"]
METHODS = ["接口;库表;文件", "接口", "库表", "文件", "接口;文件", "库表;文件"]
CYCLES = ["定期", "实时", "每月", "每季度", "每年", "不定期", "每日", "每周"]
SUBJECTS = ["门诊就诊记录", "住院结算", "药品流通", "参保人员", "体检明细", "检验明细", "慢病随访",
            "疫苗接种", "医疗机构", "医保目录", "企业登记", "公交到站"]


def generate(path: str, n: int, seed: int = 20261124) -> None:
    rng = random.Random(seed)
    today = dt.date.today()
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["序号", "数源单位", "数据资源名称", "提供方式", "更新周期", "最近更新日期",
                    "资源描述"])
        for i in range(1, n + 1):
            subject = rng.choice(SUBJECTS)
            w.writerow([i, rng.choice(UNITS), f"{subject}数据（第{i}号）", rng.choice(METHODS),
                        rng.choice(CYCLES),
                        (today - dt.timedelta(days=rng.randrange(0, 400))).isoformat(),
                        f"{subject}相关的公共数据资源，编号 {i}。"])


def changed_copy(path: str, mark: str = "（已修订）", cycles: tuple[str, str] = ("每年", "每月")
                 ) -> str:
    """``path`` with every row changed: another 更新周期 (the first of ``cycles``, the second
    where the row has the first) and 资源描述 (``mark`` appended), as a clerk's edit."""
    out = path.replace(".csv", f"-changed{len(mark)}.csv")
    with open(path, newline="", encoding="utf-8") as f, \
            open(out, "w", newline="", encoding="utf-8") as g:
        rows = csv.reader(f)
        w = csv.writer(g)
        header = next(rows)
        w.writerow(header)
        cycle, notes = header.index("更新周期"), header.index("资源描述")
        for row in rows:
            row[cycle] = cycles[0] if row[cycle] != cycles[0] else cycles[1]
            row[notes] = row[notes] + mark
            w.writerow(row)
    return out


def setup_db() -> None:
    from ckanext.sanyi import devtools
    devtools.create_database(DB, DB_USER, recreate=True)
    devtools.write_ini(INI, f"{ROOT}/deploy/ckan.ini", {
        "sqlalchemy.url": f"postgresql://{DB_USER}:{DB_PASS}@127.0.0.1/{DB}",
        "ckan.redis.url": "redis://127.0.0.1:6379/9", "ckanext.sanyi.demo_passwords": "false"})
    devtools.migrate(os.path.join(VENV, "bin", "ckan"), INI)


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the import's workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def worker(ini: str, path: str, runs: int, workers: int | None, update: int = 0) -> None:
    """In a process of its own: load CKAN, import ``path`` ``runs`` times, print JSON; with
    ``update`` (a sample size) also the changed file and ``package_patch`` on the sample."""
    here = os.path.dirname(os.path.abspath(__file__))  # bench/*.py must not shadow packages
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    import logging

    from ckan.cli import load_config
    from ckan.config.middleware import make_app
    app = make_app(load_config(ini))
    logging.getLogger().setLevel(logging.WARNING)
    out = []
    with app._wsgi_app.test_request_context():
        import ckan.model as model
        from sqlalchemy import text

        from ckanext.sanyi.catalog.importer import import_file
        def timed(csv_path: str) -> dict:
            t0, c0 = time.perf_counter(), _cpu()
            report = import_file(csv_path, batch="bench", progress=False, workers=workers)
            seconds, cpu = time.perf_counter() - t0, _cpu() - c0
            return {"seconds": seconds, "cpu": cpu, "created": report.created,
                    "updated": report.updated, "unchanged": report.unchanged,
                    "errors": len(report.errors), "summary": report.summary(),
                    "first_errors": [f"{e.row}: {e.message}" for e in report.errors[:3]]}

        for _ in range(runs):
            out.append(timed(path))
        if update:
            import ckan.plugins.toolkit as tk
            # every row changed twice: field by field (the default), then validated and
            # shown whole (ckanext.sanyi.catalog.import_field_delta = false)
            for mark, cycles, by_field in (("（已修订）", ("每年", "每月"), True),
                                           ("（再次修订）", ("每季度", "每日"), False)):
                tk.config["ckanext.sanyi.catalog.import_field_delta"] = str(by_field).lower()
                changed = changed_copy(path, mark, cycles)
                _settle(model)
                out.append(timed(changed))
            tk.config["ckanext.sanyi.catalog.import_field_delta"] = "true"
            out.append(_old_path(update))
        counts = model.Session.execute(text(
            "SELECT (SELECT count(*) FROM package WHERE type = 'dataset' AND state = 'active'),"
            " (SELECT count(*) FROM sanyi_search_doc)")).one()
    print(json.dumps({"runs": out, "packages": counts[0], "index_docs": counts[1]}))


def _settle(model) -> None:
    """``VACUUM ANALYZE`` (untimed) before a re-import: it meets the database as days
    after an import it is, not with the autovacuum of 10,000 fresh rows still to run."""
    model.Session.remove()
    with model.meta.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def _old_path(sample: int) -> dict:
    """``package_patch`` per row (the update path before ``bulk.update_batch``) on ``sample``
    datasets, changing their 资源描述 again."""
    import ckan.model as model

    from ckanext.sanyi.catalog import bulk
    from ckanext.sanyi.common.user import site_user_name
    ids = [i for (i,) in model.Session.query(model.Package.id).filter(
        model.Package.type == "dataset", model.Package.state == "active")
        .order_by(model.Package.name).limit(sample)]
    patches = [(n, {"id": i, "notes": f"package_patch 修订 {n}"}) for n, i in enumerate(ids)]
    t0, c0 = time.perf_counter(), _cpu()
    done = bulk.update_rows(patches, site_user_name())
    return {"seconds": time.perf_counter() - t0, "cpu": _cpu() - c0,
            "updated": len(done.updated), "errors": len(done.errors)}


def run_once(n: int, reimport: bool, workers: int | None, update: int = 0) -> float:
    """Import ``n`` generated rows into a fresh database; print the figures; rows/s."""
    path = f"/tmp/sanyi-bench-import-{n}.csv"
    generate(path, n)
    print(f"database {DB}: creating (db init, migrations) ...", flush=True)
    setup_db()
    print(f"importing {n:,} rows from {path} ...", flush=True)
    load0 = _load()
    t0 = time.perf_counter()
    proc = subprocess.run([os.path.join(VENV, "bin", "python"), os.path.abspath(__file__),
                           "--worker", INI, path, "2" if reimport else "1", str(workers or 0),
                           str(update)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        sys.exit(proc.returncode)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    first = result["runs"][0]
    rate = n / first["seconds"]
    print(f"import: {first['seconds']:.1f} s for {n:,} rows = {rate:,.0f} rows/s "
          f"(process incl. CKAN start-up: {wall:.1f} s)")
    print(f"  Python CPU {first['cpu']:.1f} s = {first['cpu'] / n * 1000:.2f} ms/row "
          f"(PostgreSQL's not counted); load average before/after: {load0} / {_load()} "
          f"on {os.cpu_count()} cores")
    print(f"  {first['summary']}")
    for e in first["first_errors"]:
        print(f"  error {e}")
    print(f"  in the database: {result['packages']:,} catalog datasets, "
          f"{result['index_docs']:,} index documents")
    if reimport:
        again = result["runs"][1]
        print(f"re-import of the same file: {again['seconds']:.1f} s "
              f"({n / again['seconds']:,.0f} rows/s); {again['summary']}")
    if update:
        changed, whole, patch = result["runs"][-3], result["runs"][-2], result["runs"][-1]
        for label, run in (("validated and shown field by field", changed),
                           ("validated and shown whole", whole)):
            print(f"update, {label}: every row changed, re-imported: {run['seconds']:.1f} s "
                  f"for {run['updated']:,} rows = {run['updated'] / run['seconds']:,.0f} "
                  f"rows/s (bulk UPDATE + index + activities; Python CPU "
                  f"{run['cpu'] / max(run['updated'], 1) * 1000:.2f} ms/row)")
            print(f"  {run['summary']}")
            for e in run["first_errors"]:
                print(f"  error {e}")
        print(f"  old path, package_patch per row on {patch['updated']:,} rows: "
              f"{patch['seconds']:.1f} s = {patch['updated'] / patch['seconds']:,.0f} rows/s")
        print(f"create {rate:,.0f} rows/s; update {changed['updated'] / changed['seconds']:,.0f} "
              f"rows/s (field by field) vs {whole['updated'] / whole['seconds']:,.0f} rows/s "
              f"(whole) vs {patch['updated'] / patch['seconds']:,.0f} rows/s (package_patch)")
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rows", type=int, nargs="+", default=[100_000],
                    help="row counts to run, smallest first (e.g. -n 2000 100000)")
    ap.add_argument("--reimport", action="store_true", help="import the same file again")
    ap.add_argument("--update", action="store_true",
                    help="then re-import it with every row changed (the update rows/s)")
    ap.add_argument("--old-sample", type=int, default=300,
                    help="rows updated through package_patch for comparison (with --update)")
    ap.add_argument("--workers", type=int, default=None,
                    help="processes creating resources (default: the importer's choice)")
    ap.add_argument("--budget", type=float, default=30.0,
                    help="skip a larger run estimated to take more minutes than this")
    ap.add_argument("--worker", nargs=5, metavar=("INI", "CSV", "RUNS", "WORKERS", "UPDATE"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        w = int(args.worker[3])
        worker(args.worker[0], args.worker[1], int(args.worker[2]), w if w > 0 else None,
               int(args.worker[4]))
        return
    sizes = sorted(args.rows)
    rate = None
    for i, n in enumerate(sizes):
        if rate is not None:
            est = n / rate
            print(f"\nestimate for {n:,} rows at {rate:,.0f} rows/s: {est:,.0f} s "
                  f"({est / 60:.1f} min)")
            if est / 60 > args.budget:
                print(f"  skipped: over the {args.budget:g}-minute budget (--budget)")
                break
        rate = run_once(n, args.reimport, args.workers,
                        args.old_sample if args.update else 0)
        if i == len(sizes) - 1 and n < 100_000:
            est = 100_000 / rate
            print(f"  estimate for 100,000 rows at this rate: {est:,.0f} s ({est / 60:.1f} min)")


if __name__ == "__main__":
    main()
