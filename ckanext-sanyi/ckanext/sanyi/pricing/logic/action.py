"""Pricing actions (the public API; the pages use them).

Money: amounts are integer fen (``*_fen``), unit prices yuan strings ("0.50"); floats are
refused. Every bad input is a ``ValidationError`` whose dict names the field, with a message
"中文 / English". Every write is authorized by role (``.auth``) and appends an audit
record (``sanyi_audit``) in the same transaction; nothing is ever updated in place.
Rules for new versions (effective dates, ceiling check): see ``..service``.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from feeengine import PricingError

from ...common import audit, clock, paging
from ...common.errors import as_ckan_error, refusals
from ...common.ids import id_problem, optional_id
from ...common.schema import Schema, parsed, validated
from ...common.user import actor_name
from ...domain.errors import Errors, Invalid
from .. import disclosure, params, service, settings, store

__all__ = [
    "sanyi_price_ceiling_set", "sanyi_price_set", "sanyi_product_pricing_policy_set",
    "sanyi_priority_discount_set", "sanyi_revenue_cap_set", "sanyi_revenue_shares_set",
    "sanyi_revenue_billed_set", "sanyi_revenue_status", "sanyi_pricing_settings_show",
    "sanyi_audit_list", "sanyi_price_quote", "sanyi_price_list", "sanyi_price_history",
    "sanyi_disclosure_export",
]
AUDIT_FILTERS = ("object_type", "object_id", "actor", "action")


def _may_backdate(context: Context) -> bool:
    return bool(context.get("ignore_auth")) or authz.is_sysadmin(context.get("user"))


def _require_product(ref: Any, field: str = "product") -> model.Package:
    """The product named by ``ref``; a ref that is not a usable id (not text, NUL, lone
    surrogate, too long) is refused before any query."""
    if ref is not None and not (isinstance(ref, str) and not ref.strip()) \
            and (problem := id_problem(ref)) is not None:
        zh, _, en = problem.partition(" / ")
        raise PricingError(field, zh, en)
    return store.require_product(ref, field)


def _visible_product(context: Context, ref: Any) -> model.Package:
    """The product, if the caller may see it (a private one is reported as not found)."""
    pkg = _require_product(ref)
    if not pkg.private:
        return pkg
    try:
        tk.check_access("package_show", dict(context), {"id": pkg.id})
    except tk.NotAuthorized:
        raise PricingError("product", f"未找到该产品：{ref!r}", f"product not found: {ref!r}") from None
    return pkg


def _date() -> Schema:
    """``date``: an ISO date, today when not given."""
    return {"date": [parsed(params.iso_date, "date", clock.today())]}


# -- writes ---------------------------------------------------------------------------------
def _set_version(kind: str, context: Context, data_dict: DataDict) -> dict[str, Any]:
    errors = Errors()  # the schedule is read from several keys: not a navl schema
    pkg = errors.take(_require_product, data_dict.get("product"))
    schedule = errors.take(params.schedule, data_dict)
    start = errors.take(params.iso_date, data_dict.get("effective_from"), "effective_from",
                        clock.today())
    label = data_dict.get("label") or ""
    if not isinstance(label, str):
        errors.add(PricingError("label", "版本名称须为文本", "label must be text"))
    if errors:
        raise as_ckan_error(Invalid(errors))
    with refusals(context):
        row, warnings = service.set_version(kind, pkg, schedule, start, label.strip(),
                                            actor=actor_name(context),
                                            may_backdate=_may_backdate(context))
    return {"version": row.to_dict(who=True), "warnings": warnings}


def sanyi_price_ceiling_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Add a ceiling (上限收费标准) version for a product and billing unit (bureau).

    :param product: product id or name
    :param schedule: ``{"unit", "bands": [{"upto", "price"}], "trial"?}`` (object or JSON
        text): ``unit`` the billing unit, ``upto`` a band's last quantity (null: no end),
        ``price`` its unit price in 元 (decimal text, e.g. "0.50"); or instead, flat:
    :param unit: the billing unit, ``copy`` | ``call`` | ``record`` | ``month`` | ``year``
        (or its label: 份, 次, 条, 月, 年)
    :param bands: ``[{"upto", "price"}]`` (list or JSON text)
    :param trial: boolean: a 试行收费标准 (trial price) (optional)
    :param effective_from: ISO date (default today; not in the past unless sysadmin)
    :param label: optional name of the version
    :returns: ``{"version": {...}, "warnings": [price versions now above the ceiling]}``
    """
    tk.check_access("sanyi_price_ceiling_set", context, data_dict)
    return _set_version(store.CEILING, context, data_dict)


