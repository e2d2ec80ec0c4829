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

from feeengine import BillingUnit, in_force_periods, serves_industrial_use

from ..common import clock
from .store import (
    CEILING,
    PRICE,
    VersionRow,
    effective,
    industrial_allowed,
    latest_settings,
    product_category,
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
    """The disclosure of ``year`` (module doc). Each product's ``industrial_use_allowed`` says
    whether it may serve industrial use at all: always for an industrial product, with the
    bureau's permission for a public-interest one."""
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
        industrial = serves_industrial_use(product_category(pkg),
                                           industrial_allowed(policies.get(pkg.id)))
        items.append(dict(summary, industrial_use_allowed=industrial,
                          ceilings=ceilings, prices=prices))
    return {"year": year, "generated": (today or clock.today()).isoformat(), "currency": "CNY",
            "unit_price_in": "yuan", "products": items}


# the Chinese export (the portal's 收费公示 page in Chinese): headers in Chinese, codes in words,
# prices as ¥0.50; the API's CSV keeps the codes and the plain yuan figures
CSV_HEADERS_ZH = {
    "year": "年度", "product_name": "产品标识", "product_title": "产品名称", "category": "类别",
    "status": "状态", "industrial_use_allowed": "可否用于产业发展", "kind": "收费类型",
    "version_id": "版本标识", "label": "版本名称", "unit": "计费单位", "trial": "试行",
    "effective_from": "生效日期", "in_force_from": "本年执行自", "in_force_until": "本年执行至",
    "band": "档位", "band_from": "起始数量", "band_to": "截止数量", "unit_price_yuan": "单价"}
_KIND_ZH = {CEILING: "上限收费标准", PRICE: "实际收费标准"}


def _in_words(row: dict[str, Any]) -> dict[str, Any]:
    from ..common import words
    out = dict(row)
    out["category"] = words.word("use", row.get("category"))
    out["status"] = words.word("product_status", row.get("status")) if row.get("status") else ""
    for key in ("industrial_use_allowed", "trial"):
        if row.get(key) in ("true", "false"):
            out[key] = "是" if row[key] == "true" else "否"
    if row.get("kind"):
        out["kind"] = _KIND_ZH.get(row["kind"], row["kind"])
    if row.get("unit"):
        out["unit"] = words.word("billing_unit", row["unit"])
    if row.get("unit_price_yuan") not in (None, ""):
        out["unit_price_yuan"] = words.money_yuan(row["unit_price_yuan"])
    if row.get("band_to") == "":
        out["band_to"] = "不限"
    return {CSV_HEADERS_ZH[k]: v for k, v in out.items()}


def to_csv(data: dict[str, Any], zh: bool = False) -> str:
    """One row per band of each version; ``zh``: the export people read in Chinese."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[CSV_HEADERS_ZH[f] for f in CSV_FIELDS] if zh
                            else CSV_FIELDS, lineterminator="\n")
    writer.writeheader()

    def emit(row: dict[str, Any]) -> None:
        writer.writerow(_in_words(row) if zh else row)

    for item in data["products"]:
        base = {"year": data["year"], "product_name": item["name"], "product_title": item["title"],
                "category": item["category"], "status": item["status"] or "",
                "industrial_use_allowed": str(item["industrial_use_allowed"]).lower()}
        versions = item["ceilings"] + item["prices"]
        if not versions:
            emit(base)
        for v in versions:
            start = 1
            for i, band in enumerate(v["schedule"]["bands"]):
                emit(dict(
                    base, kind=v["kind"], version_id=v["id"], label=v["label"], unit=v["unit"],
                    trial=str(v["trial"]).lower(), effective_from=v["effective_from"],
                    in_force_from=v["in_force_from"], in_force_until=v["in_force_until"],
                    band=i + 1, band_from=start,
                    band_to="" if band["upto"] is None else band["upto"],
                    unit_price_yuan=band["price"]))
                start = (band["upto"] or 0) + 1
    return buf.getvalue()
