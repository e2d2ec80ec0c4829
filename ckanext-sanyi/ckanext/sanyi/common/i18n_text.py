"""Bilingual messages: every user-facing error carries Chinese and English."""
from __future__ import annotations


def bi(zh: str, en: str) -> str:
    """One message in both languages, Chinese first: ``"必填 / Missing value"``."""
    return f"{zh} / {en}"


MISSING = bi("必填项", "Missing value")
