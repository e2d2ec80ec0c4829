"""Paging of list actions and pages, one way for all of them.

``limit`` and ``offset`` are non-negative whole numbers (JSON numbers or their text; floats,
booleans and anything else refused). An offset past :data:`MAX_OFFSET` is refused; a limit
is lowered to the list's own maximum (at most :data:`MAX_LIMIT`), and refused past
:data:`MAX_OFFSET`. Each refusal is a field error in Chinese and English that states the
value or the bound. :func:`schema` gives the two navl validators, :func:`page` reads a
:class:`Page` from an action's input, :func:`numbered` one from a page's ``?page=``.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ckan.plugins.toolkit as tk

from .i18n_text import bi
from .schema import Schema, Validator, given, validated

__all__ = ["MAX_OFFSET", "MAX_LIMIT", "Page", "whole", "limit", "offset", "schema", "page",
           "page_number", "numbered"]

MAX_OFFSET = 10**6  # rows a paged list skips at most
MAX_LIMIT = 1000  # rows a list returns at most
_INT = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Page:
    """Which rows of a list: ``limit`` rows after the first ``offset``."""

    limit: int
    offset: int


def whole(value: Any, default: int, top: int) -> int:
    """A non-negative whole number (``default`` when not given), at most ``top``;
    ``tk.Invalid`` otherwise."""
    value = given(value)
    if value is None or value == "":
        return default
    if isinstance(value, str) and _INT.match(value.strip()):
        number = int(value.strip())
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise tk.Invalid(bi(f"须为非负整数：{value!r}", f"must be a non-negative integer: {value!r}"))
    if number < 0:
        raise tk.Invalid(bi(f"须为非负整数：{number}", f"must be a non-negative integer: {number}"))
    if number > top:
        raise tk.Invalid(bi(f"数值过大：{number}（上限 {top}）", f"too large: {number} (at most {top})"))
    return number


def limit(default: int, top: int = MAX_LIMIT) -> Validator:
    """The validator of ``limit``: ``default`` when not given, lowered to ``top``."""
    def validator(value: Any) -> int:
        return min(whole(value, default, MAX_OFFSET), top, MAX_LIMIT)
    return validator


def offset(value: Any) -> int:
    """The validator of ``offset``: 0 when not given, at most :data:`MAX_OFFSET`."""
    return whole(value, 0, MAX_OFFSET)


def schema(*, default_limit: int, max_limit: int = MAX_LIMIT) -> Schema:
    """``limit`` and ``offset`` of a list action, to merge into its schema."""
    return {"limit": [limit(default_limit, max_limit)], "offset": [offset]}


def page(data_dict: Mapping[str, Any], *, default_limit: int,
         max_limit: int = MAX_LIMIT) -> Page:
    """The :class:`Page` an action's input asks for; ``tk.ValidationError`` naming
    ``limit`` and/or ``offset`` otherwise."""
    data = validated(data_dict, schema(default_limit=default_limit, max_limit=max_limit))
    return Page(data["limit"], data["offset"])


def page_number(value: Any) -> int:
    """A page's ``?page=`` number (1 when missing or not a positive whole number)."""
    try:
        return max(1, int(value if value is not None else 1))
    except (TypeError, ValueError):
        return 1


def numbered(value: Any, per_page: int) -> tuple[int, Page]:
    """The page number of ``?page=`` and its rows; past :data:`MAX_OFFSET` the offset stays
    there (an empty page, not an error)."""
    number = page_number(value)
    return number, Page(per_page, min((number - 1) * per_page, MAX_OFFSET))
