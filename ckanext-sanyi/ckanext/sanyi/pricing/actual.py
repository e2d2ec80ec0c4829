"""Actual revenue and how per-call use is settled, for the revenue cap and monthly statements.

* **Settlement** of a product billed per call (``billing_mode`` setting per product, history
  and audit like every bureau setting): ``prepaid`` (the default: the quota is quoted and paid
  at approval; overage is refused, never billed) or ``monthly`` (按月结算: approval charges
  nothing, each month's granted calls are billed by a statement computed with the fee
  engine's progressive bands, :mod:`..delivery.billing`). Set by the operator, who sets the
  actual prices.
* **Actual revenue** of a period (a year, as the revenue cap's periods): the amounts of the
  orders paid in it (Beijing time), approval fees and monthly statements alike; an order
  refunded since counts nothing. :func:`.settings.revenue_report` adds it to the revenue the
  operator reports by hand (revenue not collected through the platform), so the cap's
  warnings follow real payments.
* :func:`check_revenue_levels` (after each payment): when the year's revenue first reaches
  the warning level (80 % by default) or the cap (100 %), the bureau and the operator are
  notified, once per level and year (the level told is kept as a setting).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from feeengine import PricingError

from ..common import clock
from .store import SettingRow, latest_setting

__all__ = ["BILLING", "PREPAID", "MONTHLY", "MODES", "billing_mode", "set_billing_mode",
           "revenue_by_period", "check_revenue_levels", "LEVEL_TOLD"]

BILLING, LEVEL_TOLD = "billing_mode", "revenue_level_told"
PREPAID, MONTHLY = "prepaid", "monthly"
MODES = {PREPAID: ("预付额度（审批时按申请数量缴费）", "prepaid quota (paid at approval)"),
         MONTHLY: ("按月结算（按当月实际调用次数累进计费）",
                   "monthly statement (the month's actual calls, progressive bands)")}
_RANK = {"ok": 0, "warning": 1, "exceeded": 2}


def billing_mode(product_id: str) -> str:
    """How per-call use of the product is settled: :data:`PREPAID` or :data:`MONTHLY`."""
    row = latest_setting(BILLING, product_id or "")
    mode = row.value.get("mode") if row else None
    return mode if isinstance(mode, str) and mode in MODES else PREPAID


def set_billing_mode(pkg: model.Package, mode: Any, *, actor: str) -> SettingRow:
    """Append the product's settlement (audited; takes effect for approvals from now on:
    an entitlement keeps how it was approved only through its application's quote)."""
    from .settings import set_setting
    if not isinstance(mode, str) or mode not in MODES:
        raise PricingError("mode", "结算方式须为 prepaid（预付额度）或 monthly（按月结算）",
                           "mode must be prepaid or monthly")
    return set_setting(BILLING, pkg.id, {"mode": mode}, actor=actor,
                       action="sanyi_product_billing_mode_set",
                       object_type="product_billing_mode", object_id=pkg.id)


def revenue_by_period() -> dict[str, int]:
    """Fen paid per year (``"2026"``; Beijing time of payment) by orders still paid."""
    from ..payments.model import PAID
    from ..payments.model import order_table as o
    tz = getattr(clock.local_tz(), "key", clock.DEFAULT_TIMEZONE)
    year = sa.func.to_char(sa.func.timezone(tz, o.c.paid_at), "YYYY").label("year")
    rows = model.Session.execute(
        sa.select(year, sa.func.sum(o.c.amount_fen)).where(o.c.status == PAID)
        .group_by(year))
    return {str(y): int(total) for y, total in rows}


def check_revenue_levels(actor: str, today: dt.date | None = None) -> str | None:
    """After a payment: notify the bureau and the operator when this year's revenue has
    reached a higher level (warning, exceeded) than they were last told; returns the level
    told now, or None. Writes in the caller's transaction."""
    from ..applications import access, notify
    from ..common import roles
    from .settings import revenue_report, set_setting
    year = str((today or clock.today()).year)
    current = next((p for p in revenue_report(today=today)["periods"] if p["period"] == year), None)
    if current is None or current["level"] == "ok":
        return None
    told = latest_setting(LEVEL_TOLD, year)
    if told is not None and _RANK.get(str(told.value.get("level")), 0) >= _RANK[current["level"]]:
        return None
    set_setting(LEVEL_TOLD, year, {"level": current["level"], "billed_fen": current["billed_fen"],
                                   "used_pct": current["used_pct"]},
                actor=actor, action="sanyi_revenue_level_told", object_type="revenue_cap",
                object_id=year)
    zh, _, en = str(current["message"]).partition(" / ")
    # each to the page of theirs that shows the cap (the operator cannot open the bureau's)
    bureau = access.bureau_user_ids()
    operator = [u for u in access.unit_user_ids({roles.operator_org()}) if u not in bureau]
    for users, link in ((bureau, "/bureau/pricing"), (operator, "/operator/pricing")):
        notify.notify(users, "revenue_cap", year, f"最高准许收入预警：{zh}",
                      f"Maximum allowed revenue: {en or zh}", link)
    return current["level"]
