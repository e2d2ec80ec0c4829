"""Actions of merchants, applications and entitlements (orders and payments: ``payments``).

Refusals map to HTTP through CKAN's API: a bad field or a transition not allowed from the
current status raises ``tk.ValidationError`` (409; a status refusal names the field
``status``), an actor not allowed raises ``tk.NotAuthorized`` (403), an unknown id
``tk.ObjectNotFound`` (404). Messages are "中文 / English". A refused request changes
nothing: the session is rolled back. The rules live in ``applications.service`` and
``domain.approval``; authorization per role in ``.auth``.
"""
from __future__ import annotations

from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common import paging
from ...common.errors import refusals
from ...common.i18n_text import bi
from ...common.ids import clean_id
from ...common.schema import Validator, given, validated
from ...common.user import is_internal, require_user
from ...domain.approval import Status
from .. import access, entitlements, intake, lifecycle, merchants, products, read, service
from ..forms import NotFound

__all__ = [
    "sanyi_merchant_register", "sanyi_merchant_verify", "sanyi_merchant_show",
    "sanyi_merchant_list", "sanyi_application_create", "sanyi_application_update",
    "sanyi_application_submit", "sanyi_application_review", "sanyi_application_withdraw",
    "sanyi_application_show", "sanyi_application_list", "sanyi_application_data_items",
    "sanyi_entitlement_list", "sanyi_entitlement_suspend", "sanyi_entitlement_resume",
    "sanyi_entitlement_revoke",
]


def _viewer(context: Context) -> model.User | None:
    """The caller, or None for an internal call with ``ignore_auth`` and no user."""
    if is_internal(context):
        return None
    return require_user(context)


def _id(data_dict: DataDict, key: str = "id") -> str:
    return clean_id(data_dict.get(key), key)


def _statuses(allowed: Any) -> Validator:
    """The validator of a list's ``status``: one status or several (a list, or text separated
    by commas or spaces), each in ``allowed``; None when not given."""
    def validator(value: Any) -> list[str] | None:
        value = given(value)
        if value in (None, "", []):
            return None
        if isinstance(value, str):
            items = value.replace(",", " ").split()
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = value
        else:  # a number, a boolean, an object, a list of anything but text
            raise tk.Invalid(bi(f"状态须为文本或文本列表：{value!r}"[:200],
                                f"status must be text or a list of text: {value!r}"[:200]))
        bad = [str(v) for v in items if v not in allowed]
        if bad:
            raise tk.Invalid(bi(f"未知的状态：{'、'.join(bad)}", f"Unknown status: {', '.join(bad)}"))
        return [str(v) for v in items]
    return validator


def _truthy(value: Any) -> bool:
    return value is True or str(given(value)).lower() in ("true", "1", "yes", "on")


def _listing(data_dict: DataDict, statuses: Any) -> dict[str, Any]:
    """``status``, ``mine``, ``queue``, ``limit`` (≤ 100, default 50) and ``offset`` of a
    list action, each checked."""
    return validated(data_dict, {"status": [_statuses(statuses)], "mine": [_truthy],
                                 "queue": [_truthy],
                                 **paging.schema(default_limit=50, max_limit=100)})


