"""The ceiling check (上限收费标准): the operator's price must not exceed the ceiling at any quantity."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from .errors import CeilingExceeded, PricingError
from .money import exact_add, exact_mul
from .schedule import BillingUnit, Schedule
from .versions import ScheduleVersion, in_force_periods

__all__ = ["CeilingViolation", "find_ceiling_violation", "check_ceiling", "check_price_versions"]


@dataclass(frozen=True)
class CeilingViolation:
    """Where a price first exceeds its ceiling: the smallest such quantity and both amounts there."""

    unit: BillingUnit
    quantity: int
    price_amount_fen: Decimal    # exact (unrounded)
    ceiling_amount_fen: Decimal  # exact (unrounded)
    price_band: int              # 0-based band of the price schedule holding ``quantity``
    price_band_start: int
    price_band_end: int | None
    price_rate: Decimal          # yuan per unit in that band
    ceiling_band: int
    ceiling_rate: Decimal

    @property
    def message_zh(self) -> str:
        u = self.unit.measure_zh
        start, end = self.price_band_start, self.price_band_end
        span = f"{start:,}–{end:,} {u}" if end is not None else f"{start:,} {u}以上"
        return (f"实际收费超过上限收费标准（{self.unit.label_zh}）：数量为 {self.quantity:,} {u}时"
                f"（实际收费第 {self.price_band + 1} 档 {span}，"
                f"单价 {self.price_rate} 元；上限第 {self.ceiling_band + 1} 档单价 {self.ceiling_rate} 元），"
                f"收费 {_yuan(self.price_amount_fen)} 元 高于上限 {_yuan(self.ceiling_amount_fen)} 元")

    @property
    def message_en(self) -> str:
        u = self.unit.plural_en
        end = f"{self.price_band_end:,}" if self.price_band_end is not None else "up"
        return (f"price exceeds the ceiling (per {self.unit.value}): at {self.quantity:,} {u} "
                f"(price band {self.price_band + 1}, {self.price_band_start:,}-{end}, "
                f"unit price {self.price_rate} yuan; ceiling band {self.ceiling_band + 1} unit price "
                f"{self.ceiling_rate} yuan) the price amount {_yuan(self.price_amount_fen)} yuan "
                f"> ceiling amount {_yuan(self.ceiling_amount_fen)} yuan")


def _yuan(amount_fen: Decimal) -> str:
    yuan = amount_fen.scaleb(-2).normalize()
    if yuan.as_tuple().exponent > -2:  # type: ignore[operator]
        yuan = yuan.quantize(Decimal("0.01"))
    return f"{yuan:,}"


def _first_exceeding(after: int, gap: Decimal, slope: Decimal) -> int:
    """Smallest integer q > after with ``gap + slope × (q - after) > 0``, given gap ≤ 0 < slope."""
    steps = Fraction(-gap) / Fraction(slope)
    return after + steps.numerator // steps.denominator + 1


def _gap(price: Schedule, ceiling: Schedule, quantity: int) -> Decimal:
    return exact_add(price.exact_amount_fen(quantity), -ceiling.exact_amount_fen(quantity))


def _rate_gap(price: Schedule, ceiling: Schedule, unit_number: int) -> Decimal:
    p = price.bands[price.band_index_at(unit_number)].price
    c = ceiling.bands[ceiling.band_index_at(unit_number)].price
    return exact_mul(exact_add(p, -c), 100)  # fen per unit


def find_ceiling_violation(price: Schedule, ceiling: Schedule) -> CeilingViolation | None:
    """The smallest quantity at which ``price`` costs more than ``ceiling`` (exact), or None.

    Why checking finitely many points is exact: write P(q) and C(q) for the unrounded amounts
    and D = P − C. Each schedule's amount is continuous and piecewise linear in q, with slope
    equal to its band's unit price and kinks only at its band limits, and P(0) = C(0) = 0.
    So D is continuous, D(0) = 0, and linear on each interval between consecutive points of
    B = {limits of either schedule}. A linear function on an interval takes its maximum at an
    endpoint, so D ≤ 0 on [0, max B] iff D(b) ≤ 0 for every b in B. Beyond max B (or for all
    q if B is empty, taking max B = 0) D(q) = D(max B) + (p − c)(q − max B), where p and c are
    the last bands' prices; this stays ≤ 0 for every q iff D(max B) ≤ 0 and p ≤ c. Hence
    checking D at every limit and the marginal rates beyond the last limit decides
    "P(q) ≤ C(q) for all q ≥ 0" exactly. All limits are integers, so when a violation exists
    the first integer q with D(q) > 0 lies in the first failing interval (b₀, b₁] (or beyond
    max B) and is found in closed form: q = b₀ + ⌊−D(b₀) / s⌋ + 1, s being D's slope there.
    """
    if price.unit is not ceiling.unit:
        raise PricingError("unit", f"实际收费（{price.unit.label_zh}）与上限（{ceiling.unit.label_zh}）计费单位不同",
                           f"price unit {price.unit.value!r} differs from ceiling unit {ceiling.unit.value!r}")
    quantity: int | None = None
    after, gap = 0, Decimal(0)
    for limit in sorted(set(price.boundaries) | set(ceiling.boundaries)):
        here = _gap(price, ceiling, limit)
        if here > 0:
            quantity = _first_exceeding(after, gap, _rate_gap(price, ceiling, after + 1))
            break
        after, gap = limit, here
    else:
        slope = _rate_gap(price, ceiling, after + 1)
        if slope > 0:
            quantity = _first_exceeding(after, gap, slope)
    if quantity is None:
        return None
    band = price.band_index_at(quantity)
    ceiling_band = ceiling.band_index_at(quantity)
    violation = CeilingViolation(
        unit=price.unit, quantity=quantity,
        price_amount_fen=price.exact_amount_fen(quantity),
        ceiling_amount_fen=ceiling.exact_amount_fen(quantity),
        price_band=band, price_band_start=price.band_start(band), price_band_end=price.bands[band].upto,
        price_rate=price.bands[band].price,
        ceiling_band=ceiling_band, ceiling_rate=ceiling.bands[ceiling_band].price,
    )
    assert violation.price_amount_fen > violation.ceiling_amount_fen
    return violation


@lru_cache(maxsize=1024)
def cached_violation(price: Schedule, ceiling: Schedule) -> CeilingViolation | None:
    """:func:`find_ceiling_violation`, memoised (schedules are immutable and hashable)."""
    return find_ceiling_violation(price, ceiling)


def check_ceiling(price: Schedule, ceiling: Schedule, *, where_zh: str = "", where_en: str = "") -> None:
    """Raise :class:`CeilingExceeded` (field ``'price'``) if ``price`` exceeds ``ceiling`` anywhere."""
    violation = cached_violation(price, ceiling)
    if violation is not None:
        raise CeilingExceeded(violation, where_zh + violation.message_zh, where_en + violation.message_en)


def check_price_versions(prices: Iterable[ScheduleVersion], ceilings: Iterable[ScheduleVersion]) -> None:
    """Check every price version against every ceiling version in force during any of its days.

    Raises :class:`CeilingExceeded` naming both versions, or :class:`PricingError` (field
    ``'ceiling'``) if a price takes effect before any ceiling for its unit does.
    """
    prices, ceilings = list(prices), list(ceilings)
    for unit in dict.fromkeys(v.unit for v in prices):
        caps = in_force_periods([v for v in ceilings if v.unit is unit])
        for pv, start, end in in_force_periods([v for v in prices if v.unit is unit]):
            if not caps or start < caps[0][1]:
                raise PricingError(
                    "ceiling", f"收费标准 {pv.version_id} 自 {start.isoformat()} 起没有生效的上限收费标准",
                    f"price version {pv.version_id} has no ceiling in force from {start.isoformat()}")
            for cv, cap_start, cap_end in caps:
                if (cap_end is None or start < cap_end) and (end is None or cap_start < end):
                    check_ceiling(pv.schedule, cv.schedule,
                                  where_zh=f"收费标准 {pv.version_id} 对照上限 {cv.version_id}：",
                                  where_en=f"price version {pv.version_id} against ceiling {cv.version_id}: ")
