"""Price schedules: per billing unit, flat (one open band) or tiered with progressive bands summed.

A schedule's bands cover quantities 1.. in order. Band *i* holds the units numbered
``start = bands[i-1].upto + 1`` (1 for the first band) through ``upto`` (``None`` = open-ended,
only the last band). The amount for a quantity is the sum over bands of
``units in the band × band price`` (累进阶梯、分档累加), each band rounded to the fen once.

JSON form (what the CKAN layer stores)::

    {"unit": "call", "trial": false,
     "bands": [{"upto": 10000, "price": "0.50"},
               {"upto": 100000, "price": "0.30"},
               {"upto": null, "price": "0.10"}]}

A flat schedule is one band with ``"upto": null``. Prices are yuan per unit, as strings
(or integers); floats are refused. ``trial`` (试行收费标准) is optional, default false.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from .errors import PricingError
from .money import MAX_QUANTITY, exact_add, exact_fen, line_amount_fen, parse_yuan

__all__ = ["BillingUnit", "Band", "BandLine", "Schedule"]


class BillingUnit(str, Enum):
    """What a quantity counts."""

    COPY = "copy"      # 按产品/数据集份数
    CALL = "call"      # 按服务次数
    RECORD = "record"  # 按数据调用量（返回记录条数）
    MONTH = "month"    # 按服务时间（月）
    YEAR = "year"      # 按服务时间（年）

    @property
    def label_zh(self) -> str:
        return _UNIT_TEXT[self][0]

    @property
    def measure_zh(self) -> str:
        """Chinese measure word: 份, 次, 条, 个月, 年."""
        return _UNIT_TEXT[self][1]

    @property
    def plural_en(self) -> str:
        return _UNIT_TEXT[self][2]

    @classmethod
    def parse(cls, value: object, field: str = "unit") -> BillingUnit:
        """The unit named by ``value`` (an enum member or its string value)."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(u.value for u in cls)
            raise PricingError(field, f"未知的计费单位：{value!r}（可选：{names}）",
                               f"unknown billing unit {value!r} (one of: {names})") from None


_UNIT_TEXT: dict[BillingUnit, tuple[str, str, str]] = {
    BillingUnit.COPY: ("按产品/数据集份数", "份", "copies"),
    BillingUnit.CALL: ("按服务次数", "次", "calls"),
    BillingUnit.RECORD: ("按数据调用量", "条", "records"),
    BillingUnit.MONTH: ("按服务时间（月）", "个月", "months"),
    BillingUnit.YEAR: ("按服务时间（年）", "年", "years"),
}


@dataclass(frozen=True)
class Band:
    """Units up to ``upto`` (inclusive, cumulative; ``None`` = no limit) at ``price`` yuan each."""

    upto: int | None
    price: Decimal

    def __post_init__(self) -> None:
        upto = self.upto
        if upto is not None and (isinstance(upto, bool) or not isinstance(upto, int)
                                 or not 0 < upto <= MAX_QUANTITY):
            raise PricingError("upto", f"档位上限须为 1 到 {MAX_QUANTITY} 的整数或 null：{upto!r}",
                               f"band limit must be an integer 1..{MAX_QUANTITY} or null: {upto!r}")
        object.__setattr__(self, "price", parse_yuan(self.price, "price"))


@dataclass(frozen=True)
class BandLine:
    """A quantity's charge within one band (exact amount rounded half-up to the fen)."""

    index: int           # 0-based position in Schedule.bands
    start: int           # first unit of the band (1-based)
    end: int | None      # last unit of the band; None = open-ended
    quantity: int        # units of the quantity falling in this band (> 0)
    unit_price: Decimal  # yuan
    amount_fen: int


