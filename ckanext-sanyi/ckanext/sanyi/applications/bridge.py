"""The interface with payments (``ckanext.sanyi.payments``, built by another engineer).

* At bureau approval of charged use: ``create_order(application_id, quote, actor) -> dict``
  locks the quoted amount into an order (status ``awaiting_payment``); its ``id`` is kept on
  the application as ``order_id``.
* When the bureau revokes an application that has an order or a payment:
  ``refund_for_application(application_id, actor, reason) -> dict | None`` (payments refunds
  a paid order and cancels an unpaid one).
* Payments calls :func:`ckanext.sanyi.applications.service.mark_paid`.

Both are called inside the caller's transaction, after the application row has changed;
an exception from them rolls the whole change back. Until the module exists these return
None and log a warning, so an approved charged application waits in ``awaiting_payment``
without an order.
"""
from __future__ import annotations

import importlib
import inspect
import logging
from typing import Any

__all__ = ["payments", "create_order", "refund_for_application"]

log = logging.getLogger(__name__)


def payments() -> Any | None:
    """The payments module, or None while it does not exist."""
    try:
        return importlib.import_module("ckanext.sanyi.payments")
    except ModuleNotFoundError as err:
        if err.name and not "ckanext.sanyi.payments".startswith(err.name):
            raise  # payments exists but one of *its* imports is missing: a real error
        return None


def create_order(application_id: str, quote: dict[str, Any], actor: str,
                 merchant_user_id: str | None = None) -> dict[str, Any] | None:
    """``merchant_user_id`` is passed as ``merchant=`` when payments accepts it (it saves
    payments looking the applicant up)."""
    module = payments()
    if module is None or not hasattr(module, "create_order"):
        log.warning("ckanext.sanyi.payments.create_order is missing: application %s waits "
                    "for payment without an order", application_id)
        return None
    if merchant_user_id and "merchant" in inspect.signature(module.create_order).parameters:
        return module.create_order(application_id, quote, actor, merchant=merchant_user_id)
    return module.create_order(application_id, quote, actor)


def refund_for_application(application_id: str, actor: str, reason: str) -> dict[str, Any] | None:
    module = payments()
    if module is None or not hasattr(module, "refund_for_application"):
        log.warning("ckanext.sanyi.payments.refund_for_application is missing: no refund for "
                    "revoked application %s", application_id)
        return None
    return module.refund_for_application(application_id, actor, reason)
