"""The yearly disclosure (每年3月底前公开上一年度的上限收费标准、产品清单和实际收费标准).

For a year: every public product that is listed now or had a ceiling or price in force on any
day of the year, with each ceiling and price version in force during the year and the part of
the year it was in force. As JSON (nested) and as CSV (one row per band of each version; a
product with no version that year gets one row with empty version columns).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import ckan.model as model

from feeengine import BillingUnit, in_force_periods

from ..common import clock
from .store import (
    CEILING,
    PRICE,
    VersionRow,
    effective,
    industrial_allowed,
    latest_settings,
    product_summary,
    version_rows,
)

__all__ = ["disclosure", "to_csv", "CSV_FIELDS"]

CSV_FIELDS = ["year", "product_name", "product_title", "category", "status",
              "industrial_use_allowed", "kind", "version_id", "label", "unit", "trial",
              "effective_from", "in_force_from", "in_force_until", "band", "band_from", "band_to",
              "unit_price_yuan"]


def _public_products() -> list[model.Package]:
    return (model.Session.query(model.Package)
            .filter(model.Package.type == "product", model.Package.state == "active",
                    model.Package.private.is_(False))
            .order_by(model.Package.title, model.Package.name).all())


def _in_year(rows: list[VersionRow], year: int) -> list[dict[str, Any]]:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    out = []
    for unit in BillingUnit:
        for row, start, end in in_force_periods([r for r in rows if r.unit is unit]):
            until = end - dt.timedelta(days=1) if end is not None else None
            if start <= last and (until is None or until >= first):
                out.append(dict(row.to_dict(), in_force_from=max(start, first).isoformat(),
                                in_force_until=min(until or last, last).isoformat()))
    return out


def disclosure(year: int, today: dt.date | None = None) -> dict[str, Any]:
    products = _public_products()
    rows = effective(version_rows([p.id for p in products]))
    policies = latest_settings("product_policy", [p.id for p in products])
    items = []
    for pkg in products:
        mine = [r for r in rows if r.product_id == pkg.id]
        ceilings = _in_year([r for r in mine if r.kind == CEILING], year)
        prices = _in_year([r for r in mine if r.kind == PRICE], year)
        summary = product_summary(pkg)
        if summary["status"] != "approved" and not ceilings and not prices:
            continue
        summary.pop("private")
        items.append(dict(summary, industrial_use_allowed=industrial_allowed(policies.get(pkg.id)),
                          ceilings=ceilings, prices=prices))
    return {"year": year, "generated": (today or clock.today()).isoformat(), "currency": "CNY",
            "unit_price_in": "yuan", "products": items}


def to_csv(data: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for item in data["products"]:
        base = {"year": data["year"], "product_name": item["name"], "product_title": item["title"],
                "category": item["category"], "status": item["status"] or "",
                "industrial_use_allowed": str(item["industrial_use_allowed"]).lower()}
        versions = item["ceilings"] + item["prices"]
        if not versions:
            writer.writerow(base)
        for v in versions:
            start = 1
            for i, band in enumerate(v["schedule"]["bands"]):
                writer.writerow(dict(
                    base, kind=v["kind"], version_id=v["id"], label=v["label"], unit=v["unit"],
                    trial=str(v["trial"]).lower(), effective_from=v["effective_from"],
                    in_force_from=v["in_force_from"], in_force_until=v["in_force_until"],
                    band=i + 1, band_from=start,
                    band_to="" if band["upto"] is None else band["upto"],
                    unit_price_yuan=band["price"]))
                start = (band["upto"] or 0) + 1
    return buf.getvalue()
