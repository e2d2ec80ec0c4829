"""Actions of over-scope supervision (:mod:`..alerts`) and monthly statements
(:mod:`..billing`).

A bad field is a ``tk.ValidationError`` (409) naming it in Chinese and English; a caller
without the role is refused (403); an unknown alert is 404; an alert already decided names
``status``. Every write commits with its audit records, or not at all.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common.errors import refusals
from ...common.user import actor_name, require_user
from ...pricing import actual
from ...pricing.store import require_product
from .. import alerts, billing

__all__ = ["sanyi_alert_list", "sanyi_alert_resolve", "sanyi_statement_list",
           "sanyi_statement_bill", "sanyi_product_billing_mode_set"]


@tk.side_effect_free
def sanyi_alert_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Over-scope alerts, latest activity first: bureau and operator staff see all, a
    merchant its own.

    :param status: ``open`` | ``resolved`` (optional)
    :param kind: ``out_of_scope`` | ``data_items_exceeded`` | ``quota_exhausted`` |
        ``suspended`` (optional)
    :param entitlement_id, merchant_id: filters (optional)
    :param limit: ≤ 100 (default 50); :param offset: default 0
    :returns: ``{"count", "results"}``; each alert with ``kind``, ``count``, ``first_at``,
        ``last_at``, ``merchant_id``, ``company_name``, ``entitlement_id``,
        ``entitlement_status``, ``suspended`` (it put the entitlement into 暂停待核实),
        ``status`` and the decision
    """
    tk.check_access("sanyi_alert_list", context, data_dict)
    with refusals(context, write=False):
        return alerts.list_alerts(require_user(context), data_dict)


def sanyi_alert_resolve(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The bureau's decision on an open alert (it covers every open alert of the same
    entitlement): ``confirm`` keeps (or puts) the entitlement suspended, recorded in the
    application's trace; ``dismiss`` lifts a suspension by the rule (resumed) and the rule
    counts afresh; ``revoke`` revokes the entitlement (with its refund).

    :param id: the alert id
    :param decision: ``confirm`` | ``dismiss`` | ``revoke``
    :param comment: the verification's comment (required to confirm or revoke)
    :returns: ``{"alert", "resolved": [alert ids], "entitlement"}``
    """
    tk.check_access("sanyi_alert_resolve", context, data_dict)
    with refusals(context):
        return alerts.resolve(require_user(context), data_dict.get("id"),
                              data_dict.get("decision"), data_dict.get("comment"))


@tk.side_effect_free
def sanyi_statement_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Monthly statements, newest month first: bureau and operator staff see all, a merchant
    its own.

    :param entitlement_id: optional; :param month: ``YYYY-MM`` (optional);
    :param status: ``awaiting_payment`` | ``paid`` | ``no_charge`` (optional)
    :param limit: ≤ 100 (default 50); :param offset: default 0
    :returns: ``{"count", "results"}``; each with ``month``, ``calls``, ``amount_fen``,
        ``amount_yuan``, the band ``lines``, ``order_id`` and ``status``
    """
    tk.check_access("sanyi_statement_list", context, data_dict)
    with refusals(context, write=False):
        return billing.list_statements(require_user(context), data_dict)


def sanyi_statement_bill(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Make the statements of an ended month for every entitlement billed monthly (operator;
    idempotent: a month billed again makes nothing new). Each statement is committed on its
    own.

    :param month: ``YYYY-MM`` (Beijing time), before the current month
    :returns: ``{"month", "made", "existing", "failed"}``
    """
    tk.check_access("sanyi_statement_bill", context, data_dict)
    with refusals(context, write=False):
        return billing.bill_month(data_dict.get("month"), actor_name(context))


def sanyi_product_billing_mode_set(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """How per-call industrial use of a product is settled (operator): ``prepaid`` (quota
    quoted and paid at approval; the default) or ``monthly`` (approval charges nothing, each
    month's granted calls are billed by a statement). Applies to approvals from now on.

    :param product: product id or name
    :param mode: ``prepaid`` | ``monthly``
    """
    tk.check_access("sanyi_product_billing_mode_set", context, data_dict)
    with refusals(context):
        row = actual.set_billing_mode(require_product(data_dict.get("product")),
                                      data_dict.get("mode"), actor=actor_name(context))
    return row.to_dict()
