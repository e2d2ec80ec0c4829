"""``ckan sanyi ...`` commands: demo data, catalog import, overdue list, search index."""
from __future__ import annotations

import datetime as dt

import click

__all__ = ["sanyi"]


@click.group(short_help="三医 portal: demo data, imports, index, overdue resources")
def sanyi() -> None:
    pass


@sanyi.command("load-demo")
def load_demo() -> None:
    """Load the first-batch catalog and products, organisations and demo accounts, and
    generate the data domain (ckanext.sanyi.demo.domain_persons persons, once a day); sign a
    checkpoint of the audit log and the ledger."""
    from .catalog.demo import load
    from .delivery.demo import ensure_domain
    from .supervision import checkpoints
    from .supervision.demo import ensure_filed_product
    load(echo=click.echo)
    ensure_filed_product(echo=click.echo)
    ensure_domain(echo=click.echo)
    checkpoints.demo(echo=click.echo)


@sanyi.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--batch", default="", help="publication batch, e.g. 第一批")
@click.option("--create-units/--no-create-units", default=False,
              help="create an organisation for an unknown 数源单位 (bureau staff only); "
                   "without it such a row is an error naming the closest units")
@click.option("--user", default=None,
              help="who imports (default: the site user): must be an editor of each row's "
                   "unit, or bureau staff")
@click.option("--batch-size", default=1000, show_default=True,
              help="rows validated, written and indexed per transaction")
def import_catalog(path: str, batch: str, create_units: bool, user: str | None,
                   batch_size: int) -> None:
    """Create or update catalog resources from a CSV or XLSX file (first-batch layout).

    Bad rows are listed with their row number and reason (nothing of them is written;
    the other rows are imported) and the command exits 1; a file that can't be read or
    lacks required columns imports nothing and exits 2.
    """
    from .catalog.importer import ImportFileError, import_file
    try:
        report = import_file(path, batch=batch, create_units=create_units, progress=True,
                             user=user, batch_size=batch_size, check_user=True)
    except ImportFileError as e:
        for msgs in e.error_dict.values():
            for msg in msgs if isinstance(msgs, list) else [msgs]:
                click.secho(str(msg), fg="red", err=False)
        raise click.exceptions.Exit(2) from None
    click.echo(report.summary())
    for err in report.errors:
        click.secho(f"  第 {err.row} 行 / row {err.row}: {err.message}", fg="red")
    if report.errors:
        raise click.exceptions.Exit(1)


@sanyi.command("overdue")
@click.option("--today", default=None, help="evaluate as of this ISO date")
def overdue_cmd(today: str | None) -> None:
    """List catalog resources past their next update due date."""
    from .catalog.overdue import overdue_resources
    day = dt.date.fromisoformat(today) if today else None
    rows = overdue_resources(today=day)
    for r in rows:
        click.echo(f"{r['next_due']}  +{r['days_overdue']:>4}d  {r['organization_title']}  "
                   f"{r['title']}  ({r['name']})")
    click.echo(f"{len(rows)} overdue / 逾期 {len(rows)} 项")


@sanyi.group("search-index")
def search_index() -> None:
    """The search index (PostgreSQL by default)."""


@search_index.command("rebuild")
@click.option("--batch-size", default=500, show_default=True)
def rebuild(batch_size: int) -> None:
    """Re-index every dataset, with a progress bar."""
    from .search.rebuild import rebuild_all
    rebuild_all(batch_size=batch_size, progress=True)


@sanyi.command("expire-entitlements")
@click.option("--today", default=None, help="run as of this ISO date (default: today)")
def expire_entitlements(today: str | None) -> None:
    """Expire entitlements past their end date (idempotent; run daily from cron:
    ``15 0 * * * ckan -c /etc/ckan/default/ckan.ini sanyi expire-entitlements``)."""
    from dateutil.parser import isoparse

    from .applications.lifecycle import expire_due
    from .common import clock
    from .common.user import site_user_name
    try:
        day = isoparse(today).date() if today else clock.today()
    except ValueError:
        raise click.BadParameter(f"not an ISO date: {today}", param_hint="--today") from None
    actor = site_user_name()
    done = expire_due(day, actor)
    for ent_id in done:
        click.echo(f"expired / 已到期 {ent_id}")
    click.echo(f"{len(done)} entitlement(s) expired as of {day.isoformat()} / "
               f"截至 {day.isoformat()} 共 {len(done)} 项授权到期")


def _add_feature_commands() -> None:
    from .delivery.billing_cli import delivery
    from .delivery.cli import domain
    from .supervision.audit_cli import audit_group
    from .supervision.reports.cli import report
    sanyi.add_command(domain)
    sanyi.add_command(delivery)
    sanyi.add_command(audit_group)
    sanyi.add_command(report)


_add_feature_commands()
