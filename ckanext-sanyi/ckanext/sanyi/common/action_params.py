"""The parameters of the ``sanyi_*`` actions, read from their docstrings, and the refusal of
any other parameter sent through the Action API.

An action's docstring is its contract: every ``:param name: text`` field (several names may
share one field, ``:param date_from, date_to: ...``; several fields may share a line, separated
by ``;``) is a parameter it accepts, ``:returns: text`` what it answers. :func:`describe` gives
them to the OpenAPI document (``apidoc``), :func:`strict` wraps an action so that a call
through ``/api/3/action/<name>`` naming a parameter the docstring does not list is a
``tk.ValidationError`` (409) on that parameter, "中文 / English", before anything else is
checked (authorization included); the CSRF token's form field is not a parameter. Internal
calls (pages, other actions) are not checked: they pass form data that is theirs to filter.
"""
from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import ckan.plugins.toolkit as tk

from .i18n_text import bi

__all__ = ["ActionDoc", "describe", "strict", "unknown_parameters", "MAX_REPORTED"]

MAX_REPORTED = 20  # unknown parameters named in one refusal at most
_FIELD = re.compile(r":(param|returns?)\b([^:]*):")


@dataclass(frozen=True)
class ActionDoc:
    """What an action's docstring says: its first paragraph, the rest, each parameter's text
    (in the docstring's order) and what it returns."""

    name: str
    summary: str
    description: str
    params: dict[str, str] = field(default_factory=dict)
    returns: str = ""


def _squash(text: str) -> str:
    return " ".join(text.split())


def describe(name: str, action: Callable[..., Any]) -> ActionDoc:
    """The :class:`ActionDoc` of ``action`` (registered as ``name``)."""
    doc = inspect.getdoc(action) or ""
    first = _FIELD.search(doc)
    prose = doc[:first.start()] if first else doc
    paragraphs = [_squash(p) for p in prose.strip().split("\n\n") if p.strip()]
    params: dict[str, str] = {}
    returns: list[str] = []
    matches = list(_FIELD.finditer(doc))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(doc)
        text = doc[match.end():end]
        text = text.split("\n\n")[0]  # a blank line ends the field
        text = _squash(text).rstrip(";").strip()
        if match.group(1) == "param":
            for pname in match.group(2).split(","):
                pname = pname.strip()
                if pname:
                    params.setdefault(pname, text)
        else:
            returns.append(text)
    tail = doc[matches[-1].end():] if matches else ""
    after = [_squash(p) for p in tail.split("\n\n")[1:] if p.strip()]
    return ActionDoc(name=name, summary=paragraphs[0] if paragraphs else name,
                     description=" ".join(paragraphs[1:] + after), params=params,
                     returns=" ".join(returns))


def unknown_parameters(data_dict: Any, allowed: frozenset[str]) -> dict[str, list[str]]:
    """The error dict naming each key of ``data_dict`` not in ``allowed`` (empty if none)."""
    if not isinstance(data_dict, dict):
        return {}
    unknown = [k for k in data_dict if k not in allowed]
    known = "、".join(sorted(allowed)) or "—"
    known_en = ", ".join(sorted(allowed)) or "none"
    errors: dict[str, list[str]] = {}
    for key in unknown[:MAX_REPORTED]:
        shown = str(key)[:100]
        errors[shown] = [bi(f"未知参数“{shown}”；可用参数：{known}",
                            f"unknown parameter '{shown}'; accepted: {known_en}")]
    return errors


def _through_api(name: str) -> bool:
    from flask import has_request_context, request
    if not has_request_context() or request.endpoint != "api.action":
        return False
    return (request.view_args or {}).get("logic_function") == name


def strict(name: str, action: Callable[..., Any]) -> Callable[..., Any]:
    """``action`` refusing, when called through the Action API as ``name``, any parameter
    its docstring does not list (409 naming each one)."""
    allowed = frozenset(describe(name, action).params)

    @functools.wraps(action)
    def checked(context: Any, data_dict: Any = None) -> Any:
        if _through_api(name):
            # a form posted with the session cookie carries its CSRF token as a field
            csrf_field = str(tk.config.get("WTF_CSRF_FIELD_NAME") or "_csrf_token")
            sent = {k: v for k, v in (data_dict or {}).items() if k != csrf_field} \
                if isinstance(data_dict, dict) else data_dict
            errors = unknown_parameters(sent, allowed)
            if errors:
                raise tk.ValidationError(errors)
        return action(context, data_dict)

    checked.sanyi_parameters = allowed  # type: ignore[attr-defined]
    return checked