# -- merchants ----------------------------------------------------------------------------------
def sanyi_merchant_register(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Register the caller as a merchant (数商), or update its profile.

    :param company_name: 企业名称
    :param credit_code: 统一社会信用代码 (18 characters, GB 32100-2015 check character)
    :param contact_name: 联系人
    :param contact_phone: 联系电话
    :param contact_email: 联系邮箱 (optional)
    :param enterprise_size: ``micro`` | ``small`` | ``medium`` | ``large``
    :param business_licence: 营业执照, a file (multipart/form-data): PDF, OFD, PNG or JPEG
        (optional; a new one replaces the last and is verified again)
    """
    tk.check_access("sanyi_merchant_register", context, data_dict)
    with refusals(context):
        row = merchants.register(require_user(context), data_dict)
    return merchants.as_dict(row)


def sanyi_merchant_verify(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Verify or reject a merchant (bureau).

    :param id: merchant id
    :param decision: ``approve`` | ``reject``
    :param comment: required to reject
    """
    tk.check_access("sanyi_merchant_verify", context, data_dict)
    with refusals(context):
        row = merchants.verify(require_user(context), _id(data_dict), data_dict.get("decision"),
                               data_dict.get("comment") or "")
    return merchants.as_dict(row)


@tk.side_effect_free
def sanyi_merchant_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A merchant profile: ``id``, or without it the caller's own (404 if none).

    :param id: merchant id (optional)
    """
    tk.check_access("sanyi_merchant_show", context, data_dict)
    with refusals(context, write=False):
        if data_dict.get("id"):
            row = merchants.get(_id(data_dict))
        else:
            row = access.merchant_for(require_user(context))
            if row is None:
                raise NotFound("id", "您还没有注册数商资料", "You have no merchant profile yet")
    return merchants.as_dict(row)


@tk.side_effect_free
def sanyi_merchant_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Merchants, newest first (bureau).

    :param status: ``pending`` | ``verified`` | ``rejected`` (optional; one, or several
        separated by commas)
    :param limit: ≤ 100 (default 50); :param offset: default 0
    :returns: ``{"count", "results"}``
    """
    tk.check_access("sanyi_merchant_list", context, data_dict)
    listing = _listing(data_dict, merchants.STATUS_TEXT)
    status = listing["status"]
    total, rows = merchants.list_merchants(status[0] if status else None, listing["limit"],
                                           listing["offset"])
    return {"count": total, "results": [merchants.as_dict(r) for r in rows]}


# -- applications -------------------------------------------------------------------------------
def sanyi_application_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Create a draft application (merchant).

    :param product: product name or id (listed)
    :param scenario: 应用场景; :param purpose: 使用目的
    :param use: ``public_interest`` (free) | ``industrial`` (charged)
    :param data_items: list of items from ``sanyi_application_data_items`` (最小必要)
    :param period_start: ISO date, today or later; :param period_end: ISO date, inclusive,
        shorter than ``ckanext.sanyi.max_term_years`` (default 5) years
    :param expected_volume: positive integer, counted in the billing unit
    :param billing_unit: ``call`` | ``record`` | ``copy`` | ``month`` | ``year`` (optional)
    :param quantity: what the fee is computed on (optional; defaults from expected_volume)
    :param attachment_upload: file(s) (multipart); :param attachment_urls: list of URLs
    """
    tk.check_access("sanyi_application_create", context, data_dict)
    user = require_user(context)
    with refusals(context):
        app = service.create(user, data_dict)
    return read.application_dict(app, user, detail=True)


def sanyi_application_update(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Change a draft or returned application (applicant); fields not sent keep their values.

    :param id: application id
    :param product: product name or id (listed)
    :param scenario: 应用场景; :param purpose: 使用目的
    :param use: ``public_interest`` (free) | ``industrial`` (charged)
    :param data_items: list of items from ``sanyi_application_data_items`` (最小必要)
    :param period_start: ISO date; :param period_end: ISO date, inclusive
    :param expected_volume: positive integer, counted in the billing unit
    :param billing_unit: ``call`` | ``record`` | ``copy`` | ``month`` | ``year`` (optional)
    :param quantity: what the fee is computed on (optional)
    :param attachment_upload: file(s) (multipart); :param attachment_urls: list of URLs
    :param remove_attachments: ids of attachments to remove (optional)
    :param version: the version the applicant saw (optional; refused with 409 if stale)
    """
    tk.check_access("sanyi_application_update", context, data_dict)
    user = require_user(context)
    with refusals(context):
        app = service.update(user, _id(data_dict), data_dict)
    return read.application_dict(app, user, detail=True)


def sanyi_application_submit(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Submit a draft or returned application for review (applicant; merchant verified).

    :param id: application id
    """
    tk.check_access("sanyi_application_submit", context, data_dict)
    user = require_user(context)
    with refusals(context):
        app = service.submit(user, _id(data_dict))
    return read.application_dict(app, user, detail=True)


def sanyi_application_review(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """A review decision by a data unit (in unit review) or the bureau (in bureau review).

    :param id: application id
    :param decision: ``approve`` | ``reject`` | ``return``
    :param comment: required to reject or return
    :param organization: the data unit (organisation name or id) acted for, only if the
        caller edits several
    :param version: the version the reviewer saw (optional; refused with 409 if stale)
    """
    tk.check_access("sanyi_application_review", context, data_dict)
    user = require_user(context)
    with refusals(context):
        app = service.review(user, _id(data_dict), data_dict.get("decision"),
                             data_dict.get("comment"), unit=data_dict.get("organization") or None,
                             version=data_dict.get("version"))
    return read.application_dict(app, user, detail=True)


def sanyi_application_withdraw(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Withdraw an application before a decision (applicant).

    :param id: application id
    :param reason: optional
    """
    tk.check_access("sanyi_application_withdraw", context, data_dict)
    user = require_user(context)
    with refusals(context):
        app = service.withdraw(user, _id(data_dict), data_dict.get("reason"))
    return read.application_dict(app, user, detail=True)


@tk.side_effect_free
def sanyi_application_show(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """An application with its data items, attachments, reviews, entitlement, trace and the
    events the caller may fire now (``allowed_events``).

    :param id: application id
    """
    tk.check_access("sanyi_application_show", context, data_dict)
    with refusals(context, write=False):
        app = service.get(_id(data_dict))
    return read.application_dict(app, _viewer(context), detail=True)


@tk.side_effect_free
def sanyi_application_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Applications the caller may see, newest change first.

    :param status: one status or several (list or comma separated)
    :param queue: true → only those waiting for the caller's action
    :param mine: true → only the caller's own (as applicant)
    :param product: product name or id
    :param limit: ≤ 100 (default 50); :param offset: default 0
    """
    tk.check_access("sanyi_application_list", context, data_dict)
    user = require_user(context)
    listing = _listing(data_dict, {s.value for s in Status})
    total, rows = read.list_applications(user, status=listing["status"], queue=listing["queue"],
                                         mine=listing["mine"],
                                         product=data_dict.get("product") or None,
                                         limit=listing["limit"], offset=listing["offset"])
    return {"count": total, "results": [read.application_dict(r) for r in rows]}


@tk.side_effect_free
def sanyi_application_data_items(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """What an application for a product may request (public): the data items, the data
    units that review it and the maximum term.

    :param product: product name or id
    :returns: ``{"product", "data_items": [{"key", "resource", "resource_title", "field",
        "organization", "organization_title", ...}], "required_units", "max_term_years"}``
    """
    tk.check_access("sanyi_application_data_items", context, data_dict)
    with refusals(context, write=False):
        pkg = products.load_listed(data_dict.get("product"), context)  # 404 unless visible
        options = products.item_options(pkg, context)
    return {"product": {"id": pkg["id"], "name": pkg["name"], "title": pkg.get("title"),
                        "category": pkg.get("category")},
            "data_items": options, "required_units": products.required_units(pkg, options),
            "max_term_years": intake.max_term_years()}


# -- entitlements -------------------------------------------------------------------------------
@tk.side_effect_free
def sanyi_entitlement_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Entitlements the caller may see (merchant: its own; data unit: using its data; bureau:
    all).

    :param status: ``active`` | ``suspended`` | ``expired`` | ``revoked`` (optional)
    :param mine: true → only the caller's own
    :param limit: ≤ 100 (default 50); :param offset: default 0
    :returns: ``{"count", "results"}``
    """
    tk.check_access("sanyi_entitlement_list", context, data_dict)
    listing = _listing(data_dict, {"active", "suspended", "expired", "revoked"})
    total, rows = read.list_entitlements(require_user(context), status=listing["status"],
                                         mine=listing["mine"], limit=listing["limit"],
                                         offset=listing["offset"])
    return {"count": total, "results": rows}


def _change(op: str, context: Context, data_dict: DataDict) -> dict[str, Any]:
    tk.check_access(f"sanyi_entitlement_{op}", context, data_dict)
    user = require_user(context)
    if not data_dict.get("id") and not (op == "revoke" and data_dict.get("application_id")):
        raise tk.ValidationError({"id": [bi("必填项", "Missing value")]})
    with refusals(context):
        out = lifecycle.change(user, op, entitlement_id=data_dict.get("id") or None,
                               application_id=data_dict.get("application_id") or None,
                               reason=data_dict.get("reason"))
    return {"application": read.application_dict(out["application"], user),
            "entitlement": entitlements.as_dict(out["entitlement"])
            if out["entitlement"] else None, "refund": out["refund"]}


def sanyi_entitlement_suspend(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Suspend an entitlement (bureau).

    :param id: entitlement id
    :param reason: required
    """
    return _change("suspend", context, data_dict)


def sanyi_entitlement_resume(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Resume a suspended entitlement (bureau).

    :param id: entitlement id
    """
    return _change("resume", context, data_dict)


def sanyi_entitlement_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke an entitlement, or an approved application before its entitlement (bureau). A
    paid application is refunded by payments.

    :param id: entitlement id, or :param application_id: an application awaiting payment or
        paid, with no entitlement yet
    :param reason: required
    """
    return _change("revoke", context, data_dict)
