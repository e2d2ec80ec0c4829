"""Money: CNY as integer fen (分) for amounts and Decimal yuan (元) for unit prices. Never float.

Products are computed in an exact decimal context (``Inexact`` is trapped, so a silent rounding
can never happen); the only rounding is :func:`round_half_up_fen`, applied once per quote line.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    Inexact,
    InvalidOperation,
    Overflow,
    Underflow,
)
from fractions import Fraction

from .errors import PricingError

__all__ = [
    "CURRENCY", "FEN_PER_YUAN", "MAX_PRICE_YUAN", "MAX_PRICE_PLACES", "MAX_QUANTITY",
    "parse_yuan", "parse_pct", "parse_quantity", "parse_weight", "exact_mul", "exact_add", "exact_fen",
    "round_half_up_fen", "line_amount_fen", "percent_of_fen", "fen_to_yuan", "format_yuan",
    "allocate_fen",
]

CURRENCY = "CNY"
FEN_PER_YUAN = 100
#: Largest unit price accepted (1亿元 per unit).
MAX_PRICE_YUAN = Decimal(100_000_000)
#: Most decimal places of a unit price in yuan (0.00000001 元 = 0.000001 分).
MAX_PRICE_PLACES = 8
#: Largest quantity (and band boundary) accepted.
MAX_QUANTITY = 10**12

# 12+1 digits of quantity x 9+8 digits of price x 100 stays far below 60 digits: always exact.
_EXACT = Context(prec=60, rounding=ROUND_HALF_UP,
                 traps=[InvalidOperation, Inexact, Overflow, Underflow])
_ROUND = Context(prec=60, rounding=ROUND_HALF_UP, traps=[InvalidOperation, Overflow])
_ONE = Decimal(1)
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _money_error(field: str, value: object) -> PricingError:
    return PricingError(
        field,
        f"金额格式不正确：{value!r}（请用字符串或整数表示，如 \"0.50\"，不可用浮点数）",
        f"invalid amount {value!r}: use a string or integer such as \"0.50\", never a float",
    )


def _to_decimal(value: object, field: str) -> Decimal:
    """Decimal from a str/int/Decimal; float, bool, NaN and infinities are refused."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise _money_error(field, value)
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_NUMBER.match(text):
            raise _money_error(field, value)
        value = Decimal(text)
    result = Decimal(value)
    if not result.is_finite():
        raise _money_error(field, value)
    if result.is_zero():
        return result.copy_abs()  # no "-0"
    exponent = result.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:  # 1E+2 → 100, so str() never shows an exponent
        result = result.quantize(_ONE)
    return result


def parse_yuan(value: str | int | Decimal, field: str = "price") -> Decimal:
    """A unit price in yuan ("0.50", "0.005", 3, Decimal) → Decimal; 0 ≤ price ≤ 1亿, ≤ 8 places."""
    price = _to_decimal(value, field)
    if price < 0:
        raise PricingError(field, f"单价不能为负数：{value}", f"price must not be negative: {value}")
    if price > MAX_PRICE_YUAN:
        raise PricingError(field, f"单价过大：{value}（上限 {MAX_PRICE_YUAN} 元）",
                           f"price too large: {value} (at most {MAX_PRICE_YUAN} yuan)")
    exponent = price.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > MAX_PRICE_PLACES:
        raise PricingError(field, f"单价小数位过多：{value}（最多 {MAX_PRICE_PLACES} 位）",
                           f"price has too many decimal places: {value} (at most {MAX_PRICE_PLACES})")
    return price


def parse_pct(value: str | int | Decimal, field: str) -> Decimal:
    """A percentage 0–100 as Decimal ("30", "12.5", 80)."""
    pct = _to_decimal(value, field)
    if not Decimal(0) <= pct <= Decimal(100):
        raise PricingError(field, f"百分比须在 0 到 100 之间：{value}",
                           f"percentage must be between 0 and 100: {value}")
    return pct


