"""``ckan sanyi domain ...``: the data domain's schema, extracts and synthetic data."""
from __future__ import annotations

import datetime as dt

import click

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
