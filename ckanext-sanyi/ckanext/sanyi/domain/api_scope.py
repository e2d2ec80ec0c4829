"""Scopes of the delivery API's access tokens (pure: no CKAN, no database).

A client belongs to one entitlement, and an entitlement to one product. Its scopes are:

* ``<product_name>`` — every operation of the product (the default when none is asked for);
* ``<product_name>:<operation>`` — that operation only.

A scope string is space separated (RFC 6749 §3.3); each scope is ``NQCHAR`` text. A token
covers a call of ``operation`` of ``product_name`` when it holds the product's scope or that
operation's scope.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from .errors import DomainError

__all__ = ["parse", "allowed", "within", "covers", "MAX_SCOPES"]

MAX_SCOPES = 64
_SCOPE = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]{1,200}$")  # RFC 6749 scope-token (NQCHAR)


def parse(value: object, field: str = "scope") -> list[str]:
    """The scopes of a space-separated string (or a list of them), in order, without
    repeats; empty for None or "". :class:`DomainError` on anything else."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = value.split(" ")
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [part for v in value for part in v.split(" ")]
    else:
        raise DomainError(field, "权限范围须为以空格分隔的文本",
                          "scope must be text: scopes separated by spaces")
    out: list[str] = []
    for item in items:
        if not item:
            continue
        if not _SCOPE.match(item):
            raise DomainError(field, f"无效的权限范围：{item[:50]!r}",
                              f"Not a valid scope: {item[:50]!r}")
        if item not in out:
            out.append(item)
    if len(out) > MAX_SCOPES:
        raise DomainError(field, f"权限范围最多 {MAX_SCOPES} 项", f"At most {MAX_SCOPES} scopes")
    return out


def allowed(product_name: str, operations: Iterable[str]) -> list[str]:
    """Every scope an entitlement to ``product_name`` may grant: the product, then each
    operation."""
    return [product_name] + [f"{product_name}:{op}" for op in operations]


def within(requested: Iterable[str], granted: Collection[str], product_name: str) -> bool:
    """Are all ``requested`` scopes inside ``granted``? The product's scope grants each of its
    operations' scopes; an operation's scope grants only itself."""
    for scope in requested:
        if scope in granted:
            continue
        product, _, operation = scope.partition(":")
        if not (operation and product == product_name and product_name in granted):
            return False
    return True


def covers(scopes: Collection[str], product_name: str, operation: str) -> bool:
    """Does a token with ``scopes`` cover ``operation`` of ``product_name``?"""
    return product_name in scopes or f"{product_name}:{operation}" in scopes
