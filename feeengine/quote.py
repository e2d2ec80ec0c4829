"""Quotes: what a given use of a product costs for a quantity on a date.

Steps: validate the inputs (typed errors name 'unit', 'use', 'quantity', 'date',
'priority_discount_pct'); public-interest use is free; industrial use of a public-interest
product is refused unless the bureau allowed it; otherwise take the price and ceiling versions
in force on the date, refuse a price above its ceiling, charge each band (rounded half-up to
the fen once per line), subtract the priority-support discount as its own line, and clamp to
the ceiling amount for the same quantity if per-line rounding went above it.

Invariants (tested): the amount is the sum of the lines, 0 ≤ amount ≤ ceiling amount, and the
amount never decreases as the quantity grows (each band's units, the rounding, ``s − round(s·p)``
for 0 ≤ p ≤ 1, and the ceiling amount are all non-decreasing).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from .ceiling import check_ceiling
from .errors import PricingError, UseNotAllowed
from .money import CURRENCY, fen_to_yuan, parse_pct, parse_quantity, percent_of_fen
from .product import ProductPricing, Use
from .schedule import BandLine, BillingUnit
from .versions import ScheduleVersion, parse_date, version_in_force

__all__ = ["LineKind", "QuoteLine", "Quote", "quote"]

FREE_REASON = ("公共治理、公益事业用途，免费提供，不收取公共数据运营服务费",
               "public-interest use (public governance / public welfare): free of charge, "
               "no public data operation service fee")
CHARGED_REASON = ("产业发展、行业发展用途，按政府指导价收取公共数据运营服务费",
                  "industrial use (industry development): public data operation service fee "
                  "charged under government-guided pricing")


class LineKind(str, Enum):
    BAND = "band"                    # units charged in one band of the price schedule
    DISCOUNT = "discount"            # 重点扶持 discount (negative)
    CEILING_CLAMP = "ceiling_clamp"  # rounding brought the total above the ceiling (negative)


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote. Band fields are set on band lines only; ``band_index`` is 0-based."""

    kind: LineKind
    unit: BillingUnit
    quantity: int
    amount_fen: int
    label_zh: str
    label_en: str
    band_index: int | None = None
    band_from: int | None = None
    band_to: int | None = None        # None: open-ended band
    unit_price: Decimal | None = None  # yuan per unit

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "unit": self.unit.value, "quantity": self.quantity,
                "band_index": self.band_index, "band_from": self.band_from, "band_to": self.band_to,
                "unit_price": None if self.unit_price is None else str(self.unit_price),
                "amount_fen": self.amount_fen, "amount_yuan": str(fen_to_yuan(self.amount_fen)),
                "label_zh": self.label_zh, "label_en": self.label_en}


