"""Bilingual messages: every user-facing error carries Chinese and English."""
from __future__ import annotations

import re


def bi(zh: str, en: str) -> str:
    """One message in both languages, Chinese first: ``"必填 / Missing value"``."""
    return f"{zh} / {en}"


MISSING = bi("必填项", "Missing value")


_LABELLED = re.compile(r"^(?P<zh>[\u3400-\u9fff]{1,16}) / (?P<en>[A-Za-z][A-Za-z ()'-]{0,40}): "
                       r"(?P<rest>.*)$", re.S)


def half(message: str, zh: bool) -> str:
    """A bilingual "中文 / English" message cut to one language; a one-language message as it is."""
    zh_part, sep, en_part = message.partition(" / ")
    return zh_part if zh or not sep else en_part


def reason_text(text: str, zh: bool) -> str:
    """A bilingual row reason in one language. Reasons are parts joined by " | ", each either
    a message ``"中文 / English"`` or a field's messages ``"数源单位 / Source unit: 中文 / English;
    中文 / English"``: the field label and each message are cut to the half the page speaks."""
    parts = []
    for part in str(text or "").split(" | "):
        labelled = _LABELLED.match(part)
        if labelled is None:
            parts.append(half(part, zh))
            continue
        pieces: list[str] = []  # "; " joins messages, and may be inside an English one
        for piece in labelled["rest"].split("; "):
            if " / " in piece or not pieces:
                pieces.append(piece)
            else:
                pieces[-1] += "; " + piece
        messages = [half(m, zh) for m in pieces]
        label = labelled["zh"] if zh else labelled["en"]
        parts.append(f"{label}：{'；'.join(messages)}" if zh
                     else f"{label}: {'; '.join(messages)}")
    return ("；" if zh else "; ").join(parts)
