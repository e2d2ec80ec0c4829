"""Actions of API clients (:mod:`..clients`): create, list, rotate, revoke.

A client belongs to one entitlement of the caller's merchant. The secret is in the answer of
``sanyi_client_create`` and ``sanyi_client_rotate`` only (``client_secret``), never in a list
nor in an audit record. A bad field is a ``tk.ValidationError`` (409) naming it, in Chinese
and English; a client already revoked names ``status``; a caller who is not the merchant
holding the entitlement is 403; an unknown id 404. Every write is audited and commits with
its audit record, or not at all.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk
from ckan.types import Context, DataDict

from ...common import paging
from ...common.errors import refusals
from ...common.i18n_text import bi
from ...common.ids import clean_id
from ...common.user import require_user
from .. import clients
from ..model import CLIENT_STATUSES

__all__ = ["sanyi_client_create", "sanyi_client_list", "sanyi_client_rotate",
           "sanyi_client_revoke"]


def _with_secret(row: dict[str, Any], secret: str) -> dict[str, Any]:
    return dict(clients.as_dict(row), client_secret=secret,
                token_endpoint=tk.url_for("sanyi_delivery_oauth.token", _external=True))


def sanyi_client_create(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Create an API client of an active entitlement (the merchant holding it).

    :param entitlement_id: the entitlement (active, today within its period)
    :param name: a name for the client, unique among the entitlement's active clients
    :param scope: optional, space separated: ``<product_name>`` (every operation, the
        default) or ``<product_name>:<operation>`` scopes of the entitlement's product
    :returns: the client with ``client_id`` and ``client_secret`` (shown this once)
    """
    tk.check_access("sanyi_client_create", context, data_dict)
    entitlement_id = clean_id(data_dict.get("entitlement_id"), "entitlement_id")
    with refusals(context):
        row, secret = clients.create(require_user(context), entitlement_id,
                                     data_dict.get("name"), data_dict.get("scope"))
    return _with_secret(row, secret)


@tk.side_effect_free
def sanyi_client_list(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """API clients, newest first: a merchant's own; bureau and operator staff see all.
    Never a secret.

    :param entitlement_id: only this entitlement's (optional)
    :param status: active | revoked (optional)
    :param limit: ≤ 100 (default 50); :param offset: default 0
    """
    tk.check_access("sanyi_client_list", context, data_dict)
    entitlement_id = data_dict.get("entitlement_id")
    if entitlement_id not in (None, ""):
        entitlement_id = clean_id(entitlement_id, "entitlement_id")
    status = data_dict.get("status")
    if status in (None, ""):
        status = None
    elif status not in CLIENT_STATUSES:
        raise tk.ValidationError({"status": [bi(f"未知的状态：{str(status)[:50]}",
                                                f"Unknown status: {str(status)[:50]}")]})
    page = paging.page(data_dict, default_limit=50, max_limit=100)
    with refusals(context, write=False):
        total, rows = clients.list_clients(require_user(context),
                                           entitlement_id=entitlement_id or None, status=status,
                                           limit=page.limit, offset=page.offset)
    return {"count": total, "results": [clients.as_dict(r) for r in rows]}


def sanyi_client_rotate(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Replace a client's secret (the merchant holding its entitlement): the old secret and
    every token of the client stop at once.

    :param id: the client's id or its ``client_id``
    :returns: the client with the new ``client_secret`` (shown this once)
    """
    tk.check_access("sanyi_client_rotate", context, data_dict)
    client_ref = clean_id(data_dict.get("id"))
    with refusals(context):
        row, secret = clients.rotate(require_user(context), client_ref)
    return _with_secret(row, secret)


def sanyi_client_revoke(context: Context, data_dict: DataDict) -> dict[str, Any]:
    """Revoke a client and every token of it (the merchant holding its entitlement, or the
    bureau); final.

    :param id: the client's id or its ``client_id``
    :param reason: optional
    """
    tk.check_access("sanyi_client_revoke", context, data_dict)
    client_ref = clean_id(data_dict.get("id"))
    with refusals(context):
        row = clients.revoke(require_user(context), client_ref, data_dict.get("reason"))
    return clients.as_dict(row)
