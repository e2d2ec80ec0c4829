"""Signals by which applications and payments react to each other without importing each other.

Each is a named CKAN extension signal (``tk.signals.ckanext``); the feature that reacts
subscribes through ``ISignal`` (its ``subscriptions.py``). The sender is the application id.
Receivers run inside the sender's transaction and do not commit; an exception from a
receiver rolls the sender's change back. A receiver's return value is the answer:

* :data:`application_charged` (``quote``, ``actor``, ``merchant``): approval of charged use;
  payments answers with the order (a dict with ``id`` and ``amount_fen``).
* :data:`application_revoked` (``actor``, ``reason``): the bureau revoked an application with
  an order or a payment; payments answers with the refund, or None.
* :data:`order_paid` (``actor``, ``payment_ref``): an order became paid; applications answers
  ``{"outcome": ACTIVATED}``, or ``{"outcome": REFUSED, "reason": ...}`` when the application
  no longer awaits payment (payments then refunds the surplus).

* :data:`statement_charged` (``application_id``, ``merchant``, ``quote``, ``actor``): the
  delivery gateway billed an entitlement's month (the sender is the statement id); payments
  answers with the statement's order.
* :data:`statement_paid` (``order_id``, ``actor``, ``payment_ref``): a statement's order
  became paid (the sender is the statement id); delivery answers ``{"outcome": "paid"}``.
* :data:`revenue_received` (``amount_fen``, ``actor``): any order became paid (the sender is
  the order id); pricing checks the revenue cap's warning levels.

With no receiver (a feature not installed) ``send`` answers nothing and the sender goes on.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

__all__ = ["application_charged", "application_revoked", "order_paid", "statement_charged",
           "statement_paid", "revenue_received", "ACTIVATED", "REFUSED", "answer"]

application_charged = tk.signals.ckanext.signal("sanyi_application_charged")
application_revoked = tk.signals.ckanext.signal("sanyi_application_revoked")
order_paid = tk.signals.ckanext.signal("sanyi_order_paid")
statement_charged = tk.signals.ckanext.signal("sanyi_statement_charged")
statement_paid = tk.signals.ckanext.signal("sanyi_statement_paid")
revenue_received = tk.signals.ckanext.signal("sanyi_revenue_received")

ACTIVATED, REFUSED = "activated", "refused"


def answer(signal: Any, sender: str, **kwargs: Any) -> Any:
    """Send ``signal`` and return the first receiver's answer that is not None (or None)."""
    for _receiver, value in signal.send(sender, **kwargs):
        if value is not None:
            return value
    return None
