"""Money, one way: integer fen (分) inside, yuan (元) text for people, never through float.

Formatting goes through the fee engine's :func:`feeengine.money.fen_to_yuan` and
:func:`feeengine.money.format_yuan`; :func:`yuan_to_fen` reads the yuan people type in forms.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from feeengine import PricingError
from feeengine.money import fen_to_yuan, format_yuan

__all__ = ["yuan", "yuan_grouped", "amount_fields", "yuan_fields", "yuan_to_fen"]

_YUAN = re.compile(r"^\d+(\.\d{1,2})?$")


def yuan(fen: int) -> str:
    """650000 → "6500.00"."""
    return str(fen_to_yuan(int(fen)))


def yuan_grouped(fen: Any) -> str:
    """650000 → "6,500.00" for pages; "—" when there is no amount."""
    if fen is None or fen == "":
        return "—"
    return format_yuan(int(fen))


def amount_fields(fen: int, name: str = "amount") -> dict[str, Any]:
    """An amount as the API gives it: ``{"amount_fen": 650000, "amount_yuan": "6500.00"}``."""
    return {f"{name}_fen": int(fen), f"{name}_yuan": yuan(fen)}


def yuan_fields(values: Mapping[str, Any]) -> dict[str, str]:
    """The yuan text of every ``*_fen`` value: ``{"billed_fen": 7}`` → ``{"billed_yuan": "0.07"}``."""
    return {key.replace("_fen", "_yuan"): yuan(value)
            for key, value in values.items() if key.endswith("_fen")}


def yuan_to_fen(text: Any, field: str) -> int:
    """"1200000.50" 元 → 120000050 分 (at most 2 decimal places, not negative; thousands
    separators allowed); :class:`PricingError` naming ``field`` otherwise."""
    value = str(text or "").replace(",", "").replace("，", "").strip()
    if not _YUAN.match(value):
        raise PricingError(field, f"金额须为非负数、最多两位小数（元）：{text!r}",
                           "amount must be a non-negative number of yuan with at most 2 "
                           f"decimals: {text!r}")
    try:
        return int(Decimal(value).scaleb(2))
    except InvalidOperation:  # pragma: no cover - the pattern already excludes it
        raise PricingError(field, "金额格式不正确", "invalid amount") from None
