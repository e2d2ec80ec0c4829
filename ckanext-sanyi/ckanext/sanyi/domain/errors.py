"""Typed domain errors carrying the offending field and a bilingual message."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DomainError", "NotFound", "Invalid", "Errors"]

T = TypeVar("T")


class DomainError(Exception):
    """A value or request the domain refuses.

    ``field`` names the input at fault (e.g. ``'credit_code'``); ``zh`` and ``en``
    are user-facing messages in Chinese and English.
    """

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(field, zh, en)
        self.field = field
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return f"{self.field}: {self.en} / {self.zh}"

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` ('zh' or anything else for English)."""
        return self.zh if lang.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready form: ``{'field', 'zh', 'en'}``."""
        return {"field": self.field, "zh": self.zh, "en": self.en}


class Invalid(Exception):
    """Several fields are bad: ``errors`` maps field → DomainErrors (HTTP 409)."""

    def __init__(self, errors: Errors | dict[str, list[DomainError]]) -> None:
        self.errors = errors.items if isinstance(errors, Errors) else errors
        super().__init__(sorted(self.errors))


class NotFound(DomainError):
    """The application, merchant or entitlement does not exist (HTTP 404)."""


class Errors:
    """Field → messages, gathered so that every bad field is reported at once."""

    def __init__(self) -> None:
        self.items: dict[str, list[DomainError]] = {}

    def add(self, err: DomainError) -> None:
        self.items.setdefault(err.field, []).append(err)

    def take(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        try:
            return parse(*args, **kwargs)
        except DomainError as err:
            self.add(err)
            return None

    def __bool__(self) -> bool:
        return bool(self.items)

    def __contains__(self, field: str) -> bool:
        return field in self.items

    def check(self) -> None:
        """Raise :class:`Invalid` when anything was collected."""
        if self.items:
            raise Invalid(self)
