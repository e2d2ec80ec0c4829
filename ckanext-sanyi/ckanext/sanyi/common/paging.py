"""Paging of list actions and pages: ``limit`` and ``offset`` checked once, the same way."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ckan.plugins.toolkit as tk

from .i18n_text import bi

__all__ = ["MAX_OFFSET", "limit_offset", "page_number"]

MAX_OFFSET = 10**9


def limit_offset(data_dict: Mapping[str, Any], *, default_limit: int, max_limit: int,
                 max_offset: int = MAX_OFFSET) -> tuple[int, int]:
    """``(limit, offset)`` from an action's input, each capped; a value that is not a
    non-negative whole number (a float, a boolean, "x", -1) is a field error (409)."""
    errors: dict[str, list[str]] = {}
    out = []
    for key, default, top in (("limit", default_limit, max_limit), ("offset", 0, max_offset)):
        raw = data_dict.get(key, default)
        try:
            if isinstance(raw, (bool, float)):
                raise ValueError
            value = int(raw)
            if value < 0:
                raise ValueError
            out.append(min(value, top))
        except (TypeError, ValueError):
            errors[key] = [bi(f"{key} 须为非负整数", f"{key} must be a non-negative integer")]
    if errors:
        raise tk.ValidationError(errors)
    return out[0], out[1]


def page_number(value: Any) -> int:
    """A page's ``?page=`` number (1 when missing or not a positive whole number)."""
    try:
        return max(1, int(value if value is not None else 1))
    except (TypeError, ValueError):
        return 1