@dataclass(frozen=True)
class Schedule:
    """A price (or ceiling) schedule for one billing unit; validated on construction."""

    unit: BillingUnit
    bands: tuple[Band, ...]
    trial: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit", BillingUnit.parse(self.unit))
        if not isinstance(self.trial, bool):
            raise PricingError("trial", "trial 须为 true 或 false", "trial must be true or false")
        bands = tuple(self.bands) if isinstance(self.bands, (list, tuple)) else None
        if not bands:
            raise PricingError("bands", "收费标准至少需要一个档位", "a schedule needs at least one band")
        previous = 0
        for i, band in enumerate(bands):
            if not isinstance(band, Band):
                raise PricingError(f"bands[{i}]", "档位格式不正确", "invalid band")
            last = i == len(bands) - 1
            if band.upto is None and not last:
                raise PricingError(f"bands[{i}].upto", "只有最后一档可以不设上限（null）",
                                   "only the last band may be open-ended (null)")
            if band.upto is not None and last:
                raise PricingError(f"bands[{i}].upto", "最后一档须不设上限（upto 为 null）",
                                   "the last band must be open-ended (upto null)")
            if band.upto is not None:
                if band.upto <= previous:
                    raise PricingError(f"bands[{i}].upto",
                                       f"档位上限须严格递增：{band.upto} 不大于 {previous}",
                                       f"band limits must ascend strictly: {band.upto} <= {previous}")
                previous = band.upto
        object.__setattr__(self, "bands", bands)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def flat(cls, unit: BillingUnit | str, price: Decimal | str | int, *, trial: bool = False) -> Schedule:
        """One unit price for any quantity."""
        return cls(BillingUnit.parse(unit), (Band(None, parse_yuan(price)),), trial)

    @classmethod
    def tiered(cls, unit: BillingUnit | str, bands: Sequence[tuple[int | None, Decimal | str | int]],
               *, trial: bool = False) -> Schedule:
        """From ``[(upto, price), ...]``, the last ``upto`` being ``None``."""
        built = []
        for i, (upto, price) in enumerate(bands):
            try:
                built.append(Band(upto, price))  # type: ignore[arg-type]
            except PricingError as err:
                raise err.prefixed(f"bands[{i}]") from None
        return cls(BillingUnit.parse(unit), tuple(built), trial)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schedule:
        """Parse the JSON form (see module doc); errors name the field, e.g. ``bands[1].price``."""
        if not isinstance(data, Mapping):
            raise PricingError("schedule", "收费标准须为 JSON 对象", "a schedule must be a JSON object")
        _no_extra_keys(data, {"unit", "bands", "trial"}, "")
        if "unit" not in data:
            raise PricingError("unit", "缺少计费单位", "missing billing unit")
        unit = BillingUnit.parse(data["unit"])
        raw = data.get("bands")
        if not isinstance(raw, list) or not raw:
            raise PricingError("bands", "bands 须为非空列表", "bands must be a non-empty list")
        pairs: list[tuple[Any, Any]] = []
        for i, item in enumerate(raw):
            if not isinstance(item, Mapping):
                raise PricingError(f"bands[{i}]", "档位须为 JSON 对象", "a band must be a JSON object")
            _no_extra_keys(item, {"upto", "price"}, f"bands[{i}].")
            for key in ("upto", "price"):
                if key not in item:
                    raise PricingError(f"bands[{i}].{key}", f"缺少 {key}", f"missing {key}")
            pairs.append((item["upto"], item["price"]))
        return cls.tiered(unit, pairs, trial=data.get("trial", False))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; prices as strings exactly as held ("0.50" stays "0.50")."""
        return {"unit": self.unit.value, "trial": self.trial,
                "bands": [{"upto": b.upto, "price": str(b.price)} for b in self.bands]}

    # -- reading ------------------------------------------------------------------------
    @property
    def is_flat(self) -> bool:
        return len(self.bands) == 1

    @property
    def boundaries(self) -> tuple[int, ...]:
        """The finite band limits, ascending."""
        return tuple(b.upto for b in self.bands if b.upto is not None)

    def band_index_at(self, unit_number: int) -> int:
        """Index of the band holding the ``unit_number``-th unit (1-based)."""
        for i, band in enumerate(self.bands):
            if band.upto is None or unit_number <= band.upto:
                return i
        raise AssertionError("last band is open-ended")  # pragma: no cover

    def band_start(self, index: int) -> int:
        """First unit (1-based) of band ``index``."""
        return 1 if index == 0 else (self.bands[index - 1].upto or 0) + 1

    def lines(self, quantity: int) -> tuple[BandLine, ...]:
        """The bands ``quantity`` reaches, each with its units and rounded amount."""
        out: list[BandLine] = []
        start = 1
        for i, band in enumerate(self.bands):
            if quantity < start:
                break
            end = quantity if band.upto is None else min(quantity, band.upto)
            units = end - start + 1
            out.append(BandLine(i, start, band.upto, units, band.price, line_amount_fen(units, band.price)))
            if band.upto is None:
                break
            start = band.upto + 1
        return tuple(out)

    def amount_fen(self, quantity: int) -> int:
        """Sum of the per-band rounded amounts for ``quantity``."""
        return sum(line.amount_fen for line in self.lines(quantity))

    def exact_amount_fen(self, quantity: int) -> Decimal:
        """Unrounded amount in fen for ``quantity`` ≥ 0 (used for the ceiling check)."""
        total = Decimal(0)
        start = 1
        for band in self.bands:
            if quantity < start:
                break
            end = quantity if band.upto is None else min(quantity, band.upto)
            total = exact_add(total, exact_fen(end - start + 1, band.price))
            if band.upto is None:
                break
            start = band.upto + 1
        return total


def _no_extra_keys(data: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    extra = sorted(str(k) for k in data if k not in allowed)
    if extra:
        raise PricingError(f"{prefix}{extra[0]}", f"未知字段：{extra[0]}", f"unknown field: {extra[0]}")