def sanyi_price_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Add an actual price version (operator; sysadmin); refused (field ``price``) if it
    exceeds a ceiling in force during its period, the message giving the first quantity and
    band where it exceeds, and (field ``ceiling``) if no ceiling is in force from its first
    day.

    :param product: product id or name
    :param schedule: as for ``sanyi_price_ceiling_set``; or instead, flat:
    :param unit: the billing unit (code or label); :param bands: ``[{"upto", "price"}]``
    :param trial: boolean (optional)
    :param effective_from: ISO date (default today; not in the past unless sysadmin)
    :param label: optional name of the version
    :returns: ``{"version": {...}, "warnings": []}``
    """
    tk.check_access("sanyi_price_set", context, data_dict)
    return _set_version(store.PRICE, context, data_dict)


def sanyi_product_pricing_policy_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Allow (or forbid) industrial, charged use of a public-interest product (bureau).

    :param product: product id or name
    :param industrial_use_allowed: boolean
    """
    tk.check_access("sanyi_product_pricing_policy_set", context, data_dict)
    data = validated(data_dict, {
        "product": [parsed(_require_product)],
        "industrial_use_allowed": [parsed(params.boolean, "industrial_use_allowed", None)]})
    with refusals(context):
        row = settings.set_policy(data["product"], data["industrial_use_allowed"],
                                  actor=actor_name(context))
    return row.to_dict()


def sanyi_priority_discount_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Set the discount for priority-support (重点扶持) scenarios (bureau).

    :param pct: percentage 0–100 (string or integer, e.g. "20" or "12.5")
    """
    tk.check_access("sanyi_priority_discount_set", context, data_dict)
    data = validated(data_dict, {"pct": [parsed(params.pct, "pct")]})
    with refusals(context):
        row = settings.set_discount(data["pct"], actor=actor_name(context))
    return row.to_dict()


def sanyi_revenue_cap_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Set a period's 最高准许收入 = 准许成本 + 准许利润 + 税金 (bureau).

    :param period: the year, e.g. "2026"
    :param allowed_cost_fen: 准许成本 (net of subsidies), integer fen
    :param allowed_profit_fen: 准许利润, integer fen
    :param tax_fen: 税金, integer fen
    :param warning_pct: warn when revenue reaches this % of the cap (default 80)
    """
    tk.check_access("sanyi_revenue_cap_set", context, data_dict)
    amounts = ("allowed_cost_fen", "allowed_profit_fen", "tax_fen")
    data = validated(data_dict, {
        "period": [parsed(params.period)], **{k: [parsed(params.fen, k)] for k in amounts},
        "warning_pct": [parsed(params.pct, "warning_pct", settings.WARNING_PCT_DEFAULT)]})
    with refusals(context):
        row = settings.set_revenue_cap(data["period"], *(data[k] for k in amounts),
                                       data["warning_pct"], actor=actor_name(context))
    return row.to_dict()


def sanyi_revenue_shares_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Set how net profit is split (bureau): a share to the treasury, the rest between the
    operator and the merchants by weights.

    :param treasury_pct: percentage to the treasury (default 30)
    :param operator_share: the operator's weight (e.g. 60)
    :param merchants_share: the merchants' weight (e.g. 40)
    """
    tk.check_access("sanyi_revenue_shares_set", context, data_dict)
    data = validated(data_dict, {
        "treasury_pct": [parsed(params.pct, "treasury_pct", settings.TREASURY_PCT_DEFAULT)],
        "operator_share": [parsed(params.weight, "operator_share")],
        "merchants_share": [parsed(params.weight, "merchants_share")]})
    with refusals(context):
        row = settings.set_shares(data["treasury_pct"], data["operator_share"],
                                  data["merchants_share"], actor=actor_name(context))
    return row.to_dict()


def sanyi_revenue_billed_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Report the revenue of a period collected outside the platform (operator); the status
    adds it to the period's paid orders (approval fees, monthly statements).

    :param period: the year, e.g. "2026"
    :param billed_fen: integer fen
    """
    tk.check_access("sanyi_revenue_billed_set", context, data_dict)
    data = validated(data_dict, {"period": [parsed(params.period)],
                                 "billed_fen": [parsed(params.fen, "billed_fen")]})
    with refusals(context):
        row = settings.set_revenue_billed(data["period"], data["billed_fen"],
                                          actor=actor_name(context))
    return row.to_dict()


# -- reads: the revenue status (bureau and operator), the rest bureau only ------------------
@tk.side_effect_free
def sanyi_revenue_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revenue against the cap per period, with warnings at the warning % and at 100 % and the
    excess carried into the next period's cap; the current shares; with ``net_profit_fen``,
    its split (treasury / operator / merchants).

    :param net_profit_fen: net profit to split, integer 分 (optional)
    """
    tk.check_access("sanyi_revenue_status", context, data_dict)
    data = validated(data_dict, {"net_profit_fen": [parsed(_optional_fen, "net_profit_fen")]})
    return settings.revenue_report(data["net_profit_fen"])


def _optional_fen(value: Any, field: str) -> int | None:
    return None if value in (None, "") else params.fen(value, field)


@tk.side_effect_free
def sanyi_pricing_settings_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every bureau pricing setting, current value and history."""
    tk.check_access("sanyi_pricing_settings_show", context, data_dict)
    return settings.overview()


