"""Action inputs checked by navl schemas (``tk.navl_validate``), every field at once.

A schema maps each input key to its validators. :func:`parsed` makes a validator of a
parser that raises a :class:`~ckanext.sanyi.domain.errors.DomainError` (the fee engine's
``PricingError`` is one), so the parsers of ``pricing.params`` and ``applications.forms``
serve as validators with their messages unchanged. :func:`validated` runs a schema and
raises one ``tk.ValidationError`` (409) naming every bad field, "中文 / English".
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import ckan.plugins.toolkit as tk

from ..domain.errors import DomainError
from .i18n_text import bi

__all__ = ["Validator", "Schema", "validated", "parsed", "given"]

T = TypeVar("T")
Validator = Callable[..., Any]
Schema = dict[str, list[Validator]]


def given(value: Any) -> Any:
    """``value``, with navl's ``missing`` (a key not sent) read as None."""
    return None if value is tk.missing else value


def parsed(parse: Callable[..., T], *args: Any, **kwargs: Any) -> Callable[[Any], T]:
    """A validator: ``parse(value, *args, **kwargs)``; its ``DomainError`` is the field's
    error ("中文 / English"). A key not sent reaches ``parse`` as None."""
    def validator(value: Any) -> T:
        try:
            return parse(given(value), *args, **kwargs)
        except DomainError as err:
            raise tk.Invalid(bi(err.zh, err.en)) from None
    validator.__name__ = getattr(parse, "__name__", "parsed")
    return validator


def validated(data_dict: Mapping[str, Any], schema: Schema,
              context: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The value of every key of ``schema`` as its validators left it; keys not in
    ``schema`` are not returned. Any bad field: ``tk.ValidationError`` naming each one."""
    data, errors = tk.navl_validate(dict(data_dict), schema, dict(context or {}))
    if errors:
        raise tk.ValidationError(errors)
    return {key: given(data.get(key)) for key in schema}