@dataclass(frozen=True)
class Quote:
    """A priced (or free) quote. ``amount_fen == sum(line.amount_fen for line in lines)``."""

    product_id: str
    use: Use
    unit: BillingUnit
    quantity: int
    on: date
    lines: tuple[QuoteLine, ...]
    amount_fen: int
    ceiling_amount_fen: int | None  # None on free quotes
    free: bool
    reason_zh: str
    reason_en: str
    version_id: str | None = None          # price version used
    version_label: str | None = None
    ceiling_version_id: str | None = None
    trial: bool = False                    # price version is a 试行收费标准
    discount_pct: Decimal | None = None
    clamped: bool = False
    currency: str = CURRENCY

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: enums as values, Decimal as str, dates ISO, amounts also in yuan."""
        ceiling = self.ceiling_amount_fen
        return {
            "product_id": self.product_id, "use": self.use.value, "unit": self.unit.value,
            "quantity": self.quantity, "date": self.on.isoformat(),
            "lines": [line.to_dict() for line in self.lines],
            "amount_fen": self.amount_fen, "amount_yuan": str(fen_to_yuan(self.amount_fen)),
            "ceiling_amount_fen": ceiling,
            "ceiling_amount_yuan": None if ceiling is None else str(fen_to_yuan(ceiling)),
            "free": self.free, "reason_zh": self.reason_zh, "reason_en": self.reason_en,
            "version_id": self.version_id, "version_label": self.version_label,
            "ceiling_version_id": self.ceiling_version_id, "trial": self.trial,
            "discount_pct": None if self.discount_pct is None else str(self.discount_pct),
            "clamped": self.clamped, "currency": self.currency,
        }


def quote(product: ProductPricing, *, unit: BillingUnit | str, quantity: int, use: Use | str,
          on: date | str, priority_discount_pct: Decimal | str | int | None = None) -> Quote:
    """Quote ``quantity`` units of ``product`` for ``use`` on date ``on``.

    ``priority_discount_pct`` (0–100) is the bureau's discount for a 重点扶持 scenario.
    Raises :class:`PricingError` (bad input), :class:`UseNotAllowed` (field 'use') or
    :class:`~pricing.errors.CeilingExceeded` (the price in force exceeds the ceiling in force).
    """
    if not isinstance(product, ProductPricing):
        raise TypeError("product must be a ProductPricing")
    unit = BillingUnit.parse(unit)
    use = Use.parse(use)
    quantity = parse_quantity(quantity)
    on = parse_date(on)
    pct = None if priority_discount_pct is None else parse_pct(priority_discount_pct, "priority_discount_pct")
    if use is Use.PUBLIC_INTEREST:
        return Quote(product.product_id, use, unit, quantity, on, (), 0, None, True, *FREE_REASON)
    if not product.serves_industrial_use:
        raise UseNotAllowed(
            "use", "该产品属于公共治理、公益事业类，未经数据主管部门同意，不得用于产业发展、行业发展用途",
            "this product is in the public-interest category; it may not be used for industrial "
            "purposes unless the data bureau has allowed it")
    price_v = _in_force(product, unit, on, ceiling=False)
    ceiling_v = _in_force(product, unit, on, ceiling=True)
    check_ceiling(price_v.schedule, ceiling_v.schedule,
                  where_zh=f"收费标准 {price_v.version_id} 对照上限 {ceiling_v.version_id}：",
                  where_en=f"price version {price_v.version_id} against ceiling {ceiling_v.version_id}: ")
    lines = [_band_line(unit, b) for b in price_v.schedule.lines(quantity)]
    total = sum(line.amount_fen for line in lines)
    if pct:
        off = percent_of_fen(total, pct)
        lines.append(QuoteLine(LineKind.DISCOUNT, unit, quantity, -off,
                               f"重点扶持场景优惠 {pct}%", f"priority-support discount {pct}%"))
        total -= off
    ceiling_amount = ceiling_v.schedule.amount_fen(quantity)
    clamped = total > ceiling_amount
    if clamped:
        over = total - ceiling_amount
        lines.append(QuoteLine(
            LineKind.CEILING_CLAMP, unit, quantity, -over,
            f"按档取整后超出上限金额 {over} 分，按上限金额收取",
            f"per-line rounding went {over} fen above the ceiling amount; charged the ceiling amount"))
        total = ceiling_amount
    reason_zh, reason_en = CHARGED_REASON
    if price_v.trial:
        reason_zh, reason_en = reason_zh + "（试行收费标准）", reason_en + " (trial price schedule)"
    return Quote(product.product_id, use, unit, quantity, on, tuple(lines), total, ceiling_amount,
                 False, reason_zh, reason_en, price_v.version_id, price_v.label, ceiling_v.version_id,
                 price_v.trial, pct, clamped)


def _in_force(product: ProductPricing, unit: BillingUnit, on: date, *, ceiling: bool) -> ScheduleVersion:
    what_zh, what_en = ("上限收费标准", "ceiling") if ceiling else ("收费标准", "price schedule")
    versions = product.versions_for(unit, ceiling=ceiling)
    if not versions:
        raise PricingError("unit", f"该产品未设置{unit.label_zh}的{what_zh}",
                           f"this product has no {what_en} billed per {unit.value}")
    version = version_in_force(versions, on)
    if version is None:
        first = min(v.effective_from for v in versions).isoformat()
        raise PricingError("date", f"{on.isoformat()} 尚无生效的{what_zh}（最早 {first} 生效）",
                           f"no {what_en} in force on {on.isoformat()} (the first takes effect {first})")
    return version


def _band_line(unit: BillingUnit, line: BandLine) -> QuoteLine:
    u = unit.measure_zh
    span_zh = f"{line.start:,}–{line.end:,} {u}" if line.end is not None else f"{line.start:,} {u}以上"
    to_en = f"{line.end:,}" if line.end is not None else "up"
    return QuoteLine(
        LineKind.BAND, unit, line.quantity, line.amount_fen,
        f"第 {line.index + 1} 档（{span_zh}）：{line.quantity:,} {u} × {line.unit_price} 元",
        f"band {line.index + 1} ({line.start:,}-{to_en} {unit.plural_en}): "
        f"{line.quantity:,} × {line.unit_price} yuan",
        line.index, line.start, line.end, line.unit_price)
