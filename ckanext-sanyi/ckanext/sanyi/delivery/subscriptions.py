"""What the delivery gateway does when payments reports a paid statement order (see
:mod:`..common.signals`)."""
from __future__ import annotations

from typing import Any

from ..common import signals
from . import billing

__all__ = ["get_subscriptions"]


def statement_paid(statement_id: str, order_id: str, actor: str, **_: Any) -> dict[str, str]:
    return billing.mark_paid(statement_id, order_id, actor)


def get_subscriptions() -> dict[Any, list[Any]]:
    return {signals.statement_paid: [statement_paid]}
