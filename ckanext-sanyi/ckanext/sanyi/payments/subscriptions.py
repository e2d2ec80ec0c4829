"""What payments does when applications approve charged use or revoke (see
:mod:`..common.signals`): lock the quoted fee into an order, refund or cancel it."""
from __future__ import annotations

from typing import Any

from ..common import signals
from .orders import create_order
from .refunds import refund_for_application

__all__ = ["get_subscriptions"]


def application_charged(application_id: str, quote: dict[str, Any], actor: str,
                        merchant: str | None = None, **_: Any) -> dict[str, Any]:
    return create_order(application_id, quote, actor, merchant=merchant)


def application_revoked(application_id: str, actor: str, reason: str,
                        **_: Any) -> dict[str, Any] | None:
    return refund_for_application(application_id, actor, reason)


def get_subscriptions() -> dict[Any, list[Any]]:
    return {signals.application_charged: [application_charged],
            signals.application_revoked: [application_revoked]}
