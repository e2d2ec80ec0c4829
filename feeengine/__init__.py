"""Fee engine of ckanext-sanyi (公共数据运营服务费). Pure Python: never imports CKAN.

Money is integer fen (分) for amounts and Decimal yuan (元) for unit prices; never float.
Modules: ``money`` (parsing, exact arithmetic, half-up rounding, largest-remainder split),
``schedule`` (billing units, flat/tiered schedules, JSON form), ``versions`` (effective dates),
``ceiling`` (exact ceiling check), ``product`` (use/category, a product's versions),
``quote`` (quotes), ``revenue`` (revenue cap, profit split), ``errors`` (typed errors).
"""
from __future__ import annotations

from .ceiling import CeilingViolation, check_ceiling, check_price_versions, find_ceiling_violation
from .errors import CeilingExceeded, PricingError, UseNotAllowed
from .money import (
    CURRENCY,
    allocate_fen,
    fen_to_yuan,
    format_yuan,
    line_amount_fen,
    parse_pct,
    parse_quantity,
    parse_yuan,
    round_half_up_fen,
)
from .product import ProductPricing, Use, serves_industrial_use
from .quote import LineKind, Quote, QuoteLine, quote
from .revenue import (
    TREASURY_PCT_DEFAULT,
    AllowedRevenue,
    ProfitSplit,
    RevenueLevel,
    RevenuePeriod,
    RevenueStatus,
    revenue_status,
    split_net_profit,
    track_revenue,
)
from .schedule import Band, BandLine, BillingUnit, Schedule
from .versions import (
    ScheduleVersion,
    in_force_periods,
    parse_date,
    version_in_force,
    versions_in_force_during_year,
)

__all__ = [
    # errors
    "PricingError", "UseNotAllowed", "CeilingExceeded",
    # money
    "CURRENCY", "parse_yuan", "parse_pct", "parse_quantity", "round_half_up_fen", "line_amount_fen",
    "fen_to_yuan", "format_yuan", "allocate_fen",
    # schedules and versions
    "BillingUnit", "Band", "BandLine", "Schedule", "ScheduleVersion", "parse_date",
    "in_force_periods", "version_in_force", "versions_in_force_during_year",
    # ceiling
    "CeilingViolation", "find_ceiling_violation", "check_ceiling", "check_price_versions",
    # products and quotes
    "Use", "ProductPricing", "serves_industrial_use", "LineKind", "QuoteLine", "Quote", "quote",
    # revenue
    "AllowedRevenue", "RevenueLevel", "RevenuePeriod", "RevenueStatus", "revenue_status",
    "track_revenue", "TREASURY_PCT_DEFAULT", "ProfitSplit", "split_net_profit",
]
