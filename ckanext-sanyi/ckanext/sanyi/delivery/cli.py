"""``ckan sanyi domain ...``: the data domain's schema, extracts and synthetic data."""
from __future__ import annotations

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
