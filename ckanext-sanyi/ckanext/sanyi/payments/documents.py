"""What a merchant is shown to pay and keeps once paid: the payee's bank account for a transfer
(对公转账), the receipt of a paid order and the authorization letter (授权书) of its entitlement.

The bank account comes from configuration (``ckanext.sanyi.payee.*``); the payee's name
defaults to the operator's organisation title. Online payment is offered only when Stripe is
configured (both keys set). The documents are printable pages (the browser's own print or
save as PDF), shown to whoever may see the order (its merchant, the operator, the bureau).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..common import roles

__all__ = ["BankAccount", "bank_account", "online_payment_configured", "DOCUMENT_STATUSES",
           "order_reference"]

#: statuses of an order that was paid (a refunded order keeps its receipt)
DOCUMENT_STATUSES = frozenset({"paid", "refunded"})


@dataclass(frozen=True)
class BankAccount:
    """The account a merchant transfers to: 户名, 开户行, 账号."""
    account_name: str
    bank_name: str
    account_number: str


def _operator_title() -> str:
    group = model.Group.get(roles.operator_org())
    return group.title if group is not None and group.title else ""


def payee_name() -> str:
    return str(tk.config.get("ckanext.sanyi.payee.account_name") or _operator_title())


def bank_account() -> BankAccount | None:
    """The configured receiving account, or None while its bank or number is not set."""
    bank = str(tk.config.get("ckanext.sanyi.payee.bank_name") or "").strip()
    number = str(tk.config.get("ckanext.sanyi.payee.account_number") or "").strip()
    if not bank or not number:
        return None
    return BankAccount(payee_name(), bank, number)


def online_payment_configured() -> bool:
    return bool(tk.config.get("ckanext.sanyi.stripe.secret_key")
                and tk.config.get("ckanext.sanyi.stripe.publishable_key"))


def order_reference(order: dict[str, Any]) -> str:
    """What the merchant quotes on a transfer: the order's human number where it has one."""
    return str(order.get("human_ref") or order["id"])
