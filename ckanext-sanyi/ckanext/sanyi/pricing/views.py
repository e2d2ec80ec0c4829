"""Pricing pages (all through the pricing actions).

* ``/prices``: 收费公示, every listed product's ceilings and prices in force.
* ``/prices/<product>``: a product's prices, history and fee calculator (GET form, rendered
  server-side by ``sanyi_price_quote``); the product page's calculator snippet submits here.
* ``/prices/disclosure/<year>.csv|json``: the yearly disclosure.
* ``/bureau/pricing``: ceilings, industrial-use permission, discount, revenue cap, shares,
  revenue status and the change history (bureau only); ``/operator/pricing``: actual prices
  and reported revenue (operator only).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response

from feeengine import BillingUnit, PricingError

from ..common import clock
from ..common.errors import error_lines, refusal_text
from ..common.helpers import sanyi_is_zh
from ..common.i18n_text import bi
from ..common.money import yuan_to_fen
from ..common.user import page_context
from . import forms
from .helpers import UNITS, sanyi_price_units
from .service import unit_info
from .store import all_products, product_summary

__all__ = ["pricing"]

pricing = Blueprint("sanyi_pricing", __name__)
pricing.add_app_template_global(sanyi_price_units, "sanyi_price_units")


# -- public ---------------------------------------------------------------------------------
@pricing.route("/prices")
def prices() -> str:
    data = tk.get_action("sanyi_price_list")(page_context(), {})
    this_year = clock.today().year
    return tk.render("sanyi/pricing/prices.html", {
        "data": data, "years": [this_year - 1, this_year]})


def _current(history: dict[str, Any]) -> list[dict[str, Any]]:
    """Per unit: the ceiling and price in force and those scheduled."""
    out: dict[str, dict[str, Any]] = {}
    for v in history["versions"]:
        if v["status"] not in ("in_force", "scheduled"):
            continue
        entry = out.setdefault(v["unit"], dict(unit_info(BillingUnit(v["unit"])),
                                               ceiling=None, price=None, upcoming=[]))
        if v["status"] == "in_force":
            entry[v["kind"]] = v
        else:
            entry["upcoming"].append(v)
    return [out[u.value] for u in BillingUnit if u.value in out]


@pricing.route("/prices/<id>")
def product(id: str) -> str:
    try:
        history = tk.get_action("sanyi_price_history")(page_context(), {"product": id})
    except tk.ValidationError:
        return tk.abort(404, bi("未找到该产品", "Product not found"))
    args = tk.request.args
    units = sanyi_price_units(history["product"]["id"])
    form = {"use": args.get("use", "industrial"), "unit": args.get("unit", units[0]["unit"]),
            "quantity": args.get("quantity", ""), "date": args.get("date", ""),
            "priority_scenario": args.get("priority_scenario", "")}
    quote, errors = None, []
    if "quantity" in args:
        data = {k: v for k, v in form.items() if v != "" or k == "quantity"}
        try:
            quote = tk.get_action("sanyi_price_quote")(page_context(), dict(data, product=id))
        except tk.ValidationError as err:
            errors = error_lines(err.error_dict)
    return tk.render("sanyi/pricing/product.html", {
        "history": history, "pkg": history["product"], "current": _current(history),
        "units": units, "form": form, "quote": quote, "errors": errors})


@pricing.route("/prices/disclosure/<int:year>.<fmt>")
def disclosure(year: int, fmt: str) -> Response:
    if fmt not in ("csv", "json"):
        return tk.abort(404)
    try:
        data = tk.get_action("sanyi_disclosure_export")(page_context(), {"year": year, "format": fmt})
    except tk.ValidationError as err:
        return tk.abort(400, "; ".join(error_lines(err.error_dict)))
    name = f"sanyi-price-disclosure-{year}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":  # with a BOM so that spreadsheet software reads the Chinese as UTF-8
        content = data["content"]
        if sanyi_is_zh():  # the Chinese page's export: Chinese headers, codes in words
            from .disclosure import to_csv
            content = to_csv(tk.get_action("sanyi_disclosure_export")(
                page_context(), {"year": year, "format": "json"}), zh=True)
        return Response("\ufeff" + content, mimetype="text/csv", headers=headers)
    return Response(json.dumps(data, ensure_ascii=False, indent=2),
                    mimetype="application/json", headers=headers)


# -- bureau and operator --------------------------------------------------------------------
def _bands(f: Any) -> list[dict[str, Any]]:
    if "band_price" in f:  # the band table
        return forms.parse_band_rows(f.getlist("band_upto"), f.getlist("band_price"))
    return forms.parse_bands(f.get("bands", ""))  # one band per line (text)


def _schedule_data(f: Any) -> dict[str, Any]:
    return {"product": f.get("product"), "effective_from": f.get("effective_from") or None,
            "label": f.get("label", ""),
            "schedule": {"unit": f.get("unit"), "trial": f.get("trial") == "on",
                         "bands": _bands(f)}}


def _typed(kind: str, f: Any) -> dict[str, Any]:
    """What was typed into a refused schedule form, to show it again."""
    return {"kind": kind, "product": f.get("product"), "unit": f.get("unit"),
            "effective_from": f.get("effective_from"), "label": f.get("label"),
            "trial": f.get("trial") == "on",
            "rows": list(zip(f.getlist("band_upto"), f.getlist("band_price"), strict=False))}


def _cap_data(f: Any) -> dict[str, Any]:
    return {"period": f.get("period"), "warning_pct": f.get("warning_pct") or None,
            **{f"{k}_fen": yuan_to_fen(f.get(k), k)
               for k in ("allowed_cost", "allowed_profit", "tax")}}


FORMS: dict[str, dict[str, tuple[str, Callable[[Any], dict[str, Any]]]]] = {
    "bureau": {
        "ceiling": ("sanyi_price_ceiling_set", _schedule_data),
        "policy": ("sanyi_product_pricing_policy_set", lambda f: {
            "product": f.get("product"),
            "industrial_use_allowed": f.get("industrial_use_allowed")}),
        "discount": ("sanyi_priority_discount_set", lambda f: {"pct": f.get("pct")}),
        "cap": ("sanyi_revenue_cap_set", _cap_data),
        "shares": ("sanyi_revenue_shares_set", lambda f: {
            k: f.get(k) for k in ("treasury_pct", "operator_share", "merchants_share")}),
    },
    "operator": {
        "price": ("sanyi_price_set", _schedule_data),
        "billed": ("sanyi_revenue_billed_set", lambda f: {
            "period": f.get("period"), "billed_fen": yuan_to_fen(f.get("billed"), "billed")}),
    },
}
PAGE_ACCESS = {"bureau": "sanyi_pricing_settings_show", "operator": "sanyi_price_set"}


def _require(page: str) -> None:
    try:
        tk.check_access(PAGE_ACCESS[page], page_context(), {})
    except tk.NotAuthorized:
        who = bi("数据局工作人员", "data bureau staff") if page == "bureau" else \
            bi("运营机构工作人员", "operator staff")
        tk.abort(403, bi("此页面仅限", "This page is for ") + who)


def _products() -> list[dict[str, Any]]:
    return [product_summary(p) for p in all_products()]


@pricing.route("/bureau/pricing")
def bureau(typed: dict[str, Any] | None = None, error: str = "") -> str:
    _require("bureau")
    ctx = page_context()
    return tk.render("sanyi/pricing/bureau.html", {
        "typed": typed, "error": error, "band_rows": forms.BAND_ROWS,
        "settings": tk.get_action("sanyi_pricing_settings_show")(ctx, {}),
        "revenue": tk.get_action("sanyi_revenue_status")(ctx, {}),
        "prices": tk.get_action("sanyi_price_list")(ctx, {}),
        "audit": tk.get_action("sanyi_audit_list")(ctx, {"limit": 100}),
        "products": _products(), "units": UNITS, "today": clock.today().isoformat(),
        "this_year": clock.today().year})


@pricing.route("/operator/pricing")
def operator(typed: dict[str, Any] | None = None, error: str = "") -> str:
    _require("operator")
    ctx = page_context()
    return tk.render("sanyi/pricing/operator.html", {
        "typed": typed, "error": error, "band_rows": forms.BAND_ROWS,
        "prices": tk.get_action("sanyi_price_list")(ctx, {}), "products": _products(),
        "revenue": tk.get_action("sanyi_revenue_status")(ctx, {}),
        "units": UNITS, "today": clock.today().isoformat(), "this_year": clock.today().year})


@pricing.route("/<any(bureau, operator):page>/pricing/<form>", methods=["POST"])
def submit(page: str, form: str) -> Response:
    _require(page)
    action, build = FORMS[page].get(form, (None, None))
    if action is None:
        return tk.abort(404)
    try:
        tk.get_action(action)(page_context(), build(tk.request.form))
        tk.h.flash_success(bi("已保存，并已记录变更", "Saved; the change has been recorded"))
    except (PricingError, tk.ValidationError) as err:
        if form in ("ceiling", "price"):  # the schedule forms: shown again as typed
            page_view = bureau if page == "bureau" else operator
            return Response(page_view(_typed(form, tk.request.form), refusal_text(err)), status=400)
        tk.h.flash_error(refusal_text(err))
    except tk.NotAuthorized:
        return tk.abort(403)
    return tk.redirect_to(f"sanyi_pricing.{page}")
