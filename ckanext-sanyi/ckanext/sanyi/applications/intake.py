"""An application's fields from a request: checked against its product, defaults filled in.

``sanyi_application_update`` has patch semantics: a field not sent keeps its value. The
product never changes (apply again for another product). ``quantity``, when not sent, is
recomputed from the defaults (see :mod:`.forms`) only if the expected volume, the billing
unit or the period changed.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import ckan.plugins.toolkit as tk

from ..common import clock
from ..domain.errors import DomainError
from . import attachments, forms, products
from .forms import Errors

__all__ = ["FIELDS", "max_term_years", "parse"]

FIELDS = ("scenario", "use", "purpose", "data_items", "period_start", "period_end",
          "expected_volume", "billing_unit", "quantity")


def max_term_years() -> int:
    """``ckanext.sanyi.max_term_years`` (default 5): the longest authorization term."""
    try:
        return max(1, int(tk.config.get("ckanext.sanyi.max_term_years", 5) or 5))
    except (TypeError, ValueError):
        return 5


def parse(data: dict[str, Any], existing: dict[str, Any] | None = None,
          today: dt.date | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(column values, new attachments) or raise :class:`forms.Invalid` with every bad field."""
    today = today or clock.today()
    errors = Errors()
    if existing is None:
        pkg = errors.take(products.load_listed, data.get("product"))
        src: dict[str, Any] = dict(data)
    else:
        if data.get("product") not in (None, "", existing["product_id"], existing["product_name"]):
            errors.add(DomainError("product", "申请的产品不能更改，请另行申请",
                                   "The product of an application cannot change: apply again"))
        pkg = errors.take(products.load_product, existing["product_id"])
        src = {k: (data[k] if k in data else existing[k]) for k in FIELDS}
        src["quantity"] = data.get("quantity")  # not sent: kept or defaulted, below
    values: dict[str, Any] = {
        "scenario": errors.take(forms.text, src.get("scenario"), "scenario",
                                "应用场景", "Application scenario", max_len=4000),
        "use": errors.take(forms.use, src.get("use")),
        "purpose": errors.take(forms.text, src.get("purpose"), "purpose",
                               "使用目的", "Purpose", max_len=4000),
        "expected_volume": errors.take(forms.positive_int, src.get("expected_volume"),
                                       "expected_volume", "预计使用量", "Expected volume"),
        "billing_unit": errors.take(forms.billing_unit, src.get("billing_unit")),
        "quantity": errors.take(forms.positive_int, src.get("quantity"), "quantity",
                                "计费数量", "Quantity", required=False),
    }
    unchanged_period = existing is not None and all(
        str(src.get(k) or "")[:10] == existing[k].isoformat() for k in ("period_start", "period_end"))
    if unchanged_period:  # a stored period is not re-checked against today
        values["period_start"], values["period_end"] = existing["period_start"], existing["period_end"]
    else:
        values["period_start"], values["period_end"] = forms.period(
            src.get("period_start"), src.get("period_end"), today=today,
            max_years=max_term_years(), errors=errors)
    if pkg is not None:
        options = products.item_options(pkg)
        values["data_items"] = errors.take(forms.data_items, src.get("data_items"),
                                           [o["value"] for o in options])
        values.update(product_id=pkg["id"], product_name=pkg["name"],
                      product_title=pkg.get("title") or pkg["name"],
                      required_units=products.required_units(pkg, options))
    new_files = attachments.parse(data, errors)
    errors.check()

    if values["billing_unit"] is None:
        values["billing_unit"] = existing["billing_unit"] if existing else \
            products.default_billing_unit(pkg)
    if values["quantity"] is None:
        basis = ("expected_volume", "billing_unit", "period_start", "period_end")
        if existing is not None and "quantity" not in data \
                and all(values[k] == existing[k] for k in basis):
            values["quantity"] = existing["quantity"]
        else:
            values["quantity"] = forms.default_quantity(
                values["billing_unit"], values["expected_volume"], values["period_start"],
                values["period_end"])
    return values, new_files
