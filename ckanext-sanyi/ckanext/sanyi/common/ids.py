"""Ids and names from callers, checked before they reach SQL.

An id arrives from JSON (any type), a query string or a URL. PostgreSQL refuses text with NUL
(``ValueError`` in psycopg2) and text that is not valid UTF-8 (a lone surrogate such as
``"\\ud800"`` cannot be encoded); a list or a dict compared with a text column is an SQL
error. :func:`clean_id` turns all of these into a field error (``tk.ValidationError`` → 409)
before any query is built.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins.toolkit as tk

from .i18n_text import bi

__all__ = ["MAX_ID_LENGTH", "clean_id", "id_problem", "optional_id"]

MAX_ID_LENGTH = 200  # uuids are 36, names at most 100; anything longer matches nothing


def id_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable id ("中文 / English"), or None when it is."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return bi("必填项", "Missing value")
    if not isinstance(value, str):
        return bi(f"须为文本标识，不能是 {type(value).__name__}",
                  f"must be a text id, not {type(value).__name__}")
    if "\x00" in value:
        return bi("标识不能包含 NUL 字符", "an id must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return bi("标识包含无效字符（孤立的代理项）",
                  "the id contains an invalid character (a lone surrogate)")
    if len(value) > MAX_ID_LENGTH:
        return bi(f"标识过长（最多 {MAX_ID_LENGTH} 个字符）",
                  f"the id is too long ({MAX_ID_LENGTH} characters at most)")
    return None


def clean_id(value: Any, field: str = "id") -> str:
    """``value`` stripped, if it is a usable id; otherwise ``tk.ValidationError`` naming
    ``field`` (missing, not text, NUL, lone surrogate, longer than :data:`MAX_ID_LENGTH`)."""
    problem = id_problem(value)
    if problem is not None:
        raise tk.ValidationError({field: [problem]})
    return value.strip()


def optional_id(value: Any) -> Any:
    """A navl validator: None when not given (nor empty), else ``value`` if it is a usable
    id; ``tk.Invalid`` with :func:`id_problem`'s reason otherwise."""
    if value is tk.missing or not value:
        return None
    problem = id_problem(value)
    if problem is not None:
        raise tk.Invalid(problem)
    return value
