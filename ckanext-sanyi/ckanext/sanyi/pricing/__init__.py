"""CKAN side of the fee engine (``feeengine``): tables, rules for new versions, quotes, the price
list, history, the yearly disclosure, bureau settings and demo prices.

The engine stays pure; this package reads and appends rows and converts at the boundary.
Modules: ``model`` (SQLAlchemy Core), ``store`` (rows ↔ engine objects), ``params`` (action
inputs), ``service`` (versions, quotes, price list, history), ``settings`` (discount, revenue
cap, shares, product policy), ``disclosure`` (yearly export), ``demo`` (``load_demo_prices``), ``logic`` (actions, auth),
``views`` (pages).
"""
from __future__ import annotations

from .demo import load_demo_prices

__all__ = ["load_demo_prices"]
