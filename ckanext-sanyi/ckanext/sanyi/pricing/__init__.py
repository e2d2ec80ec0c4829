"""CKAN side of the fee engine (``pricing``): tables, rules for new versions, quotes, the price
list, history, the yearly disclosure, bureau settings and demo prices.

The engine stays pure; this package reads and appends rows and converts at the boundary.
Modules: ``tables`` (SQLAlchemy Core), ``store`` (rows ↔ engine objects), ``params`` (action
inputs), ``service`` (versions, quotes, price list, history), ``settings`` (discount, revenue
cap, shares, product policy), ``disclosure`` (yearly export), ``demo`` (``load_demo_prices``).
"""
from __future__ import annotations

from .demo import load_demo_prices

__all__ = ["load_demo_prices"]
