"""Orders and payments: the fee locked at approval, paid through Stripe or by bank
transfer (对公转账), refunded on revocation. Every payment event is traced in ``sanyi_audit``
(object types ``order`` and ``payment``, object id = the order id) and kept in
``sanyi_payment_event``; nothing is deleted. Money is integer 分 (fen), never float.

Applications and payments do not import each other; they react to each other's signals
(:mod:`ckanext.sanyi.common.signals`, subscriptions in :mod:`.subscriptions`):

* :func:`create_order` — at bureau approval of charged use, with the quote from
  ``sanyi_price_quote``; idempotent per application.
* :func:`refund_for_application` — when the bureau revokes an application.
* When an order becomes paid, this package sends ``order_paid`` in the same transaction.

Both functions write in the caller's session and do not commit: the caller's action commits
the approval (or revocation) and the order (or refund) together.

Modules: ``model`` (SQLAlchemy Core), ``gateway`` (Stripe), ``orders``, ``refunds``, ``settle``,
``events`` (webhooks), ``logic`` (actions, auth), ``views`` (pages, the Stripe webhook).
"""
from __future__ import annotations

from .orders import create_order
from .refunds import refund_for_application

__all__ = ["create_order", "refund_for_application"]
