"""Form text → action parameters for the pricing pages (bands typed one per line; amounts in
yuan: ``common.money.yuan_to_fen``)."""
from __future__ import annotations

import re
from typing import Any

from feeengine import PricingError

__all__ = ["parse_bands", "bands_text", "parse_band_rows", "BAND_ROWS"]

_OPEN = {"", "*", "-", "—", "以上", "null", "none", "∞"}
_SPLIT = re.compile(r"[\s,，;；:：]+")


def parse_bands(text: str, field: str = "bands") -> list[dict[str, Any]]:
    """One band per line: ``上限数量 单价`` (``10000 0.50``); the last line is the price alone
    or ``* 0.10`` (open-ended). Prices stay strings (never floats)."""
    bands: list[dict[str, Any]] = []
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    if not lines:
        raise PricingError(field, "请至少填写一档单价", "enter at least one band")
    for i, line in enumerate(lines):
        parts = [p for p in _SPLIT.split(line) if p != ""]
        if len(parts) == 1:
            upto, price = None, parts[0]
        elif len(parts) == 2:
            upto = None if parts[0].lower() in _OPEN else parts[0].replace("_", "")
            price = parts[1]
        else:
            raise PricingError(f"{field}[{i}]", f"第 {i + 1} 行应为“上限数量 单价”：{line}",
                               f"line {i + 1} should be 'limit price': {line}")
        if upto is not None:
            if not upto.isdigit():
                raise PricingError(f"{field}[{i}].upto", f"第 {i + 1} 行的上限数量须为整数：{upto}",
                                   f"line {i + 1}: the limit must be a whole number: {upto}")
            upto = int(upto)
        bands.append({"upto": upto, "price": price.replace("元", "")})
    return bands


def bands_text(schedule: dict[str, Any]) -> str:
    """The inverse of :func:`parse_bands`, to prefill a form."""
    return "\n".join(f"{b['upto'] if b['upto'] is not None else '*'} {b['price']}"
                     for b in schedule.get("bands", []))


#: rows of the band table on the bureau's and the operator's forms
BAND_ROWS = 6


def parse_band_rows(uptos: list[str], prices: list[str],
                    field: str = "bands") -> list[dict[str, Any]]:
    """The band table of a form: row i is "up to ``uptos[i]`` at ``prices[i]`` yuan"; rows left
    blank are skipped; the last filled row may leave its limit blank (open-ended). Errors name
    the row as people count it."""
    rows = [(str(u or "").strip().replace(",", "").replace("，", "").replace("_", ""),
             str(p or "").strip().replace("元", "").replace("¥", "").strip())
            for u, p in zip(uptos, prices, strict=False)]
    filled = [(i, u, p) for i, (u, p) in enumerate(rows) if u or p]
    if not filled:
        raise PricingError(field, "请至少填写一档单价", "enter at least one band")
    bands: list[dict[str, Any]] = []
    for n, (i, upto, price) in enumerate(filled):
        if not price:
            raise PricingError(field, f"第 {i + 1} 行缺少单价", f"row {i + 1}: the price is missing")
        if not upto or upto.lower() in _OPEN:
            if n != len(filled) - 1:
                raise PricingError(field, f"第 {i + 1} 行须填写上限数量（只有最后一档可不设上限）",
                                   f"row {i + 1}: enter the limit (only the last band may be "
                                   "open-ended)")
            bands.append({"upto": None, "price": price})
            continue
        if not upto.isdigit():
            raise PricingError(field, f"第 {i + 1} 行的上限数量须为整数：{upto}",
                               f"row {i + 1}: the limit must be a whole number: {upto}")
        bands.append({"upto": int(upto), "price": price})
    return bands
