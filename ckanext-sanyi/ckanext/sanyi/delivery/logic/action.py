"""Actions of the delivery feature.

Data processors (数据加工处理人员) and desensitized samples (脱敏样例): the registry
(:mod:`..processors`, rules in :mod:`ckanext.sanyi.domain.processor`) and the samples
(:mod:`..samples`). A bad field is a ``tk.ValidationError`` (409) naming it, in Chinese and
English; a step not allowed now names ``status``; an actor not allowed is 403; an unknown id
404. Every write is audited and commits with its audit record, or not at all.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common import paging
from ...common.errors import refusals
from ...common.i18n_text import bi
from ...common.ids import clean_id
from ...common.user import acting_user, require_user
from ...domain import processor as rules
from ...domain.errors import NotFound
from .. import ledger_query, processors, samples
from ..operations import listing
from .auth import qualify_message

__all__ = [
    "sanyi_processor_register", "sanyi_processor_file", "sanyi_processor_accept_agreement",
    "sanyi_processor_show", "sanyi_processor_list", "sanyi_processor_revoke",
    "sanyi_sample_show", "sanyi_sample_status", "sanyi_sample_trace", "sanyi_sample_view_list",
    "sanyi_ledger_list", "sanyi_usage_daily", "sanyi_operation_list",
]


def _page(data_dict: DataDict) -> paging.Page:
    return paging.page(data_dict, default_limit=50, max_limit=100)


# -- data processors ----------------------------------------------------------------------------
def sanyi_processor_register(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Record a data processor's identity as verified by the operator (operator staff).

    :param user: the user's name or id
    :param real_name: 姓名 as on the document
    :param document_kind: ``resident_id_card`` | ``passport`` | ``hk_macao_permit`` |
        ``taiwan_permit`` | ``foreign_permanent_resident``
    :param document_number: 证件号码 (a 居民身份证 number must pass GB 11643); stored masked
    :param employer: 所在单位 (optional)

    A revoked registration starts over (filing and agreement to be done again).
    """
    tk.check_access("sanyi_processor_register", context, data_dict)
    with refusals(context):
        row = processors.register(require_user(context), dict(data_dict))
    return processors.as_dict(row)


