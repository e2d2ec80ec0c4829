"""``ckan sanyi delivery ...``: the delivery gateway's periodic jobs.

``bill --month 2026-11`` makes the monthly statements of an ended month (idempotent; run from
cron on the first of each month for the month before:
``30 1 1 * * ckan -c /etc/ckan/default/ckan.ini sanyi delivery bill``).
"""
from __future__ import annotations

import click

__all__ = ["delivery"]


@click.group(short_help="交付网关 delivery gateway: monthly statements")
def delivery() -> None:
    """Jobs of the delivery gateway."""


@delivery.command("bill")
@click.option("--month", default=None, help="YYYY-MM (Beijing time); default: last month")
def bill(month: str | None) -> None:
    """Make the monthly statements (月度账单) of every entitlement billed by its calls."""
    from ..common import clock
    from ..common.user import site_user_name
    from ..domain.errors import DomainError
    from .billing import bill_month
    if month is None:
        first = clock.today().replace(day=1)
        last = first.replace(year=first.year - 1, month=12) if first.month == 1 else \
            first.replace(month=first.month - 1)
        month = f"{last.year:04d}-{last.month:02d}"
    try:
        report = bill_month(month, site_user_name())
    except DomainError as err:
        raise click.BadParameter(f"{err.zh} / {err.en}", param_hint="--month") from None
    for label, key in (("made / 新出账", "made"), ("already billed / 已出账", "existing")):
        for s in report[key]:
            click.echo(f"{label}: {s['month']} {s['product_name']} {s['entitlement_id']} "
                       f"{s['calls']:,} calls {s['amount_yuan']} yuan {s['status']}")
    for failure in report["failed"]:
        click.echo(f"failed / 失败: {failure['entitlement_id']}: {failure['error']}", err=True)
    click.echo(f"{report['month']}: {len(report['made'])} made, {len(report['existing'])} "
               f"already billed, {len(report['failed'])} failed")
    if report["failed"]:
        raise SystemExit(1)
