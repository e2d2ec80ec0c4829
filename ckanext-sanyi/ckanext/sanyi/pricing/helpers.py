"""Template helpers of the pricing pages. ``sanyi_price_units`` is a template global (the
calculator snippet tests ``sanyi_price_units is defined``), registered by ``.views``."""
from __future__ import annotations

from typing import Any

from feeengine import BillingUnit

from .service import unit_info
from .store import effective, find_product, version_rows

__all__ = ["sanyi_price_units"]  # the billing units a product is priced in (forms)

UNITS = [unit_info(u) for u in BillingUnit]


def sanyi_price_units(product: Any) -> list[dict[str, str]]:
    """Billing units the product has a price for (all units if none), for calculator forms."""
    ref = product.get("id") if isinstance(product, dict) else product
    pkg = find_product(ref) if ref else None
    have = {r.unit for r in effective(version_rows([pkg.id], kind="price"))} if pkg else set()
    return [unit_info(u) for u in BillingUnit if u in have] or UNITS
