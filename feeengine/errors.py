"""Typed errors of the fee engine: each names the field at fault and says why in Chinese and English.

``PricingError`` is a :class:`ckanext.sanyi.domain.errors.DomainError` (``field``, ``zh``, ``en``,
``message()``, ``as_dict()``), so the extension maps every refusal to HTTP the same way. The
domain package is pure Python too: this package never imports CKAN code.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ckanext.sanyi.domain.errors import DomainError

if TYPE_CHECKING:  # pragma: no cover
    from .ceiling import CeilingViolation

__all__ = ["PricingError", "UseNotAllowed", "CeilingExceeded"]


class PricingError(DomainError, ValueError):
    """An input the engine refuses.

    ``field`` names the input at fault: ``'use'``, ``'unit'``, ``'quantity'``, ``'date'``,
    ``'price'``, ``'bands[1].upto'``, ...; ``zh`` and ``en`` are user-facing messages.
    """

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
