"""Orders and payments (issue 4): the fee locked at approval, paid through Stripe or by bank
transfer (对公转账), refunded on revocation. Every payment event is traced in ``sanyi_audit``
(object types ``order`` and ``payment``, object id = the order id) and kept in
``sanyi_payment_event``; nothing is deleted. Money is integer 分 (fen), never float.

The interface with the applications module (``ckanext.sanyi.applications``):

* :func:`create_order` — at bureau approval of charged use, with the quote from
  ``sanyi_price_quote``; idempotent per application.
* :func:`refund_for_application` — when the bureau revokes an application.
* When an order becomes paid, this package calls
  ``ckanext.sanyi.applications.service.mark_paid(application_id, actor, payment_ref)`` in the
  same transaction (skipped while that module does not exist).

Both functions write in the caller's session and do not commit: the caller's action commits
the approval (or revocation) and the order (or refund) together.

Modules: ``tables`` (SQLAlchemy Core), ``gateway`` (Stripe), ``orders``, ``refunds``,
``events`` (webhooks).
"""
from __future__ import annotations

from .orders import create_order
from .refunds import refund_for_application

__all__ = ["create_order", "refund_for_application"]
