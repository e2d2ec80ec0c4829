"""Typed domain errors carrying the offending field and a bilingual message."""
from __future__ import annotations

__all__ = ["DomainError"]


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