def parse_weight(value: str | int | Decimal, field: str) -> Decimal:
    """A non-negative share weight (Decimal or int); floats refused."""
    weight = _to_decimal(value, field)
    if weight < 0:
        raise PricingError(field, f"分配比例不能为负数：{value}", f"share must not be negative: {value}")
    return weight


def parse_quantity(value: object, field: str = "quantity") -> int:
    """A positive whole quantity (int, not bool) ≤ :data:`MAX_QUANTITY`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError(field, f"数量须为正整数：{value!r}", f"quantity must be a positive integer: {value!r}")
    if value <= 0:
        raise PricingError(field, f"数量须大于 0：{value}", f"quantity must be greater than 0: {value}")
    if value > MAX_QUANTITY:
        raise PricingError(field, f"数量过大：{value}（上限 {MAX_QUANTITY}）",
                           f"quantity too large: {value} (at most {MAX_QUANTITY})")
    return value


def exact_mul(a: Decimal | int, b: Decimal | int) -> Decimal:
    """a × b with no rounding (raises if the result could not be exact)."""
    return _EXACT.multiply(Decimal(a), Decimal(b))


def exact_add(a: Decimal | int, b: Decimal | int) -> Decimal:
    """a + b with no rounding."""
    return _EXACT.add(Decimal(a), Decimal(b))


def exact_fen(quantity: int, unit_price_yuan: Decimal) -> Decimal:
    """Unrounded amount in fen of ``quantity`` units at ``unit_price_yuan``."""
    return _EXACT.multiply(Decimal(quantity), unit_price_yuan).scaleb(2, _EXACT)


def round_half_up_fen(amount_fen: Decimal) -> int:
    """Round an amount in fen to a whole fen, halves away from zero (0.5 分 → 1 分)."""
    return int(amount_fen.quantize(_ONE, rounding=ROUND_HALF_UP, context=_ROUND))


def line_amount_fen(quantity: int, unit_price_yuan: Decimal) -> int:
    """One quote line: ``quantity`` × ``unit_price_yuan``, rounded half-up to the fen once."""
    return round_half_up_fen(exact_fen(quantity, unit_price_yuan))


def percent_of_fen(amount_fen: int, pct: Decimal) -> int:
    """``pct`` % of ``amount_fen``, rounded half-up to the fen."""
    return round_half_up_fen(_EXACT.multiply(Decimal(amount_fen), pct).scaleb(-2, _EXACT))


def fen_to_yuan(amount_fen: int) -> Decimal:
    """650000 → Decimal('6500.00') (always two places)."""
    return Decimal(amount_fen).scaleb(-2, _EXACT)


def format_yuan(amount: int | Decimal, *, fen: bool = True) -> str:
    """Human form with thousands separators: 650000 fen → '6,500.00'; with fen=False, yuan as is."""
    value = fen_to_yuan(amount) if fen and isinstance(amount, int) else Decimal(amount)
    return f"{value:,}"


def allocate_fen(total_fen: int, weights: Sequence[Decimal | int]) -> tuple[int, ...]:
    """Split ``total_fen`` ≥ 0 in proportion to ``weights`` by the largest-remainder method.

    Each share is the floor of its exact quota ``total × w / Σw`` (computed as a Fraction),
    plus one fen for the parts with the largest remainders until the total is met; ties go
    to the earlier weight. The result always sums to ``total_fen`` exactly and each share
    is within one fen of its quota.
    """
    if isinstance(total_fen, bool) or not isinstance(total_fen, int) or total_fen < 0:
        raise PricingError("amount", f"待分配金额须为非负整数（分）：{total_fen!r}",
                           f"amount to split must be a non-negative integer of fen: {total_fen!r}")
    fractions = [Fraction(parse_weight(w, f"weights[{i}]")) for i, w in enumerate(weights)]
    denominator = sum(fractions, Fraction(0))
    if denominator == 0:
        raise PricingError("weights", "分配比例之和须大于 0", "shares must add up to more than 0")
    quotas = [total_fen * f / denominator for f in fractions]
    shares = [q.numerator // q.denominator for q in quotas]
    left = total_fen - sum(shares)
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += 1
    return tuple(shares)