def sanyi_processor_file(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Record the filing with the bureau (bureau staff).

    :param id: the registration's id, or :param user: the user's name or id
    :param filing_no: 备案号
    """
    tk.check_access("sanyi_processor_file", context, data_dict)
    with refusals(context):
        row = processors.file(require_user(context), dict(data_dict))
    return processors.as_dict(row)


def sanyi_processor_accept_agreement(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The caller accepts the confidentiality agreement (after identity and filing).

    :param agreement_version: the version read (must be the current one)
    """
    tk.check_access("sanyi_processor_accept_agreement", context, data_dict)
    with refusals(context):
        row = processors.accept_agreement(require_user(context),
                                          data_dict.get("agreement_version"))
    return processors.as_dict(row)


@tk.side_effect_free
def sanyi_processor_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A registration: ``id``, or ``user``, or without either the caller's own (404 if none).

    :param id: the registration's id (optional)
    :param user: a user's name or id (optional)
    """
    tk.check_access("sanyi_processor_show", context, data_dict)
    with refusals(context, write=False):
        if data_dict.get("id"):
            row: dict[str, Any] | None = processors.get(clean_id(data_dict["id"]))
        else:
            who = processors.target_user(data_dict["user"]) if data_dict.get("user") \
                else require_user(context)
            row = processors.for_user(who)
            if row is None:
                raise NotFound("user", f"{who.name} 没有数据加工处理人员登记",
                               f"{who.name} has no registration as a data processor")
        assert row is not None
    return processors.as_dict(row)


@tk.side_effect_free
def sanyi_processor_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Registrations, newest first (operator or bureau).

    :param status: ``pending`` | ``active`` | ``revoked`` (optional)
    :param limit: ≤ 100 (default 50); :param offset: default 0
    """
    tk.check_access("sanyi_processor_list", context, data_dict)
    status = data_dict.get("status") or None
    if status is not None and (not isinstance(status, str) or status not in rules.STATUS_TEXT):
        raise tk.ValidationError({"status": [bi(
            "状态须为 pending、active 或 revoked", "status must be pending, active or revoked")]})
    page = _page(data_dict)
    total, rows = processors.list_processors(status, page.limit, page.offset)
    return {"count": total, "results": [processors.as_dict(r) for r in rows]}


def sanyi_processor_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke a registration (operator or bureau).

    :param id: the registration's id, or :param user: the user's name or id
    :param reason: 撤销理由 (required)
    """
    tk.check_access("sanyi_processor_revoke", context, data_dict)
    with refusals(context):
        row = processors.revoke(require_user(context), dict(data_dict))
    return processors.as_dict(row)


# -- samples ------------------------------------------------------------------------------------
def _dataset(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The catalog resource named by ``id`` (name or id), as the caller may see it."""
    ref = clean_id(data_dict.get("id"))
    user = acting_user(context)
    pkg = tk.get_action("package_show")({"user": user.name if user else ""}, {"id": ref})
    if pkg.get("type") != "dataset":
        raise tk.ObjectNotFound(bi("未找到该数据资源", "Catalog resource not found"))
    return pkg


def sanyi_sample_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The desensitized sample of a catalog resource backed by the data domain (active data
    processors only; every view is recorded). At most 20 rows, every sensitive field masked,
    the viewer's marker in the 水印 column.

    :param id: the catalog resource's name or id
    """
    tk.check_access("sanyi_sample_show", context, data_dict)
    user = require_user(context)
    row = processors.for_user(user)
    if not rules.qualifies(row):  # an internal call too: a sample is always someone's
        raise tk.NotAuthorized(qualify_message(user))
    assert row is not None
    pkg = _dataset(context, data_dict)
    with refusals(context):
        return samples.sample(user, pkg, processor_id=row["id"])


@tk.side_effect_free
def sanyi_sample_status(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Whether a catalog resource has a sample and whether the caller may view it (anyone).

    :param id: the catalog resource's name or id
    """
    tk.check_access("sanyi_sample_status", context, data_dict)
    pkg = _dataset(context, data_dict)
    user = acting_user(context)
    row = processors.for_user(user) if user is not None else None
    found = samples.available(pkg["id"])
    return {"id": pkg["id"], "name": pkg["name"], "backed": found["backed"],
            "available": found["available"], "qualified": rules.qualifies(row),
            "processor_status": row["status"] if row else None,
            "missing_steps": rules.missing_steps(row),
            "steps": {k: {"zh": zh, "en": en} for k, (zh, en) in rules.STEPS.items()},
            "how_to_qualify": {"zh": rules.QUALIFY[0], "en": rules.QUALIFY[1]}}


@tk.side_effect_free
def sanyi_sample_trace(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Who viewed which resource when under a sample's marker (operator or bureau).

    :param marker: the marker as found in a sample (e.g. ``SY-1A2B-3C4D-5E6F-7A8B``)
    """
    tk.check_access("sanyi_sample_trace", context, data_dict)
    with refusals(context, write=False):
        return samples.trace(data_dict.get("marker"))


@tk.side_effect_free
def sanyi_sample_view_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Recorded sample views, newest first (operator or bureau).

    :param user: a user's name or id (optional); :param id: a resource's name or id
        (optional); :param limit: ≤ 100 (default 50); :param offset: default 0
    """
    tk.check_access("sanyi_sample_view_list", context, data_dict)
    page = _page(data_dict)
    with refusals(context, write=False):
        user_id = processors.target_user(data_dict["user"]).id if data_dict.get("user") else None
    package_id = _dataset(context, data_dict)["id"] if data_dict.get("id") else None
    total, rows = samples.view_list(user_id=user_id, package_id=package_id, limit=page.limit,
                                    offset=page.offset)
    return {"count": total, "results": rows}


# -- data-flow ledger (数据流转台账) -------------------------------------------------------------
@tk.side_effect_free
def sanyi_ledger_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Ledger rows the caller may see, newest first: a merchant its own, a data unit those
    touching its resources, the bureau and the operator all.

    :param entitlement_id, client_id, merchant_id, product, operation: filters (optional)
    :param outcome: ``granted`` | ``refused`` (optional)
    :param date_from, date_to: inclusive dates, Beijing time (``YYYY-MM-DD``, optional)
    :param limit: ≤ 1000 (default 100); :param offset: ≤ 1,000,000 (default 0)
    :returns: ``{"count", "results"}``
    """
    tk.check_access("sanyi_ledger_list", context, data_dict)
    return ledger_query.rows(ledger_query.scope_of(context), data_dict)


@tk.side_effect_free
def sanyi_usage_daily(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Calls per entitlement per day (Beijing time), granted and refused, from the ledger
    rows the caller may see (as :func:`sanyi_ledger_list`).

    :param entitlement_id: one entitlement (optional)
    :param client_id, merchant_id, product, operation: filters (optional)
    :param outcome: ``granted`` | ``refused`` (optional)
    :param date_from, date_to: inclusive dates (default: the 30 days up to today; ≤ 400 days)
    :returns: ``{"date_from", "date_to", "timezone", "count", "results": [{"entitlement_id",
        "day", "granted", "refused", "units"}]}``
    """
    tk.check_access("sanyi_usage_daily", context, data_dict)
    return ledger_query.usage_daily(ledger_query.scope_of(context), data_dict)


# -- product operations -------------------------------------------------------------------------
@tk.side_effect_free
def sanyi_operation_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """The operations products compute inside the data domain (public, read-only).

    :param product: a product's name or id (optional: every product the caller may see)

    :returns: ``{"count", "results": [{"name", "title", "scenario", "operations": [...]}],
        "privacy_classes": [...]}``, one result per product; each operation has its name, titles and descriptions (zh/en),
    privacy class, whether consent is required, the resources and fields it reads and its
    input and output JSON Schemas. A product the caller may not see is 404, as a missing one.
    """
    tk.check_access("sanyi_operation_list", context, data_dict)
    ref = data_dict.get("product")
    if ref is not None and not isinstance(ref, str):
        raise tk.ValidationError({"product": [bi("产品应为名称或ID",
                                                 "product must be a name or id")]})
    with refusals(context, write=False):
        products = listing.for_product(ref or None, context)
    return {"count": len(products), "results": products,
            "privacy_classes": listing.privacy_classes()}
