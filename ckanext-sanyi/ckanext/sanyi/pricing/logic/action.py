"""Pricing actions (the public API; the pages use them).

Money: amounts are integer fen (``*_fen``), unit prices yuan strings ("0.50"); floats are
refused. Every bad input is a ``ValidationError`` whose dict names the field, with a message
"中文 / English". Every write is authorized by role (``.auth``) and appends an audit
record (``sanyi_audit``) in the same transaction; nothing is ever updated in place.
Rules for new versions (effective dates, ceiling check): see ``..service``.
"""
from __future__ import annotations

from typing import Any, NoReturn

import ckan.authz as authz
import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from feeengine import PricingError

from ...common import audit, clock, paging
from ...common.errors import refusals
from ...common.ids import id_problem, optional_id
from ...common.schema import validated
from ...common.user import actor_name
from .. import disclosure, params, service, settings, store

__all__ = [
    "sanyi_price_ceiling_set", "sanyi_price_set", "sanyi_product_pricing_policy_set",
    "sanyi_priority_discount_set", "sanyi_revenue_cap_set", "sanyi_revenue_shares_set",
    "sanyi_revenue_billed_set", "sanyi_revenue_status", "sanyi_pricing_settings_show",
    "sanyi_audit_list", "sanyi_price_quote", "sanyi_price_list", "sanyi_price_history",
    "sanyi_disclosure_export",
]
AUDIT_FILTERS = ("object_type", "object_id", "actor", "action")


def _invalid(errors: params.Errors | PricingError) -> NoReturn:
    if isinstance(errors, PricingError):
        one = params.Errors()
        one.add(errors)
        errors = one
    raise tk.ValidationError(errors.by_field)


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


# -- writes ---------------------------------------------------------------------------------
def _set_version(kind: str, context: Context, data_dict: DataDict) -> dict[str, Any]:
    errors = params.Errors()
    pkg = errors.take(_require_product, data_dict.get("product"))
    schedule = errors.take(params.schedule, data_dict)
    start = errors.take(params.iso_date, data_dict.get("effective_from"), "effective_from",
                        clock.today())
    label = data_dict.get("label") or ""
    if not isinstance(label, str):
        errors.add(PricingError("label", "版本名称须为文本", "label must be text"))
    if errors:
        _invalid(errors)
    with refusals(context):
        row, warnings = service.set_version(kind, pkg, schedule, start, label.strip(),
                                            actor=actor_name(context),
                                            may_backdate=_may_backdate(context))
    return {"version": row.to_dict(who=True), "warnings": warnings}


def sanyi_price_ceiling_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Add a ceiling (上限收费标准) version for a product and billing unit (bureau).

    :param product: product id or name
    :param schedule: ``{"unit", "bands": [{"upto", "price"}], "trial"?}`` (object or JSON text);
        or instead ``unit`` and ``bands`` (list or JSON text)
    :param effective_from: ISO date (default today; not in the past unless sysadmin)
    :param label: optional name of the version
    :returns: ``{"version": {...}, "warnings": [price versions now above the ceiling]}``
    """
    tk.check_access("sanyi_price_ceiling_set", context, data_dict)
    return _set_version(store.CEILING, context, data_dict)


def sanyi_price_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Add an actual price version (operator; sysadmin). Same parameters as
    ``sanyi_price_ceiling_set``; refused (field ``price``) if it exceeds a ceiling in force
    during its period, the message giving the first quantity and band where it exceeds, and
    (field ``ceiling``) if no ceiling is in force from its first day."""
    tk.check_access("sanyi_price_set", context, data_dict)
    return _set_version(store.PRICE, context, data_dict)


def sanyi_product_pricing_policy_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Allow (or forbid) industrial, charged use of a public-interest product (bureau).

    :param product: product id or name
    :param industrial_use_allowed: boolean
    """
    tk.check_access("sanyi_product_pricing_policy_set", context, data_dict)
    errors = params.Errors()
    pkg = errors.take(_require_product, data_dict.get("product"))
    allowed = errors.take(params.boolean, data_dict.get("industrial_use_allowed"),
                          "industrial_use_allowed", None)
    if errors:
        _invalid(errors)
    with refusals(context):
        row = settings.set_policy(pkg, allowed, actor=actor_name(context))
    return row.to_dict()


def sanyi_priority_discount_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Set the discount for priority-support (重点扶持) scenarios (bureau).

    :param pct: percentage 0–100 (string or integer, e.g. "20" or "12.5")
    """
    tk.check_access("sanyi_priority_discount_set", context, data_dict)
    errors = params.Errors()
    pct = errors.take(params.pct, data_dict.get("pct"), "pct")
    if errors:
        _invalid(errors)
    with refusals(context):
        row = settings.set_discount(pct, actor=actor_name(context))
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
    errors = params.Errors()
    period = errors.take(params.period, data_dict.get("period"))
    amounts = [errors.take(params.fen, data_dict.get(k), k)
               for k in ("allowed_cost_fen", "allowed_profit_fen", "tax_fen")]
    warn = errors.take(params.pct, data_dict.get("warning_pct"), "warning_pct",
                       settings.WARNING_PCT_DEFAULT)
    if errors:
        _invalid(errors)
    with refusals(context):
        row = settings.set_revenue_cap(period, *amounts, warn, actor=actor_name(context))
    return row.to_dict()


