"""Property tests of the fee engine (hypothesis; modest example counts, no example database)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feeengine import (
    BillingUnit,
    ProductPricing,
    Schedule,
    ScheduleVersion,
    Use,
    allocate_fen,
    find_ceiling_violation,
    line_amount_fen,
    quote,
    split_net_profit,
    version_in_force,
    versions_in_force_during_year,
)

FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])
DAY = date(2025, 6, 1)
units = st.sampled_from(list(BillingUnit))
prices = st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-4))  # 0–100 元, 4 places
# Few distinct values so that crossings, ties and sub-fen gaps are all likely.
small_prices = st.one_of(st.integers(0, 40).map(lambda n: Decimal(n).scaleb(-1)),
                         st.sampled_from(["0.2999", "0.3", "0.3001", "0.5", "0.5005"]).map(Decimal))


@st.composite
def schedules(draw: st.DrawFn, unit: BillingUnit | None = None, price: st.SearchStrategy[Decimal] = prices,
              max_limit: int = 10**5, max_bands: int = 4) -> Schedule:
    n = draw(st.integers(1, max_bands))
    limits = sorted(draw(st.sets(st.integers(1, max_limit), min_size=n - 1, max_size=n - 1)))
    rates = draw(st.lists(price, min_size=n, max_size=n))
    return Schedule.tiered(unit or draw(units), list(zip([*limits, None], rates, strict=True)))


@st.composite
def priced(draw: st.DrawFn) -> tuple[Schedule, Schedule]:
    """A price and a ceiling it never exceeds, built three ways."""
    price = draw(schedules())
    top = max(b.price for b in price.bands) + draw(prices)
    how = draw(st.sampled_from(["raise", "flat", "random"]))
    if how == "raise":
        bands = [(b.upto, b.price + draw(prices)) for b in price.bands]
        return price, Schedule.tiered(price.unit, bands)
    flat = Schedule.flat(price.unit, top)
    if how == "random":
        other = draw(schedules(price.unit))
        return price, other if find_ceiling_violation(price, other) is None else flat
    return price, flat


def naive_exact_fen(schedule: Schedule, q: int) -> Fraction:
    """Independent reference: Σ over bands of (units in band) × price × 100."""
    total, lower = Fraction(0), 0
    for band in schedule.bands:
        upper = q if band.upto is None else min(q, band.upto)
        total += max(0, upper - lower) * Fraction(band.price) * 100
        lower = band.upto if band.upto is not None else lower
    return total


def product(price: Schedule, ceiling: Schedule, category: Use = Use.INDUSTRIAL,
            allowed: bool = True) -> ProductPricing:
    return ProductPricing("p", category, (ScheduleVersion("v", date(2025, 1, 1), price),),
                          (ScheduleVersion("c", date(2025, 1, 1), ceiling),), allowed)


discounts = st.one_of(st.none(), st.integers(0, 10000).map(lambda n: Decimal(n).scaleb(-2)))


@FAST
@given(priced(), st.integers(1, 300_000), st.integers(0, 50_000), discounts)
def test_amount_bounded_and_monotone(pair: tuple[Schedule, Schedule], q: int, extra: int,
                                     pct: Decimal | None) -> None:
    price, ceiling = pair
    prod = product(price, ceiling)
    a = quote(prod, unit=price.unit, quantity=q, use="industrial", on=DAY, priority_discount_pct=pct)
    b = quote(prod, unit=price.unit, quantity=q + extra, use="industrial", on=DAY, priority_discount_pct=pct)
    for x, qty in ((a, q), (b, q + extra)):
        assert x.ceiling_amount_fen == ceiling.amount_fen(qty)
        assert 0 <= x.amount_fen <= x.ceiling_amount_fen
        assert x.amount_fen == sum(line.amount_fen for line in x.lines)
        assert x.clamped == any(line.kind.value == "ceiling_clamp" for line in x.lines)
    assert a.amount_fen <= b.amount_fen


@FAST
@given(schedules(), st.integers(1, 300_000))
def test_tier_amount_is_sum_of_rounded_bands(schedule: Schedule, q: int) -> None:
    lines = schedule.lines(q)
    assert sum(line.quantity for line in lines) == q
    assert [line.index for line in lines] == list(range(len(lines)))
    assert all(line.amount_fen == line_amount_fen(line.quantity, line.unit_price) for line in lines)
    assert schedule.amount_fen(q) == sum(line.amount_fen for line in lines)
    assert Fraction(schedule.exact_amount_fen(q)) == naive_exact_fen(schedule, q)
    # each line is its exact amount rounded half-up: off by at most half a fen, halves go up
    for line in lines:
        exact = line.quantity * Fraction(line.unit_price) * 100
        assert -Fraction(1, 2) < line.amount_fen - exact <= Fraction(1, 2)


@FAST
@given(schedules(), st.integers(1, 10**6), st.sampled_from(list(Use)), st.booleans(),
       st.dates(date(2025, 1, 1), date(2030, 1, 1)))
def test_public_interest_always_free(schedule: Schedule, q: int, category: Use, allowed: bool,
                                     on: date) -> None:
    x = quote(product(schedule, schedule, category, allowed), unit=schedule.unit, quantity=q,
              use=Use.PUBLIC_INTEREST, on=on, priority_discount_pct="10")
    assert x.free and x.amount_fen == 0 and x.lines == () and x.reason_zh and x.reason_en


@settings(max_examples=150, deadline=None, database=None)
@given(schedules(BillingUnit.CALL, small_prices, max_limit=30, max_bands=4),
       schedules(BillingUnit.CALL, small_prices, max_limit=30, max_bands=4))
def test_ceiling_check_matches_brute_force(price: Schedule, ceiling: Schedule) -> None:
    found = find_ceiling_violation(price, ceiling)
    brute = next((q for q in range(1, 401)
                  if naive_exact_fen(price, q) > naive_exact_fen(ceiling, q)), None)
    if brute is not None:
        assert found is not None and found.quantity == brute
    if found is not None:
        q = found.quantity
        assert naive_exact_fen(price, q) > naive_exact_fen(ceiling, q)
        assert naive_exact_fen(price, q - 1) <= naive_exact_fen(ceiling, q - 1)
        assert Fraction(found.price_amount_fen) == naive_exact_fen(price, q)
    else:  # no violation: also none far out (margins beyond the last limit do not favour the price)
        assert brute is None and price.bands[-1].price <= ceiling.bands[-1].price


version_lists = st.lists(st.dates(date(2023, 1, 1), date(2026, 12, 31)), min_size=0, max_size=6)


def dated(days: list[date]) -> list[ScheduleVersion]:
    flat = Schedule.flat("call", "1")
    return [ScheduleVersion(f"v{i}", d, flat) for i, d in enumerate(days)]


@FAST
@given(version_lists, st.dates(date(2022, 6, 1), date(2027, 6, 1)))
def test_version_in_force_by_date(days: list[date], on: date) -> None:
    versions = dated(days)
    chosen = version_in_force(versions, on)
    started = [v for v in versions if v.effective_from <= on]
    if not started:
        assert chosen is None
        return
    assert chosen is not None and chosen.effective_from <= on
    assert not any(chosen.effective_from < v.effective_from <= on for v in versions)
    ties = [v for v in started if v.effective_from == chosen.effective_from]
    assert chosen is ties[-1]  # same day: the one listed later supersedes


@settings(max_examples=25, deadline=None, database=None)
@given(version_lists, st.integers(2023, 2026))
def test_versions_during_year_match_daily_lookups(days: list[date], year: int) -> None:
    versions = dated(days)
    day, daily = date(year, 1, 1), []
    while day.year == year:
        v = version_in_force(versions, day)
        if v is not None and v not in daily:
            daily.append(v)
        day += timedelta(days=1)
    assert versions_in_force_during_year(versions, year) == sorted(daily, key=lambda v: v.effective_from)


weights = st.integers(0, 10**6).map(lambda n: Decimal(n).scaleb(-2))


@FAST
@given(st.integers(0, 10**12), st.lists(weights, min_size=1, max_size=8).filter(lambda w: sum(w) > 0))
def test_allocation_exact_and_fair(total: int, ws: list[Decimal]) -> None:
    shares = allocate_fen(total, ws)
    assert sum(shares) == total and all(s >= 0 for s in shares)
    whole = sum(Fraction(w) for w in ws)
    assert all(abs(s - total * Fraction(w) / whole) < 1 for s, w in zip(shares, ws, strict=True))


@FAST
@given(st.integers(0, 10**12), st.integers(0, 100), weights,
       st.dictionaries(st.text("abcdef", min_size=1, max_size=3), weights, max_size=5))
def test_split_sums_exactly(net: int, pct: int, op: Decimal, merchants: dict[str, Decimal]) -> None:
    if op + sum(merchants.values()) == 0:
        op = Decimal(1)
    split = split_net_profit(net, operator_share=op, merchant_shares=merchants, treasury_pct=pct)
    assert split.treasury_fen + split.operator_fen + sum(f for _, f in split.merchants_fen) == net
    assert abs(split.treasury_fen - Fraction(net * pct, 100)) <= Fraction(1, 2)
    assert [m for m, _ in split.merchants_fen] == list(merchants)


@FAST
@given(schedules())
def test_schedule_dict_round_trip(schedule: Schedule) -> None:
    assert Schedule.from_dict(schedule.to_dict()) == schedule
