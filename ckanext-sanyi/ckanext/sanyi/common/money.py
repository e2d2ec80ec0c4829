"""Money shown to people: integer fen as yuan text, never through float (the fee engine's
:func:`feeengine.money.fen_to_yuan` and :func:`feeengine.money.format_yuan`)."""
from __future__ import annotations

from typing import Any

from feeengine.money import fen_to_yuan, format_yuan

__all__ = ["yuan", "yuan_grouped"]


def yuan(fen: int) -> str:
    """650000 → "6500.00"."""
    return str(fen_to_yuan(int(fen)))


def yuan_grouped(fen: Any) -> str:
    """650000 → "6,500.00" for pages; "—" when there is no amount."""
    if fen is None or fen == "":
        return "—"
    return format_yuan(int(fen))