@tk.side_effect_free
def sanyi_audit_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Audit records, newest first (bureau).

    :param object_type: e.g. ``price``, ``price_ceiling``, ``revenue_cap`` (optional)
    :param object_id: e.g. a product id (optional)
    :param actor: user name (optional)
    :param action: action name (optional)
    :param limit: at most 1000 (default 100)
    :param offset: default 0
    """
    tk.check_access("sanyi_audit_list", context, data_dict)
    data = validated(data_dict, {**{k: [optional_id] for k in AUDIT_FILTERS},
                                 **paging.schema(default_limit=100)})
    filters = {k: data[k] for k in AUDIT_FILTERS if data[k]}
    return {"count": audit.count(**filters),
            "results": audit.list(limit=data["limit"], offset=data["offset"], **filters)}


# -- public reads ---------------------------------------------------------------------------
@tk.side_effect_free
def sanyi_price_quote(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What a use of a product costs (public).

    :param product: product id or name
    :param use: ``public_interest`` | ``industrial``
    :param unit: ``copy`` | ``call`` | ``record`` | ``month`` | ``year``
    :param quantity: positive integer
    :param date: ISO date (default today): the versions in force that day are used
    :param priority_scenario: boolean (default false): apply the bureau's 重点扶持 discount
    :returns: ``{"free", "reason", "amount_fen", "amount_yuan", "currency": "CNY", "lines",
        "ceiling_amount_fen", "version", ...}``
    """
    tk.check_access("sanyi_price_quote", context, data_dict)
    data = validated(data_dict, {
        "product": [parsed(partial(_visible_product, context))], "use": [parsed(params.use)],
        "unit": [parsed(params.unit)], "quantity": [parsed(params.quantity)], **_date(),
        "priority_scenario": [parsed(params.boolean, "priority_scenario", False)]})
    try:
        result = service.quote_product(data["product"], use=data["use"], unit=data["unit"],
                                       quantity=data["quantity"], on=data["date"],
                                       priority_scenario=data["priority_scenario"])
    except PricingError as err:
        raise as_ckan_error(err) from err
    if max(result.get("amount_fen") or 0, result.get("ceiling_amount_fen") or 0) \
            > params.SAFE_FEN_MAX:
        raise as_ckan_error(PricingError(
            "quantity", f"数量过大：金额超过 {params.SAFE_FEN_MAX} 分，请分批计算",
            f"quantity too large: the amount exceeds {params.SAFE_FEN_MAX} fen; quote it in parts"))
    return result


@tk.side_effect_free
def sanyi_price_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """收费公示 (public): every listed product's ceilings and prices in force (and scheduled).

    :param date: ISO date (default today)
    :returns: ``{"date", "currency": "CNY", "priority_discount_pct", "count", "results"}``;
        each product with its ``units``: the ceiling and price in force per billing unit
    """
    tk.check_access("sanyi_price_list", context, data_dict)
    data = service.price_list(validated(data_dict, _date())["date"])
    products = data.pop("products")
    return {**data, "count": len(products), "results": products}


@tk.side_effect_free
def sanyi_price_history(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every price and ceiling version of a product, with status and in-force period (public).

    :param product: product id or name
    :param date: ISO date the statuses are computed for (default today)
    """
    tk.check_access("sanyi_price_history", context, data_dict)
    data = validated(data_dict, {"product": [parsed(partial(_visible_product, context))],
                                 **_date()})
    who = _bureau_caller(context)
    return service.price_history(data["product"], data["date"], who=who)


def _bureau_caller(context: Context) -> bool:
    try:
        tk.check_access("sanyi_audit_list", dict(context), {})
        return True
    except tk.NotAuthorized:
        return False


@tk.side_effect_free
def sanyi_disclosure_export(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The yearly disclosure: ceilings, product list and actual prices in force in a year.

    :param year: default last year
    :param format: ``json`` (default: the nested data) or ``csv`` (``{"year", "format",
        "filename", "content_type", "content"}``)
    """
    tk.check_access("sanyi_disclosure_export", context, data_dict)
    checked = validated(data_dict, {"year": [parsed(_year_or_last)],
                                    "format": [parsed(_export_format)]})
    year, fmt = checked["year"], checked["format"]
    data = disclosure.disclosure(year)
    if fmt == "json":
        return data
    return {"year": year, "format": "csv", "filename": f"sanyi-price-disclosure-{year}.csv",
            "content_type": "text/csv; charset=utf-8", "content": disclosure.to_csv(data)}


def _year_or_last(value: Any) -> int:
    return params.year(value or clock.today().year - 1)


def _export_format(value: Any) -> str:
    fmt = value or "json"
    fmt = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if fmt not in ("json", "csv"):
        raise PricingError("format", f"格式须为 json 或 csv：{fmt!r}",
                           f"format must be json or csv: {fmt!r}")
    return str(fmt)
