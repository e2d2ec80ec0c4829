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

from . import analysis

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
    text = analysis.simplify(text)
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
    for tok in _clean(jieba.cut(analysis.simplify(text), HMM=False)):
        seen.setdefault(tok, None)
    return tuple(seen)


# -- positions ------------------------------------------------------------------------------
# A text's positions count units: each CJK character is one, each Latin/digit word is one,
# anything else (spaces, punctuation) none. Every indexed word sits at the unit where it
# starts, so the words of a phrase are as far apart in the index as in the query: "门诊收费"
# is 门诊 at p and 收费 at p + 2, "Government Expenditure" two words at p and p + 1, whatever
# other (overlapping, shorter) words the text also indexed.
_LATIN = re.compile(r"[0-9A-Za-z]+")
_RUNS = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def unit_starts(text: str) -> list[int]:
    """For each character of ``text``, the unit it belongs to (see above)."""
    out = [0] * len(text)
    unit = 0
    i, n = 0, len(text)
    while i < n:
        m = _LATIN.match(text, i)
        if m:
            for k in range(i, m.end()):
                out[k] = unit
            unit += 1
            i = m.end()
            continue
        out[i] = unit
        if _CJK.match(text[i]):
            unit += 1
        i += 1
    return out


def index_postings(text: str | None, unigrams: bool = True) -> list[tuple[str, int]]:
    """(token, unit) pairs to index for ``text`` (simplified first), units from 0.

    ``unigrams``: every dictionary word at every place it occurs (jieba's word graph, i.e.
    the full mode) and every CJK character; otherwise the search mode's words (precise cut
    and the dictionary words inside them). Latin words are lower-cased.
    """
    if not text:
        return []
    _init()
    text = analysis.simplify(text)
    units = unit_starts(text)
    out: list[tuple[str, int]] = []
    seen: set[tuple[str, int]] = set()

    def add(tok: str, start: int) -> None:
        if _WORD.fullmatch(tok):
            key = (tok.lower(), units[start])
            if key not in seen:
                seen.add(key)
                out.append(key)
            return
        for m in _WORD.finditer(tok):
            key = (m.group().lower(), units[start + m.start()])
            if key not in seen:
                seen.add(key)
                out.append(key)

    if unigrams:
        for run in _RUNS.finditer(text):
            piece, base = run.group(), run.start()
            if _CJK.match(piece):
                dag = jieba.dt.get_DAG(piece)
                for k, ends in dag.items():
                    for j in ends:
                        add(piece[k:j + 1], base + k)
            else:
                for m in _LATIN.finditer(piece):
                    add(m.group(), base + m.start())
    else:
        for tok, start, _end in jieba.tokenize(text, mode="search"):
            add(tok, start)
    return out


@lru_cache(maxsize=4096)
def query_postings(text: str) -> tuple[tuple[str, int], ...]:
    """The query's tokens (precise cut, no HMM) with their units, in order."""
    _init()
    text = analysis.simplify(text)
    units = unit_starts(text)
    out: list[tuple[str, int]] = []
    for tok, start, _end in jieba.tokenize(text, HMM=False):
        for m in _WORD.finditer(tok):
            out.append((m.group().lower(), units[start + m.start()]))
    return tuple(out)