def sanyi_revenue_shares_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Set how net profit is split (bureau): ``treasury_pct`` % (default 30) to the treasury,
    the rest between the operator and the merchants by the weights ``operator_share`` and
    ``merchants_share`` (e.g. 60 and 40)."""
    tk.check_access("sanyi_revenue_shares_set", context, data_dict)
    errors = params.Errors()
    treasury = errors.take(params.pct, data_dict.get("treasury_pct"), "treasury_pct",
                           settings.TREASURY_PCT_DEFAULT)
    operator = errors.take(params.weight, data_dict.get("operator_share"), "operator_share")
    merchants = errors.take(params.weight, data_dict.get("merchants_share"), "merchants_share")
    if errors:
        _invalid(errors)
    with refusals(context):
        row = settings.set_shares(treasury, operator, merchants, actor=actor_name(context))
    return row.to_dict()


def sanyi_revenue_billed_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Report the revenue billed in a period (operator), until payments record it.

    :param period: the year, e.g. "2026"
    :param billed_fen: integer fen
    """
    tk.check_access("sanyi_revenue_billed_set", context, data_dict)
    errors = params.Errors()
    period = errors.take(params.period, data_dict.get("period"))
    billed = errors.take(params.fen, data_dict.get("billed_fen"), "billed_fen")
    if errors:
        _invalid(errors)
    with refusals(context):
        row = settings.set_revenue_billed(period, billed, actor=actor_name(context))
    return row.to_dict()


# -- bureau reads ---------------------------------------------------------------------------
@tk.side_effect_free
def sanyi_revenue_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revenue against the cap per period, with warnings at the warning % and at 100 % and the
    excess carried into the next period's cap; the current shares; with ``net_profit_fen``,
    its split (treasury / operator / merchants)."""
    tk.check_access("sanyi_revenue_status", context, data_dict)
    net = None
    if data_dict.get("net_profit_fen") not in (None, ""):
        try:
            net = params.fen(data_dict["net_profit_fen"], "net_profit_fen")
        except PricingError as err:
            _invalid(err)
    return settings.revenue_report(net)


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
    errors = params.Errors()
    pkg = errors.take(_visible_product, context, data_dict.get("product"))
    use = errors.take(params.use, data_dict.get("use"))
    unit = errors.take(params.unit, data_dict.get("unit"))
    quantity = errors.take(params.quantity, data_dict.get("quantity"))
    on = errors.take(params.iso_date, data_dict.get("date"), "date", clock.today())
    priority = errors.take(params.boolean, data_dict.get("priority_scenario"),
                           "priority_scenario", False)
    if errors:
        _invalid(errors)
    try:
        result = service.quote_product(pkg, use=use, unit=unit, quantity=quantity, on=on,
                                       priority_scenario=priority)
    except PricingError as err:
        _invalid(err)
    if max(result.get("amount_fen") or 0, result.get("ceiling_amount_fen") or 0) \
            > params.SAFE_FEN_MAX:
        _invalid(PricingError(
            "quantity", f"数量过大：金额超过 {params.SAFE_FEN_MAX} 分，请分批计算",
            f"quantity too large: the amount exceeds {params.SAFE_FEN_MAX} fen; quote it in parts"))
    return result


@tk.side_effect_free
def sanyi_price_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """收费公示 (public): every listed product's ceilings and prices in force (and scheduled).

    :param date: ISO date (default today)
    """
    tk.check_access("sanyi_price_list", context, data_dict)
    try:
        on = params.iso_date(data_dict.get("date"), "date", clock.today())
    except PricingError as err:
        _invalid(err)
    return service.price_list(on)


@tk.side_effect_free
def sanyi_price_history(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Every price and ceiling version of a product, with status and in-force period (public).

    :param product: product id or name
    :param date: ISO date the statuses are computed for (default today)
    """
    tk.check_access("sanyi_price_history", context, data_dict)
    errors = params.Errors()
    pkg = errors.take(_visible_product, context, data_dict.get("product"))
    on = errors.take(params.iso_date, data_dict.get("date"), "date", clock.today())
    if errors:
        _invalid(errors)
    who = _bureau_caller(context)
    return service.price_history(pkg, on, who=who)


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
    errors = params.Errors()
    year = errors.take(params.year, data_dict.get("year") or clock.today().year - 1)
    fmt = data_dict.get("format") or "json"
    fmt = fmt.strip().lower() if isinstance(fmt, str) else fmt
    if fmt not in ("json", "csv"):
        errors.add(PricingError("format", f"格式须为 json 或 csv：{fmt!r}",
                                f"format must be json or csv: {fmt!r}"))
    if errors:
        _invalid(errors)
    data = disclosure.disclosure(year)
    if fmt == "json":
        return data
    return {"year": year, "format": "csv", "filename": f"sanyi-price-disclosure-{year}.csv",
            "content_type": "text/csv; charset=utf-8", "content": disclosure.to_csv(data)}
