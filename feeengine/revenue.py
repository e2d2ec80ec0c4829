"""Revenue cap (最高准许收入) tracking and net-profit split (上缴财政 / operator / merchants).

Cap rules: the approved cap is 准许成本 + 准许利润 + 税金. Revenue billed above a period's
effective cap is carried as a deduction into the next period: effective cap = approved −
carried deduction, floored at 0. A deduction larger than the next approved cap cannot be
absorbed by the floor; that unabsorbed part is carried on too (nothing over-collected is
forgotten). Levels: ``exceeded`` when billed ≥ effective cap (so a cap of 0 is exceeded at
once: nothing more may be billed), else ``warning`` when billed ≥ warning % (default 80) of it,
else ``ok``. Comparisons are exact integer/Decimal arithmetic.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from .errors import PricingError
from .money import allocate_fen, exact_mul, parse_pct, parse_weight

__all__ = [
    "AllowedRevenue", "RevenueLevel", "RevenuePeriod", "RevenueStatus", "revenue_status",
    "track_revenue", "TREASURY_PCT_DEFAULT", "ProfitSplit", "split_net_profit",
]

TREASURY_PCT_DEFAULT = Decimal(30)
WARNING_PCT_DEFAULT = Decimal(80)


def _fen(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PricingError(field, f"金额须为非负整数（分）：{value!r}",
                           f"amount must be a non-negative integer of fen: {value!r}")
    return value


@dataclass(frozen=True)
class AllowedRevenue:
    """最高准许收入 of a period, in fen: 准许成本 (net of subsidies) + 准许利润 + 税金."""

    allowed_cost_fen: int
    allowed_profit_fen: int
    tax_fen: int

    def __post_init__(self) -> None:
        _fen(self.allowed_cost_fen, "allowed_cost_fen")
        _fen(self.allowed_profit_fen, "allowed_profit_fen")
        _fen(self.tax_fen, "tax_fen")

    @property
    def total_fen(self) -> int:
        return self.allowed_cost_fen + self.allowed_profit_fen + self.tax_fen


class RevenueLevel(str, Enum):
    OK = "ok"
    WARNING = "warning"    # billed ≥ warning % of the effective cap
    EXCEEDED = "exceeded"  # billed ≥ the effective cap


@dataclass(frozen=True)
class RevenuePeriod:
    """One period's approved cap and billed revenue (fen)."""

    label: str
    approved: AllowedRevenue
    billed_fen: int


@dataclass(frozen=True)
class RevenueStatus:
    """A period's revenue against its effective cap."""

    period: str
    approved_cap_fen: int
    carried_deduction_fen: int   # deduction brought in from the previous period
    effective_cap_fen: int       # max(0, approved − carried deduction)
    billed_fen: int
    used_pct: Decimal | None     # billed / effective cap × 100, 2 places half-up; None if cap is 0
    level: RevenueLevel
    excess_fen: int              # billed above the effective cap
    carry_forward_fen: int       # deduction for the next period: excess + unabsorbed deduction

    def to_dict(self) -> dict[str, Any]:
        return {"period": self.period, "approved_cap_fen": self.approved_cap_fen,
                "carried_deduction_fen": self.carried_deduction_fen,
                "effective_cap_fen": self.effective_cap_fen, "billed_fen": self.billed_fen,
                "used_pct": None if self.used_pct is None else str(self.used_pct),
                "level": self.level.value, "excess_fen": self.excess_fen,
                "carry_forward_fen": self.carry_forward_fen}


