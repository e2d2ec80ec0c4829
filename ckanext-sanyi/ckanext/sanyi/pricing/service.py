"""Schedules: appending versions under the rules, quotes, the public price list and history.

Rules for a new version (documented in the README of the actions, ``sanyi_price_set``):

* History is never overwritten: every change appends a row. A row with the same product,
  kind, unit and ``effective_from`` as an earlier one supersedes it (that one is then never
  in force), which is how a *scheduled* version is corrected before it takes effect.
* ``effective_from`` must be today or later, and a version already in force (date ≤ today)
  cannot be superseded on its own date, unless ``may_backdate`` (sysadmins and the demo
  loader, for loading past schedules or correcting mistakes; still audited).
* A price is checked against every ceiling in force during any day of its own in-force
  period (from its date until the next price version): refused above the ceiling, with the
  first quantity where it exceeds; refused if no ceiling is in force from its first day.
* A new ceiling is never refused; price versions that would exceed it are returned as
  warnings (quotes for those days then fail until the operator lowers the price).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.model as model

from feeengine import (
    BillingUnit,
    PricingError,
    Schedule,
    ScheduleVersion,
    Use,
    check_ceiling,
    find_ceiling_violation,
    in_force_periods,
    quote,
    serves_industrial_use,
    version_in_force,
)

from ..common import audit, clock
from .actual import PREPAID, billing_mode
from .settings import current_discount_pct
from .store import (
    CEILING,
    PRICE,
    VersionRow,
    append_version,
    effective,
    industrial_allowed,
    latest_setting,
    latest_settings,
    listed_products,
    product_category,
    product_pricing,
    product_summary,
    setting_history,
    version_rows,
)

__all__ = ["set_version", "ceiling_conflicts", "quote_product", "price_list", "price_history",
           "unit_info"]

OBJECT_TYPE = {PRICE: "price", CEILING: "price_ceiling"}
ACTION = {PRICE: "sanyi_price_set", CEILING: "sanyi_price_ceiling_set"}


def unit_info(unit: BillingUnit) -> dict[str, str]:
    return {"unit": unit.value, "label_zh": unit.label_zh, "measure_zh": unit.measure_zh,
            "label_en": f"per {unit.value}", "plural_en": unit.plural_en}


# -- writing --------------------------------------------------------------------------------
def set_version(kind: str, pkg: model.Package, schedule: Schedule, effective_from: dt.date,
                label: str, *, actor: str, may_backdate: bool,
                today: dt.date | None = None) -> tuple[VersionRow, list[dict[str, Any]]]:
    """Append a price or ceiling version under the module's rules, with its audit record.

    Returns the stored row and, for a ceiling, the price versions now above it.
    """
    today = today or clock.today()
    if effective_from < today and not may_backdate:
        raise PricingError(
            "effective_from",
            f"生效日期不能早于今天（{today.isoformat()}）：收费历史不可改写，新版本须今天或以后生效",
            f"effective_from must not be in the past (today is {today.isoformat()}): history is "
            "never rewritten; a new version takes effect today or later")
    existing = effective(version_rows([pkg.id], kind=kind, unit=schedule.unit))
    if (not may_backdate and effective_from <= today
            and any(r.effective_from == effective_from for r in existing)):
        raise PricingError(
            "effective_from",
            f"{effective_from.isoformat()} 的版本已经生效，不能替换；请选择以后的生效日期",
            f"the version of {effective_from.isoformat()} is already in force and cannot be "
            "replaced; choose a later effective date")
    if kind == PRICE:
        _check_new_price(pkg, schedule, effective_from, existing)
    before = version_in_force(existing, effective_from)
    row = append_version(pkg.id, kind, schedule, effective_from, label, actor)
    audit.record(actor, ACTION[kind], OBJECT_TYPE[kind], pkg.id,
                 before=before.to_dict(who=True) if before else None, after=row.to_dict(who=True))
    return row, ceiling_conflicts(pkg, schedule.unit) if kind == CEILING else []


def _check_new_price(pkg: model.Package, schedule: Schedule, start_day: dt.date,
                     existing: list[VersionRow]) -> None:
    new = ScheduleVersion("new", start_day, schedule)
    periods = in_force_periods([r.engine() for r in existing] + [new])
    _, start, end = next(p for p in periods if p[0] is new)
    unit = schedule.unit
    caps = in_force_periods([r.engine() for r in effective(
        version_rows([pkg.id], kind=CEILING, unit=unit))])
    if not caps or start < caps[0][1]:
        raise PricingError(
            "ceiling", f"该产品自 {start.isoformat()} 起没有生效的上限收费标准（{unit.label_zh}），"
            "须先由数据局制定上限",
            f"no ceiling billed per {unit.value} is in force from {start.isoformat()}; "
            "the bureau must set one first")
    for cv, cap_start, cap_end in caps:
        if (cap_end is None or start < cap_end) and (end is None or cap_start < end):
            since = max(start, cap_start).isoformat()
            check_ceiling(schedule, cv.schedule,
                          where_zh=f"自 {since} 起对照上限 {cv.version_id}：",
                          where_en=f"from {since}, against ceiling {cv.version_id}: ")


def ceiling_conflicts(pkg: model.Package, unit: BillingUnit) -> list[dict[str, Any]]:
    """Price versions of ``unit`` that exceed a ceiling in force during their period."""
    rows = effective(version_rows([pkg.id], unit=unit))
    prices = in_force_periods([r.engine() for r in rows if r.kind == PRICE])
    caps = in_force_periods([r.engine() for r in rows if r.kind == CEILING])
    out = []
    for pv, start, end in prices:
        for cv, cap_start, cap_end in caps:
            if (cap_end is None or start < cap_end) and (end is None or cap_start < end):
                violation = find_ceiling_violation(pv.schedule, cv.schedule)
                if violation is not None:
                    out.append({"price_version": pv.version_id, "ceiling_version": cv.version_id,
                                "from": max(start, cap_start).isoformat(),
                                "quantity": violation.quantity,
                                "message": f"{violation.message_zh} / {violation.message_en}"})
    return out


# -- quotes ---------------------------------------------------------------------------------
def quote_product(pkg: model.Package, *, use: Use, unit: BillingUnit, quantity: int,
                  on: dt.date, priority_scenario: bool) -> dict[str, Any]:
    """The quote as the action returns it (engine fields plus the CKAN-facing ones)."""
    record = product_pricing(pkg)
    pct = current_discount_pct() if priority_scenario and use is Use.INDUSTRIAL else None
    result = quote(record, unit=unit, quantity=quantity, use=use, on=on,
                   priority_discount_pct=pct)
    out = result.to_dict()
    versions = {v.version_id: v for v in (*record.prices, *record.ceilings)}
    price_v = versions.get(result.version_id or "")
    ceiling_v = versions.get(result.ceiling_version_id or "")
    out.update({
        "product": product_summary(pkg), "priority_scenario": priority_scenario,
        "reason": f"{result.reason_zh} / {result.reason_en}",
        "ceiling_amount_fen": 0 if result.free else result.ceiling_amount_fen,
        "ceiling_amount_yuan": "0.00" if result.free else out["ceiling_amount_yuan"],
        "version": None if price_v is None else {
            "id": price_v.version_id, "label": price_v.label,
            "effective_from": price_v.effective_from.isoformat(), "trial": price_v.trial,
            "ceiling_id": ceiling_v.version_id if ceiling_v else None,
            "ceiling_effective_from": ceiling_v.effective_from.isoformat() if ceiling_v else None},
        "unit_info": unit_info(unit),
        # per-call industrial use of a product settled monthly is billed by statements of
        # actual calls, not prepaid at approval (.actual)
        "settlement": billing_mode(pkg.id) if unit is BillingUnit.CALL and not result.free
        else PREPAID,
    })
    return out


# -- public reading -------------------------------------------------------------------------
def _by_unit(rows: list[VersionRow]) -> dict[BillingUnit, list[VersionRow]]:
    out: dict[BillingUnit, list[VersionRow]] = {}
    for row in rows:
        out.setdefault(row.unit, []).append(row)
    return {u: out[u] for u in BillingUnit if u in out}


def _unit_entry(unit: BillingUnit, rows: list[VersionRow], on: dt.date) -> dict[str, Any]:
    entry: dict[str, Any] = unit_info(unit)
    for kind in (CEILING, PRICE):
        mine = [r for r in rows if r.kind == kind]
        now = version_in_force(mine, on)
        entry[kind] = now.to_dict() if now else None
        later = sorted((r for r in mine if r.effective_from > on), key=lambda r: r.effective_from)
        entry[f"{kind}_upcoming"] = [r.to_dict() for r in later]
    return entry


def price_list(on: dt.date) -> dict[str, Any]:
    """收费公示: every listed product with its current ceilings and prices per unit."""
    products = listed_products()
    rows = effective(version_rows([p.id for p in products]))
    per_product: dict[str, list[VersionRow]] = {}
    for row in rows:
        per_product.setdefault(row.product_id, []).append(row)
    policies = latest_settings("product_policy", [p.id for p in products])
    pct = current_discount_pct()
    out = []
    for pkg in products:
        item = product_summary(pkg)
        item["industrial_use_allowed"] = industrial_allowed(policies.get(pkg.id))
        item["free"] = not serves_industrial_use(product_category(pkg),
                                                 item["industrial_use_allowed"])
        item["units"] = [_unit_entry(u, r, on)
                         for u, r in _by_unit(per_product.get(pkg.id, [])).items()]
        out.append(item)
    return {"date": on.isoformat(), "currency": "CNY",
            "priority_discount_pct": None if pct is None else str(pct), "products": out}


def price_history(pkg: model.Package, on: dt.date, *, who: bool = False) -> dict[str, Any]:
    """Every version ever added for the product (superseded ones too) with its in-force period
    and status on ``on``: ``in_force``, ``scheduled``, ``ended`` or ``superseded``."""
    rows = version_rows([pkg.id])
    periods: dict[int, tuple[dt.date, dt.date | None]] = {}
    for kind in (PRICE, CEILING):
        for _unit, unit_rows in _by_unit([r for r in effective(rows) if r.kind == kind]).items():
            for row, start, end in in_force_periods(unit_rows):
                periods[row.id] = (start, end)
    versions = []
    for row in sorted(rows, key=lambda r: (r.kind, list(BillingUnit).index(r.unit),
                                           r.effective_from, r.id), reverse=True):
        item = row.to_dict(who=who)
        start, end = periods.get(row.id, (None, None))
        if row.id not in periods:
            status = "superseded"
        elif start > on:
            status = "scheduled"
        elif end is not None and end <= on:
            status = "ended"
        else:
            status = "in_force"
        item.update(status=status, in_force_from=start.isoformat() if start else None,
                    in_force_until=(end - dt.timedelta(days=1)).isoformat() if end else None)
        versions.append(item)
    policy = latest_setting("product_policy", pkg.id)
    policies = setting_history("product_policy", pkg.id)
    return {"product": dict(product_summary(pkg), industrial_use_allowed=industrial_allowed(policy)),
            "date": on.isoformat(), "versions": versions,
            "policy_history": [r.to_dict(who=who) for r in policies]}
