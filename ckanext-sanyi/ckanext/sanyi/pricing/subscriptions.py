"""What pricing does when payments reports a paid order (see :mod:`..common.signals`): the
revenue cap's warning levels, told to the bureau and the operator (:mod:`.actual`)."""
from __future__ import annotations

import logging
from typing import Any

import ckan.model as model

from ..common import signals
from .actual import check_revenue_levels

__all__ = ["get_subscriptions"]

log = logging.getLogger(__name__)


def revenue_received(order_id: str, actor: str, **_: Any) -> None:
    """Never fails the payment: a failure is logged and undone alone (a savepoint)."""
    try:
        with model.Session.begin_nested():
            check_revenue_levels(actor)
    except Exception:
        log.exception("revenue cap check after order %s failed", order_id)


def get_subscriptions() -> dict[Any, list[Any]]:
    return {signals.revenue_received: [revenue_received]}
