"""Chinese word segmentation for search (jieba), shared by every backend.

Index text with the search mode (``cut_for_search``: a long word and the shorter words
inside it, so 高血压 is indexed as 高血压 and 血压), and queries with the precise mode
(``cut``), so a query word is one token that the index contains. Pure Python.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from functools import lru_cache

import jieba

log = logging.getLogger(__name__)

_DICT = os.path.join(os.path.dirname(__file__), "userdict.txt")
_lock = threading.Lock()
_ready = False
# keep letters, digits and CJK; everything else separates tokens
_WORD = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _init() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        if os.path.exists(_DICT):
            jieba.load_userdict(_DICT)
        _ready = True


def _clean(tokens: list[str]) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        for piece in _WORD.findall(tok):
            out.append(piece.lower())
    return out


def index_tokens(text: str | None) -> list[str]:
    """Tokens to index for ``text``: words and the sub-words inside long words."""
    if not text:
        return []
    _init()
    return _clean(list(jieba.cut_for_search(text)))


@lru_cache(maxsize=4096)
def query_tokens(text: str) -> tuple[str, ...]:
    """Tokens a query must match (all of them), in order, without duplicates."""
    _init()
    seen: dict[str, None] = {}
    for tok in _clean(list(jieba.cut(text))):
        seen.setdefault(tok, None)
    return tuple(seen)
