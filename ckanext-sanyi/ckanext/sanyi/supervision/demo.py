"""Demo data of the supervision view: one product filed by the demo operator and awaiting
the bureau's approval (已备案), so that the queue on ``/bureau/supervision`` has something in
it. Idempotent: nothing is done once the product exists, whatever its status since (the
demo bureau may have approved or returned it)."""
from __future__ import annotations

from collections.abc import Callable

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..catalog import units
from ..common import roles

__all__ = ["ensure_filed_product", "FILED_PRODUCT"]

FILED_PRODUCT = "p-demo-drug-safety-alert"
OPERATOR = "operator"  # the demo operator account (catalog/demo.py)
UNIT = "市医保局"


def ensure_filed_product(echo: Callable[[str], None] = print) -> None:
    if model.Package.get(FILED_PRODUCT) is not None or model.User.get(OPERATOR) is None:
        return
    unit = units.find_unit(UNIT)
    if unit is None:
        return
    p = model.package_table
    sources = list(model.Session.execute(
        sa.select(p.c.name).where(p.c.owner_org == unit.id, p.c.type == "dataset",
                                  p.c.state == "active", p.c.private.is_(False))
        .order_by(p.c.name).limit(2)).scalars())
    tk.get_action("package_create")({"user": OPERATOR}, {
        "type": "product", "name": FILED_PRODUCT, "title": "医保用药安全提示（待审核）",
        "owner_org": roles.operator_org(), "category": "public_interest",
        "scenario": "医保用药安全提示",
        "notes": "依据医保结算与用药记录，向定点医药机构提示重复用药、超量开药等风险（演示：已备案，待数据局审核上架）。",
        "product_forms": ["api"], "supplying_units": [unit.name], "source_resources": sources,
        "status": "filed"})
    echo(f"supervision: product {FILED_PRODUCT} filed by {OPERATOR}, awaiting the bureau's approval")
