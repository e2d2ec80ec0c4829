"""What applications do when payments reports a paid order (see :mod:`..common.signals`)."""
from __future__ import annotations

from typing import Any

from ..common import signals
from ..domain.approval import RefusalKind, TransitionRefused
from . import service

__all__ = ["get_subscriptions"]


def order_paid(application_id: str, actor: str, payment_ref: str, **_: Any) -> dict[str, str]:
    """Activate the paid application. The answer's ``outcome`` is :data:`signals.REFUSED` (with
    the refusal as ``reason``) when the application no longer awaits payment."""
    try:
        service.mark_paid(application_id, actor, payment_ref)
    except TransitionRefused as err:
        if err.kind is not RefusalKind.STATE:
            raise
        return {"outcome": signals.REFUSED, "reason": str(err)}
    return {"outcome": signals.ACTIVATED}


def get_subscriptions() -> dict[Any, list[Any]]:
    return {signals.order_paid: [order_paid]}
