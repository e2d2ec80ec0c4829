"""Template helpers of the product operations (registered by the plugin's helpers blanket)."""
from __future__ import annotations

from typing import Any

from ...common.user import acting_user
from . import listing

__all__ = ["sanyi_product_operations"]


def sanyi_product_operations(pkg: dict[str, Any]) -> list[dict[str, Any]]:
    """The operations of product ``pkg`` as :func:`.listing.describe` gives them, naming only
    the resources the current visitor may see."""
    user = acting_user()
    context = {"user": user.name if user else ""}
    return listing.product_entry(pkg, listing.visible_resources(context))["operations"]
