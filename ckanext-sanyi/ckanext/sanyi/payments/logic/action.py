"""Order and payment actions (the public API; the pages use them).

Money is integer fen (``amount_fen``) with a display string ``amount_yuan``; floats are refused.
Every bad input is a ``ValidationError`` naming the field, "中文 / English" (the API answers
409). Every write is authorized by role (``.auth``) and traced in ``sanyi_audit`` in
the same transaction. Orders are created by the applications module at approval
(``ckanext.sanyi.payments.create_order``), not through an action.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common import audit, paging
from ...common.errors import refusals
from ...common.i18n_text import bi
from ...common.ids import clean_id
from ...common.schema import Validator, given, validated
from ...common.user import acting_user, actor_name
from .. import orders, refunds, settle

__all__ = ["sanyi_order_show", "sanyi_order_list", "sanyi_order_pay",
           "sanyi_order_record_bank_transfer", "sanyi_refund_list", "sanyi_refund_complete"]

STATUSES = ("awaiting_payment", "paid", "refunded", "cancelled")
REFUND_STATUSES = ("pending", "done", "failed")


def _ids(data_dict: DataDict, *required: str, optional: tuple[str, ...] = ()) -> DataDict:
    """``data_dict`` with its id fields checked (``clean_id``) before auth and SQL see them."""
    data = dict(data_dict)
    for key in required:
        data[key] = clean_id(data_dict.get(key), key)
    for key in optional:
        if data_dict.get(key) not in (None, ""):
            data[key] = clean_id(data_dict.get(key), key)
    return data


def _status(statuses: tuple[str, ...]) -> Validator:
    """The validator of a list's ``status``: one of ``statuses``, or None."""
    def validator(value: Any) -> str | None:
        status = given(value) or None
        if status is not None and (not isinstance(status, str) or status not in statuses):
            raise tk.Invalid(bi(f"状态须为 {'、'.join(statuses)} 之一：{status!r}",
                                f"status must be one of {', '.join(statuses)}: {status!r}"))
        return status
    return validator


def _list(action: str, context: Context, data_dict: DataDict, *, by: str,
          statuses: tuple[str, ...],
          lister: Callable[..., tuple[int, list[dict[str, Any]]]]) -> dict[str, Any]:
    """A list action: the optional id ``by`` checked before auth, then ``limit``, ``offset``
    and ``status``; ``lister`` reads what the caller may see."""
    data_dict = _ids(data_dict, optional=(by,))
    tk.check_access(action, context, data_dict)
    listing = validated(data_dict, {**paging.schema(default_limit=100),
                                    "status": [_status(statuses)]})
    total, rows = lister(acting_user(context), **{by: data_dict.get(by)}, **listing)
    return {"count": total, "results": rows}


@tk.side_effect_free
def sanyi_order_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An order with its refunds, payment events and trace (merchant owner, operator, bureau).

    :param id: the order id
    """
    data_dict = _ids(data_dict, "id")
    tk.check_access("sanyi_order_show", context, data_dict)
    order = orders.order_dict(orders.get_row(data_dict.get("id")))
    order["refunds"] = refunds.refunds_of_order(order["id"])
    order["events"] = orders.events_of(order["id"])
    order["trace"] = audit.list(object_types=["order", "payment"], object_id=order["id"],
                                oldest_first=True, limit=paging.MAX_LIMIT)
    return order


@tk.side_effect_free
def sanyi_order_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Orders, newest first: a merchant's own; operator and bureau staff see all.

    :param status: awaiting_payment | paid | refunded | cancelled (optional)
    :param application_id: only this application's orders (optional)
    :param limit: at most 1000 (default 100); :param offset: default 0
    :returns: ``{"count", "results"}``; each order with ``amount_fen``, ``amount_yuan``,
        ``currency``, ``status``
    """
    return _list("sanyi_order_list", context, data_dict, by="application_id", statuses=STATUSES,
                 lister=orders.list_orders)


def sanyi_order_pay(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Start paying an order through Stripe (the merchant who owns it): creates the order's
    PaymentIntent, or reuses the one still payable.

    :param id: the order id
    :returns: ``order_id``, ``payment_intent_id``, ``client_secret`` (for Stripe.js),
        ``status`` (the intent's), ``amount_fen``, ``currency``, ``payment_method_types``,
        ``publishable_key``, ``js_url``
    """
    data_dict = _ids(data_dict, "id")
    tk.check_access("sanyi_order_pay", context, data_dict)
    with refusals(context):
        return orders.start_stripe_payment(str(data_dict.get("id")), actor_name(context))


def sanyi_order_record_bank_transfer(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Record a bank transfer (对公转账) received for an order: it becomes paid (operator).

    :param id: the order id
    :param reference: the bank receipt's reference (回单号)
    :param amount_fen: the amount received in fen; must equal the order's amount
    :param received_on: ISO date the money arrived (not in the future)
    """
    data_dict = _ids(data_dict, "id")
    tk.check_access("sanyi_order_record_bank_transfer", context, data_dict)
    with refusals(context):
        return settle.record_bank_transfer(str(data_dict.get("id")), actor_name(context), data_dict)


@tk.side_effect_free
def sanyi_refund_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Refunds, newest first: a merchant's own orders'; operator and bureau staff see all.

    :param status: pending | done | failed (optional)
    :param order_id: only this order's refunds (optional)
    :param limit: at most 1000 (default 100); :param offset: default 0
    :returns: ``{"count", "results"}``
    """
    return _list("sanyi_refund_list", context, data_dict, by="order_id",
                 statuses=REFUND_STATUSES, lister=refunds.list_refunds)


def sanyi_refund_complete(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The operator has returned a bank transfer: the pending refund becomes done (operator).

    :param id: the refund id
    :param reference: the bank's reference of the refund transfer
    """
    data_dict = _ids(data_dict, "id")
    tk.check_access("sanyi_refund_complete", context, data_dict)
    with refusals(context):
        return refunds.complete_refund(str(data_dict.get("id")), actor_name(context), data_dict)
