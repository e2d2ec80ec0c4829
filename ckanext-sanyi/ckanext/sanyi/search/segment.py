"""Chinese word segmentation for search (jieba), shared by every backend.

Index text so that every way a query can be cut finds it:

* the search mode (``cut_for_search``): the words of the precise cut and the shorter
  dictionary words inside them (高血压 -> 高血压, 血压);
* in the title (the field that decides relevance) also the full mode (``cut_all``: every
  dictionary word that occurs anywhere in it, even across the boundaries the precise cut
  chose) and every CJK character on its own (a one-character query, or a word jieba does
  not know). Other fields get the search mode only, which keeps the vector (read for every
  match when ranking) small.

Queries are cut with the precise mode *without* the HMM guesser, so a query token is either a
dictionary word (which the full mode has indexed wherever it occurs) or a single character
(indexed as a unigram). A query therefore finds every text that contains its words, whatever
segmentation the title got in its own context. Pure Python.
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
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


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


def _clean(tokens) -> list[str]:
    out: list[str] = []
    for tok in tokens:
        for piece in _WORD.findall(tok):
            out.append(piece.lower())
    return out


def is_cjk_char(token: str) -> bool:
    return len(token) == 1 and bool(_CJK.match(token))


def index_tokens(text: str | None, unigrams: bool = True) -> list[str]:
    """Tokens to index for ``text`` (distinct, in first-seen order). ``unigrams=False``
    (long descriptions: keeps the vector small) leaves out the single CJK characters and
    the full-mode words, keeping the search-mode words."""
    if not text:
        return []
    _init()
    seen: dict[str, None] = {}
    for tok in _clean(jieba.cut_for_search(text)):
        seen.setdefault(tok, None)
    if unigrams:
        for tok in _clean(jieba.cut(text, cut_all=True)):
            seen.setdefault(tok, None)
        for ch in _CJK.findall(text):
            seen.setdefault(ch, None)
    return list(seen)


@lru_cache(maxsize=4096)
def query_tokens(text: str) -> tuple[str, ...]:
    """Tokens a query must match (all of them), in order, without duplicates."""
    _init()
    seen: dict[str, None] = {}
    for tok in _clean(jieba.cut(text, HMM=False)):
        seen.setdefault(tok, None)
    return tuple(seen)
