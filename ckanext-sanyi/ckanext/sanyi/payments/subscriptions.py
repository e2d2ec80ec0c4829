"""What payments does when applications approve charged use or revoke, and when the delivery
gateway bills a month (see :mod:`..common.signals`): lock the quoted fee into an order,
refund or cancel it; an order for a monthly statement."""
from __future__ import annotations

from typing import Any

from ..common import signals
from .orders import create_order, create_statement_order
from .refunds import refund_for_application

__all__ = ["get_subscriptions"]


def application_charged(application_id: str, quote: dict[str, Any], actor: str,
                        merchant: str | None = None, **_: Any) -> dict[str, Any]:
    return create_order(application_id, quote, actor, merchant=merchant)


def application_revoked(application_id: str, actor: str, reason: str,
                        **_: Any) -> dict[str, Any] | None:
    return refund_for_application(application_id, actor, reason)


def statement_charged(statement_id: str, application_id: str, quote: dict[str, Any],
                      actor: str, merchant: str, **_: Any) -> dict[str, Any]:
    return create_statement_order(statement_id, application_id, quote, actor, merchant)


def get_subscriptions() -> dict[Any, list[Any]]:
    return {signals.application_charged: [application_charged],
            signals.application_revoked: [application_revoked],
            signals.statement_charged: [statement_charged]}
