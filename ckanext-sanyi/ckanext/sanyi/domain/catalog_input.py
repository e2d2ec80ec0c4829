"""What clerks type into a catalog import file, read leniently. Pure: no CKAN import.

* :func:`fold` — NFKC for cells whose meaning survives it (codes, choices, lists, dates,
  unit names, headers): full-width letters, digits and ASCII punctuation become their plain
  forms (``ＡＰＩ`` → ``API``, ``２０２６－１１－０１`` → ``2026-11-01``), the ideographic
  space a space. Titles and descriptions are never folded (a title is part of a resource's
  identity, and ``（`` is not ``(`` to the reader).
* :func:`split_list` — a list cell separated by ``、 ， , ; ；`` (or new lines).
* :func:`parse_date` — ``2026-11-01``, ``2026/11/01``, ``2026.11.01``, ``2026年11月1日``,
  ``20261101``; anything else raises :class:`DomainError` with the accepted forms.
* :func:`header_row` — which of the first rows is the header (a title row may sit above it).
* :func:`closest` — the closest names to a misspelt unit (difflib on characters, plus
  names that contain it or that it contains).
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

from .errors import DomainError

__all__ = ["fold", "clean_text", "split_list", "parse_date", "header_row", "header_key",
           "closest", "LIST_SEPARATORS", "HEADER_SCAN_ROWS"]

LIST_SEPARATORS = "、，,;；\n"
_SPLIT = re.compile(r"[、，,;；\r\n]+")
_DATE_FORMS = (
    re.compile(r"^(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_TIME = re.compile(r"^(.*\d)\s*[T ]\s*\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
HEADER_SCAN_ROWS = 5  # a header further down than this is not looked for


def clean_text(value: str) -> str:
    """Strip spaces at both ends, the ideographic space (U+3000) and the BOM included."""
    return value.replace("\ufeff", "").strip(" \t\r\n\u3000\u00a0")


def fold(value: str) -> str:
    """NFKC-normalise and strip ``value`` (see the module docstring for where it is safe)."""
    return clean_text(unicodedata.normalize("NFKC", value))


def split_list(value: str) -> list[str]:
    """The items of a list cell, folded, blanks dropped, order and duplicates kept."""
    return [item for item in (fold(p) for p in _SPLIT.split(value or "")) if item]


def parse_date(value: str, field: str = "last_updated") -> dt.date:
    """A date in one of the forms clerks type (full-width digits accepted).

    Raises ``DomainError(field, zh, en)`` for anything else or an impossible date.
    """
    text = fold(value)
    timed = _TIME.match(text)  # a spreadsheet's datetime: keep its date part
    if timed:
        text = timed.group(1)
    for form in _DATE_FORMS:
        m = form.match(text)
        if m:
            try:
                return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                break
    raise DomainError(field, f"日期格式无效“{value}”（应为 2026-11-01、2026/11/01 或 2026年11月1日）",
                      f"Invalid date '{value}' (use 2026-11-01, 2026/11/01 or 2026年11月1日)")


def header_key(cell: object, known: dict[str, str]) -> str | None:
    """The canonical key of a header cell: folded, spaces and required marks (``*``) removed,
    English aliases case-insensitive."""
    text = fold(str(cell or "")).replace(" ", "").strip("*")
    return known.get(text) or known.get(text.lower())


def header_row(rows: Sequence[Sequence[object]], known: dict[str, str],
               required: Iterable[str]) -> int:
    """Index (0-based) among ``rows`` (the first rows of a file) of the header: the first
    row holding every ``required`` key, else the first holding two known headers, else 0."""
    need = set(required)
    fallback = None
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        keys = {header_key(c, known) for c in row} - {None}
        if need <= keys:
            return i
        if fallback is None and len(keys) >= 2:
            fallback = i
    return fallback if fallback is not None else 0


def closest(name: str, candidates: Iterable[str], n: int = 3,
            key: Callable[[str], str] = fold) -> list[str]:
    """Up to ``n`` of ``candidates`` closest to ``name``: those containing it or contained in
    it first (shortest first), then difflib's ratio over the folded characters (≥ 0.4)."""
    target = key(name)
    pool = list(dict.fromkeys(c for c in candidates if c))
    if not target or not pool:
        return []
    inside = sorted((c for c in pool if target in key(c) or key(c) in target),
                    key=lambda c: (abs(len(key(c)) - len(target)), c))
    scored = sorted(((difflib.SequenceMatcher(None, target, key(c)).ratio(), c) for c in pool
                     if c not in inside), key=lambda t: (-t[0], t[1]))
    out = inside + [c for r, c in scored if r >= 0.4]
    return out[:n]