def revenue_status(approved: AllowedRevenue, billed_fen: int, carried_deduction_fen: int = 0, *,
                   period: str = "", warning_pct: Decimal | str | int = WARNING_PCT_DEFAULT) -> RevenueStatus:
    """The status of one period (see module doc for the rules)."""
    if not isinstance(approved, AllowedRevenue):
        raise PricingError("approved", "须为最高准许收入（AllowedRevenue）", "must be an AllowedRevenue")
    billed = _fen(billed_fen, "billed_fen")
    carried = _fen(carried_deduction_fen, "carried_deduction_fen")
    warn = parse_pct(warning_pct, "warning_pct")
    cap_total = approved.total_fen
    cap = max(0, cap_total - carried)
    if billed >= cap:
        level = RevenueLevel.EXCEEDED
    elif exact_mul(billed, 100) >= exact_mul(warn, cap):
        level = RevenueLevel.WARNING
    else:
        level = RevenueLevel.OK
    used = None if cap == 0 else Decimal((billed * 20000 + cap) // (2 * cap)).scaleb(-2)
    excess = max(0, billed - cap)
    unabsorbed = max(0, carried - cap_total)
    return RevenueStatus(period, cap_total, carried, cap, billed, used, level, excess, excess + unabsorbed)


def track_revenue(periods: Iterable[RevenuePeriod], opening_deduction_fen: int = 0, *,
                  warning_pct: Decimal | str | int = WARNING_PCT_DEFAULT) -> list[RevenueStatus]:
    """Statuses of consecutive periods, each carrying its deduction into the next."""
    carried = _fen(opening_deduction_fen, "opening_deduction_fen")
    out: list[RevenueStatus] = []
    for p in periods:
        status = revenue_status(p.approved, p.billed_fen, carried, period=p.label, warning_pct=warning_pct)
        out.append(status)
        carried = status.carry_forward_fen
    return out


@dataclass(frozen=True)
class ProfitSplit:
    """Net profit split in fen; ``treasury + operator + Σ merchants == net_profit`` exactly."""

    net_profit_fen: int
    treasury_pct: Decimal
    treasury_fen: int
    operator_fen: int
    merchants_fen: tuple[tuple[str, int], ...]  # (merchant id, fen), in the order given

    @property
    def total_fen(self) -> int:
        return self.treasury_fen + self.operator_fen + sum(f for _, f in self.merchants_fen)

    def to_dict(self) -> dict[str, Any]:
        return {"net_profit_fen": self.net_profit_fen, "treasury_pct": str(self.treasury_pct),
                "treasury_fen": self.treasury_fen, "operator_fen": self.operator_fen,
                "merchants_fen": dict(self.merchants_fen)}


def split_net_profit(net_profit_fen: int, *, operator_share: Decimal | str | int,
                     merchant_shares: Mapping[str, Decimal | str | int],
                     treasury_pct: Decimal | str | int = TREASURY_PCT_DEFAULT) -> ProfitSplit:
    """Split net profit: ``treasury_pct`` % (default 30) to the treasury, the rest by weight.

    The treasury part is ``net × pct / 100`` rounded half-up (largest remainder over two
    parts); the rest is divided among the operator and the merchants in proportion to
    ``operator_share`` and ``merchant_shares`` (non-negative weights, e.g. 60 and
    {"m1": 25, "m2": 15}) by the largest-remainder method. No fen is lost or created.
    """
    net = _fen(net_profit_fen, "net_profit_fen")
    pct = parse_pct(treasury_pct, "treasury_pct")
    operator_w = parse_weight(operator_share, "operator_share")
    if not isinstance(merchant_shares, Mapping):
        raise PricingError("merchant_shares", "须为 {数商: 比例} 映射", "must map merchant id to share")
    merchants = [(str(k), parse_weight(v, f"merchant_shares.{k}")) for k, v in merchant_shares.items()]
    if operator_w + sum((w for _, w in merchants), Decimal(0)) == 0:
        raise PricingError("merchant_shares", "运营机构与数商的分配比例之和须大于 0",
                           "operator and merchant shares must add up to more than 0")
    treasury, rest = allocate_fen(net, [pct, Decimal(100) - pct])
    parts = allocate_fen(rest, [operator_w, *(w for _, w in merchants)])
    split = ProfitSplit(net, pct, treasury, parts[0],
                        tuple((m, f) for (m, _), f in zip(merchants, parts[1:], strict=True)))
    assert split.total_fen == net
    return split
