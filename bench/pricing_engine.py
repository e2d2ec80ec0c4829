"""Quotes per second of the fee engine alone (no CKAN, no database).

Usage: python bench/pricing_engine.py [--seconds 1.0]

Times ``pricing.quote`` for an industrial-use product with a flat and with a 3-band tiered
per-call schedule (each against a ceiling of the same shape), at quantities spread over all
bands, with and without a priority-support discount. Prints plain-text figures.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import timeit
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from feeengine import ProductPricing, Schedule, ScheduleVersion, Use, quote  # noqa: E402

DAY = date(2025, 6, 1)
QUANTITIES = (1, 999, 9_999, 15_000, 99_999, 250_000, 1_000_000)


def product(price: Schedule, ceiling: Schedule) -> ProductPricing:
    return ProductPricing(
        "bench", Use.INDUSTRIAL,
        (ScheduleVersion("p-2024", date(2024, 1, 1), price), ScheduleVersion("p-2025", date(2025, 1, 1), price)),
        (ScheduleVersion("c-2024", date(2024, 1, 1), ceiling), ScheduleVersion("c-2025", date(2025, 1, 1), ceiling)))


CASES = {
    "flat (1 band)": product(Schedule.flat("call", "0.30"), Schedule.flat("call", "0.35")),
    "tiered (3 bands)": product(
        Schedule.tiered("call", [(10_000, "0.50"), (100_000, "0.30"), (None, "0.10")]),
        Schedule.tiered("call", [(10_000, "0.60"), (100_000, "0.35"), (None, "0.12")])),
}


def rate(prod: ProductPricing, discount: str | None, seconds: float) -> float:
    """Quotes per second, best of 3 runs of about ``seconds / 3`` each."""
    quantities = itertools.cycle(QUANTITIES)

    def one() -> None:
        quote(prod, unit="call", quantity=next(quantities), use="industrial", on=DAY,
              priority_discount_pct=discount)

    timer = timeit.Timer(one)
    number, _ = timer.autorange()
    per_run = max(1, int(number * (seconds / 3) / max(timer.timeit(number), 1e-9)))
    best = min(timer.repeat(repeat=3, number=per_run))
    return per_run / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.4, help="approximate time per figure")
    args = parser.parse_args()
    print(f"pricing engine, Python {sys.version.split()[0]}, quantities {', '.join(map(str, QUANTITIES))}")
    for name, prod in CASES.items():
        for discount in (None, "20"):
            label = f"{name}{' + 20% discount' if discount else ''}"
            per_s = rate(prod, discount, args.seconds)
            print(f"{label:<34} {per_s:>10,.0f} quotes/s  {1e6 / per_s:>7.1f} us/quote")


if __name__ == "__main__":
    main()
