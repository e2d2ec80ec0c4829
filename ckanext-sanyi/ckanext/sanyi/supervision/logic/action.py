"""Actions of the bureau's supervision view (``/bureau/supervision`` reads them).

* ``sanyi_supervision_figures`` (bureau): every figure of :mod:`..figures` for a period,
  a data unit and a product; bad filters are field errors (409), in Chinese and English.
* ``sanyi_product_review_queue`` (bureau): products awaiting approval (已备案).
* ``sanyi_product_review`` (bureau): approve, or return to 草稿 with a comment, a filed
  product (through ``package_patch``, whose status rules keep filing and approval apart);
  the change and its audit record commit together.
* ``sanyi_product_review_list`` (bureau and operator): the latest decisions, with the
  returns' comments, of one product or all.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common.errors import refusals
from ...common.ids import clean_id
from ...common.paging import whole
from ...common.user import require_user
from .. import figures, product_review

__all__ = ["sanyi_supervision_figures", "sanyi_product_review_queue", "sanyi_product_review",
           "sanyi_product_review_list"]


@tk.side_effect_free
def sanyi_supervision_figures(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The supervision figures.

    :param date_from: first day, ``YYYY-MM-DD`` in Beijing time (default: 29 days before
        ``date_to``); not after today
    :param date_to: last day, inclusive (default today); at most 400 days in all
    :param organization: a data unit's organisation name (optional)
    :param product: a product's name (optional)
    :returns: ``{"filters", "timezone", "calls", "entitlements", "alerts", "revenue",
        "overdue", "waiting"}`` (see :mod:`ckanext.sanyi.supervision.figures`)
    """
    tk.check_access("sanyi_supervision_figures", context, data_dict)
    f, errors = figures.parse(data_dict)
    if errors:
        raise tk.ValidationError(errors)
    return figures.all_figures(f, context)


@tk.side_effect_free
def sanyi_product_review_queue(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Products awaiting approval (已备案), oldest first: ``{"count", "results"}``."""
    tk.check_access("sanyi_product_review_queue", context, data_dict)
    rows = product_review.queue()
    return {"count": len(rows), "results": rows}


def sanyi_product_review(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Approve or return a filed product.

    :param id: the product's id or name
    :param decision: ``approve`` (已批准（上架）) or ``return`` (back to 草稿)
    :param comment: required to return (at most 1000 characters), optional to approve
    :returns: ``{"id", "name", "title", "decision", "status", "comment"}``
    """
    tk.check_access("sanyi_product_review", context, data_dict)
    user = require_user(context)
    with refusals(context):
        return product_review.decide(user, data_dict)


@tk.side_effect_free
def sanyi_product_review_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The latest approvals and returns (with their comments), newest first.

    :param id: a product's id or name (optional: all products)
    :param limit: at most 100 (default 20)
    """
    tk.check_access("sanyi_product_review_list", context, data_dict)
    product_id = None
    if data_dict.get("id") not in (None, ""):
        product_id = product_review.product_of(clean_id(data_dict.get("id"))).id
    try:
        limit = min(whole(data_dict.get("limit"), 20, 10**6), 100)
    except tk.Invalid as err:
        raise tk.ValidationError({"limit": [str(err.error)]}) from None
    rows = product_review.reviews(product_id, limit=limit)
    return {"count": len(rows), "results": rows}
