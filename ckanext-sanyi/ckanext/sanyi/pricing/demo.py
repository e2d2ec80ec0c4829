"""Demo prices for the first-batch products (call after ``demo.load`` has created them).

Idempotent: a version is added only if its product, kind, unit and date have none yet, a
setting only if it was never set. Dates are relative to ``today``: last year's trial price and
this year's schedules (from 1 January), so the calculator, the 收费公示 page and both years'
disclosures have content. 智慧核保 has the tiered schedule of the golden example
(first 10,000 calls at 0.50 元, next 90,000 at 0.30, beyond at 0.10; 15,000 calls = 6,500.00 元).
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal

import ckan.model as model

from feeengine import Schedule

from ..common import clock
from ..common.user import site_user_name
from . import settings
from .service import set_version
from .store import CEILING, PRICE, effective, find_product, latest_settings, version_rows

__all__ = ["load_demo_prices", "DEMO_SCHEDULES", "demo_product_name"]

TIERED_PRICE = [(10_000, "0.50"), (100_000, "0.30"), (None, "0.10")]
TIERED_CEILING = [(10_000, "0.60"), (100_000, "0.35"), (None, "0.12")]

# scenario → [(unit, price bands, ceiling bands)] for this year; prices in yuan per unit.
DEMO_SCHEDULES: dict[str, list[tuple[str, list, list]]] = {
    "智慧核保(核保调查)": [("call", TIERED_PRICE, TIERED_CEILING)],
    "理赔调查(核赔调查)": [("call", [(None, "0.80")], [(None, "1.00")]),
                       ("record", [(None, "0.005")], [(None, "0.006")])],
    "慢病线上开处方": [("month", [(None, "2000")], [(None, "2500")])],
    "回顾性疗效安全性研究": [("copy", [(None, "50000")], [(None, "60000")])],
    "普惠金融": [("call", [(None, "0.20")], [(None, "0.25")])],
    "公共交通实时数据": [("year", [(None, "12000")], [(None, "15000")])],
    "真实房屋租赁场景": [("call", [(None, "0.30")], [(None, "0.40")])],
}
# Last year: a flat ceiling and a trial price (试行收费标准) for 智慧核保.
LAST_YEAR = {"智慧核保(核保调查)": ("call", "0.45", "0.60")}


def demo_product_name(scenario: str) -> str:
    """The name ``demo.load`` gives a first-batch product."""
    return "p-" + hashlib.sha1(scenario.encode()).hexdigest()[:12]


def _product(scenario: str) -> model.Package | None:
    pkg = find_product(demo_product_name(scenario))
    if pkg is None:
        pkg = (model.Session.query(model.Package)
               .filter(model.Package.type == "product", model.Package.state == "active",
                       model.Package.title == scenario).first())
    return pkg


def _add(pkg: model.Package, kind: str, schedule: Schedule, day: dt.date, label: str,
         actor: str) -> int:
    existing = effective(version_rows([pkg.id], kind=kind, unit=schedule.unit))
    if any(r.effective_from == day for r in existing):
        return 0
    set_version(kind, pkg, schedule, day, label, actor=actor, may_backdate=True)
    return 1


def load_demo_prices(echo: Callable[[str], None] = print, today: dt.date | None = None) -> int:
    """Add the demo ceilings, prices and bureau settings; returns how many versions were added."""
    today = today or clock.today()
    actor = site_user_name()
    this_year, last_year = dt.date(today.year, 1, 1), dt.date(today.year - 1, 1, 1)
    added = missing = 0
    for scenario, units in DEMO_SCHEDULES.items():
        pkg = _product(scenario)
        if pkg is None:
            missing += 1
            continue
        if scenario in LAST_YEAR:
            unit, price, ceiling = LAST_YEAR[scenario]
            added += _add(pkg, CEILING, Schedule.flat(unit, ceiling), last_year,
                          f"{last_year.year} 上限", actor)
            added += _add(pkg, PRICE, Schedule.flat(unit, price, trial=True), last_year,
                          f"{last_year.year} 试行收费标准", actor)
        for unit, price_bands, ceiling_bands in units:
            added += _add(pkg, CEILING, Schedule.tiered(unit, ceiling_bands), this_year,
                          f"{this_year.year} 上限收费标准", actor)
            added += _add(pkg, PRICE, Schedule.tiered(unit, price_bands), this_year,
                          f"{this_year.year} 收费标准", actor)
    if settings.current_discount_pct() is None:
        settings.set_discount(Decimal(20), actor=actor)
    if settings.current_shares()["is_default"]:
        settings.set_shares(Decimal(30), Decimal(60), Decimal(40), actor=actor)
    period = str(today.year)
    if period not in latest_settings(settings.CAP, [period]):
        settings.set_revenue_cap(period, 600_000_000, 60_000_000, 36_000_000, Decimal(80),
                                 actor=actor)
    if period not in latest_settings(settings.BILLED, [period]):
        settings.set_revenue_billed(period, 580_000_000, actor=actor)
    model.Session.commit()
    echo(f"收费标准 / demo prices: {added} versions added"
         + (f", {missing} products not found (load the demo products first)" if missing else ""))
    return added
