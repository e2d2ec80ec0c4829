"""Typed errors of the fee engine: each names the field at fault and says why in Chinese and English.

The interface mirrors ``ckanext.sanyi.domain.errors.DomainError`` (``field``, ``zh``, ``en``,
``message()``, ``as_dict()``) without importing it: this package never imports CKAN code.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .ceiling import CeilingViolation

__all__ = ["PricingError", "UseNotAllowed", "CeilingExceeded"]


class PricingError(ValueError):
    """An input the engine refuses.

    ``field`` names the input at fault: ``'use'``, ``'unit'``, ``'quantity'``, ``'date'``,
    ``'price'``, ``'bands[1].upto'``, ...; ``zh`` and ``en`` are user-facing messages.
    """

    def __init__(self, field: str, zh: str, en: str) -> None:
        super().__init__(field, zh, en)
        self.field = field
        self.zh = zh
        self.en = en

    def __str__(self) -> str:
        return f"{self.field}: {self.en} / {self.zh}"

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` ('zh...' for Chinese, anything else for English)."""
        return self.zh if lang.lower().startswith("zh") else self.en

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form: ``{'field', 'zh', 'en'}``."""
        return {"field": self.field, "zh": self.zh, "en": self.en}

    def prefixed(self, prefix: str) -> PricingError:
        """The same error with ``prefix`` put before the field (``'bands[0]'`` + ``'price'``)."""
        return PricingError(f"{prefix}.{self.field}" if self.field else prefix, self.zh, self.en)


class UseNotAllowed(PricingError):
    """Refusal: industrial use of a public-interest product the bureau has not opened to it."""


class CeilingExceeded(PricingError):
    """Refusal: the operator's price exceeds the bureau's ceiling; ``violation`` says where."""

    def __init__(self, violation: CeilingViolation, zh: str, en: str, field: str = "price") -> None:
        super().__init__(field, zh, en)
        self.violation = violation
