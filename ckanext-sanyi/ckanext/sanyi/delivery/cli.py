"""``ckan sanyi domain ...``: the data domain's schema, extracts and synthetic data."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from .datadomain.loader import LoadReport

__all__ = ["domain"]


@click.group(short_help="数据域 data domain: schema, loading extracts, synthetic data")
def domain() -> None:
    pass


@domain.command("init")
def init() -> None:
    """Create the data domain's schema, tables and indexes where missing (idempotent)."""
    from .datadomain.store import ensure_schema
    ensure_schema()
    click.echo("data domain ready / 数据域已就绪")


@domain.command("derive")
def derive_tables() -> None:
    """Rebuild the tables derived from persons, prescriptions and adverse events (the cohort
    statistics' counts). Generating and loading rebuild them already; run this after writing
    those tables any other way."""
    from .datadomain import derive
    from .datadomain.store import begin
    with begin() as conn:
        rows = derive.refresh(conn)
    for name, n in rows.items():
        click.echo(f"  {name:<22} {n:>12,}")
    click.echo("derived tables rebuilt / 派生表已重建")


@domain.command("generate")
@click.option("--persons", type=click.IntRange(min=3), default=20000, show_default=True,
              help="people in the domain, the three fixed test persons included")
@click.option("--seed", type=int, default=20261201, show_default=True)
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="the last day of the history (default: today, Beijing time)")
def generate(persons: int, seed: int, today: dt.datetime | None) -> None:
    """Replace the domain's rows by a synthetic 荆门 population (deterministic)."""
    from ..common import clock
    from .datadomain import generate as gen
    from .datadomain.store import begin, ensure_schema
    day = today.date() if today else clock.today()
    ensure_schema()
    with click.progressbar(length=persons, label="生成 / generating", show_pos=True) as bar:
        shown = [0]

        def progress(done: int, total: int) -> None:
            bar.update(done - shown[0])
            shown[0] = done

        with begin() as conn:
            report = gen.generate(conn, persons=persons, seed=seed, today=day,
                                  progress=progress, loaded_by="cli")
    width = max(len(t) for t in report.rows)
    for name, n in report.rows.items():
        click.echo(f"  {name:<{width}} {n:>12,}")
    click.echo(f"{report.total:,} rows in {report.seconds:.1f} s "
               f"({report.rows_per_second:,.0f} rows/s); {report.origin}")

def _report(report: LoadReport) -> None:
    zh, en = report.where
    for err in report.errors:
        click.secho(f"  {zh.format(err.row)} / {en.format(err.row)}: {err.message()}", fg="red")
    click.echo(report.summary())
    if report.errors:
        raise click.exceptions.Exit(1)


@domain.command("load")
@click.argument("resource")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--mode", type=click.Choice(["replace", "upsert"]), default="replace",
              show_default=True, help="replace: the file becomes the table; upsert: merge by key")
@click.option("--user", default=None, help="account the load is recorded under (default: site user)")
def load(resource: str, path: str, mode: str, user: str | None) -> None:
    """Load a data unit's CSV or XLSX extract into the table behind catalog RESOURCE (its
    name, id or title). Headers are the field list's Chinese names (or the SQL column names).

    Every bad row is listed with its row number and reason and nothing is written (exit 1); a
    file that can't be read, has wrong columns, or a resource without a domain table: exit 2.
    Loading the same content again changes nothing.
    """
    from .datadomain.loader import LoadRefused, load_file
    try:
        report = load_file(resource, path, mode=mode, user=user, progress=True)
    except LoadRefused as e:
        click.secho(str(e), fg="red", err=True)
        raise click.exceptions.Exit(2) from None
    _report(report)


@domain.command("attach")
@click.argument("resource")
@click.option("--host", required=True, help="the unit's database host")
@click.option("--port", default=5432, show_default=True, type=click.IntRange(1, 65535))
@click.option("--dbname", required=True, help="the unit's database")
@click.option("--user", required=True, help="the read-only account the unit granted")
@click.option("--password-file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="file holding that account's password (first line)")
@click.option("--table", required=True, help="the unit's table")
@click.option("--schema", default="public", show_default=True, help="the unit table's schema")
@click.option("--sslmode", default=None, help="libpq sslmode towards the unit (e.g. verify-full)",
              type=click.Choice(["disable", "allow", "prefer", "require", "verify-ca",
                                 "verify-full"]))
def attach(resource: str, host: str, port: int, dbname: str, user: str, password_file: str,
           table: str, schema: str, sslmode: str | None) -> None:
    """Point catalog RESOURCE's domain table at a data unit's own database (postgres_fdw):
    a foreign server per unit, a user mapping, a foreign table in schema sanyi_foreign."""
    from .datadomain.fdw import attach as do_attach
    from .datadomain.loader import LoadRefused
    with open(password_file, encoding="utf-8") as f:
        password = f.readline().rstrip("\r\n")
    try:
        report = do_attach(resource, host=host, port=port, dbname=dbname, user=user,
                           password=password, table=table, schema=schema, sslmode=sslmode)
    except LoadRefused as e:
        click.secho(str(e), fg="red", err=True)
        raise click.exceptions.Exit(2) from None
    click.echo(report.summary())


@domain.command("refresh")
@click.argument("resource")
@click.option("--mode", type=click.Choice(["replace", "upsert"]), default="replace",
              show_default=True)
@click.option("--user", default=None, help="account the load is recorded under (default: site user)")
def refresh(resource: str, mode: str, user: str | None) -> None:
    """Pull an attached unit table into catalog RESOURCE's domain table, with the checks of
    `load` (bad rows: nothing written, exit 1; not attached or unreachable: exit 2)."""
    from .datadomain.fdw import refresh as do_refresh
    from .datadomain.loader import LoadRefused
    try:
        report = do_refresh(resource, mode=mode, user=user, progress=True)
    except LoadRefused as e:
        click.secho(str(e), fg="red", err=True)
        raise click.exceptions.Exit(2) from None
    _report(report)


@domain.command("trace-sample")
@click.argument("marker")
def trace_sample(marker: str) -> None:
    """Who viewed which resource's desensitized sample when, under MARKER (the 水印 of a
    sample, e.g. found in a leaked copy). Exit 1 when no view carries it, 2 when MARKER is not
    a marker."""
    from ..domain.errors import DomainError
    from .samples import trace
    try:
        found = trace(marker)
    except DomainError as e:
        click.secho(f"{e.zh} / {e.en}", fg="red", err=True)
        raise click.exceptions.Exit(2) from None
    if not found["found"]:
        click.echo(f"{found['marker']}: 无查看记录 / no view recorded")
        raise click.exceptions.Exit(1)
    for v in found["views"]:
        check = "水印有效 / genuine" if v["verified"] else "水印不符 / does not match"
        click.echo(f"{found['marker']}  {v['viewed_at_display']}  {v['user_name']} "
                   f"({v['user_fullname']})  {v['package_name']} {v['package_title']}  "
                   f"{v['row_count']} rows  {check}")
