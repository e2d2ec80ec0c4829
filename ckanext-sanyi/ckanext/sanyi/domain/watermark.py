"""Watermarked, desensitized samples (脱敏样例): the marker of one viewer's sample, the
viewer's choice and order of rows, and the masking of a row by its field list.

* :func:`marker` is a keyed HMAC-SHA256 over (user id, resource id, date): the same viewer sees
  the same marker for a resource all day; another viewer, resource or day gives another. Only
  the holder of the key can make one, so a marker found in a leaked copy is looked up in the
  record of views (who, which resource, when) and checked by recomputing it.
* :func:`choose` orders candidate rows by an HMAC of the marker over each row's key and keeps
  the first ``limit``: the choice and order of rows depend on the viewer too, so two viewers'
  copies differ even without the 水印 column. :func:`blocks` picks the table blocks a draw
  reads from, seeded by the marker.
* :func:`desensitize` masks one row with :mod:`.masking`: a field whose Chinese name
  :func:`~.masking.classify_field` recognises is masked by its kind (whether or not the field
  list marks it sensitive); a sensitive field of no known kind is masked entirely.
  :func:`sample_rows` adds the visible 水印 column.

Pure: no CKAN, Flask or SQLAlchemy import, no randomness other than seeded by the marker.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TypeVar

from .masking import MASK, classify_field, mask_value

__all__ = ["MARKER_PREFIX", "WATERMARK_FIELD", "FULL_MASK", "SAMPLE_LIMIT", "marker",
           "normalize_marker", "seed", "rank", "choose", "blocks", "display", "desensitize",
           "sample_rows"]

MARKER_PREFIX = "SY"
WATERMARK_FIELD = "水印"
FULL_MASK = MASK * 6  # a sensitive value of no known kind: nothing of it, not even its length
SAMPLE_LIMIT = 20
_BODY = 16  # hex digits of the marker: 64 bits
_HEX = re.compile(r"^[0-9A-F]{16}$")

Row = TypeVar("Row")


def _key(key: bytes | str) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8")
    if not key:
        raise ValueError("a watermark key is required")
    return key


def marker(key: bytes | str, user_id: str, resource_id: str, day: dt.date) -> str:
    """``SY-XXXX-XXXX-XXXX-XXXX``: the marker of ``user_id``'s sample of ``resource_id`` on
    ``day`` (the viewer's date, Asia/Shanghai)."""
    if not user_id or not resource_id:
        raise ValueError("user_id and resource_id are required")
    message = f"sample\x1f{user_id}\x1f{resource_id}\x1f{day.isoformat()}".encode()
    body = hmac.new(_key(key), message, hashlib.sha256).hexdigest().upper()[:_BODY]
    return "-".join([MARKER_PREFIX, *(body[i:i + 4] for i in range(0, _BODY, 4))])


def normalize_marker(text: object) -> str | None:
    """The canonical form of a marker as someone may copy it (any case, with or without the
    ``SY`` prefix, dashes or spaces); None when ``text`` is not one."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    body = re.sub(r"[\s\-_·]", "", text).upper()
    if body.startswith(MARKER_PREFIX):
        body = body[len(MARKER_PREFIX):]
    if not _HEX.match(body):
        return None
    return "-".join([MARKER_PREFIX, *(body[i:i + 4] for i in range(0, _BODY, 4))])


def seed(mark: str) -> int:
    """A 32-bit seed from the marker (for seeded draws)."""
    return int(mark.replace("-", "")[len(MARKER_PREFIX):len(MARKER_PREFIX) + 8], 16)


def rank(mark: str, row_key: object) -> str:
    """The place of a row (by its key) in ``mark``'s sample: an HMAC, compared as text."""
    return hmac.new(mark.encode(), str(row_key).encode("utf-8"), hashlib.sha256).hexdigest()


def choose(mark: str, rows: Iterable[Row], key_of: Callable[[Row], object],
           limit: int = SAMPLE_LIMIT) -> list[Row]:
    """At most ``limit`` of ``rows`` (distinct keys), in ``mark``'s order."""
    unique: dict[str, Row] = {}
    for row in rows:
        unique.setdefault(str(key_of(row)), row)
    ordered = sorted(unique.items(), key=lambda item: rank(mark, item[0]))
    return [row for _, row in ordered[:max(0, limit)]]


def blocks(mark: str, n_blocks: int, count: int) -> list[tuple[int, int]]:
    """``count`` distinct block numbers below ``n_blocks`` (all when fewer), each with a line
    offset in 1..32 to start from, seeded by the marker."""
    rnd = random.Random(seed(mark))
    chosen = rnd.sample(range(max(0, n_blocks)), min(max(0, count), max(0, n_blocks)))
    return [(b, rnd.randint(1, 32)) for b in chosen]


def display(value: object) -> str:
    """A value as a sample shows it: dates ISO, decimals as written, None as ""."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def desensitize(row: Mapping[str, object], fields: Sequence[tuple[str, bool]]) -> dict[str, str]:
    """The masked row, keyed by the Chinese field names of ``fields`` (``(name, sensitive)``
    in the field list's order); ``row`` is keyed by the same names. A field of ``row`` not in
    ``fields`` is left out: only described fields are shown."""
    out: dict[str, str] = {}
    for name, sensitive in fields:
        value = row.get(name)
        kind = classify_field(name)
        if value is None or value == "":
            out[name] = ""
        elif kind is not None:
            out[name] = display(mask_value(value, kind))
        elif sensitive:
            out[name] = FULL_MASK
        else:
            out[name] = display(value)
    return out


def sample_rows(rows: Iterable[Mapping[str, object]], fields: Sequence[tuple[str, bool]],
                mark: str) -> list[dict[str, str]]:
    """Each row desensitized, with the marker in the visible :data:`WATERMARK_FIELD` column."""
    return [{**desensitize(row, fields), WATERMARK_FIELD: mark} for row in rows]
