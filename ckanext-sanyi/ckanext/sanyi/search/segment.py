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
from typing import Iterator

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
    return _units(text)[0]


def _units(text: str) -> tuple[list[int], int]:
    """:func:`unit_starts` and the number of units of ``text``."""
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
    return out, unit


def index_postings(text: str | None, unigrams: bool = True) -> list[tuple[str, int]]:
    """(token, unit) pairs to index for ``text`` (simplified first), units from 0.

    ``unigrams``: every dictionary word at every place it occurs (jieba's word graph, i.e.
    the full mode) and every CJK character; otherwise the search mode's words (precise cut
    and the dictionary words inside them). Latin words are lower-cased.

    The text is taken piece by piece (CJK runs and the rest; with ``unigrams=False``
    jieba's own pieces, each of which it cuts on its own), each piece's words cut once for
    every text that has it: a Latin word never spans two pieces, so a piece's units
    are its own, after those of the pieces before it.
    """
    if not text:
        return []
    _init()
    text = analysis.simplify(text)
    if unigrams:
        pieces, words = _RUNS.findall(text), _graph_words
    else:
        pieces, words = jieba.re_han_default.split(text), _search_words
    out: list[tuple[str, int]] = []
    seen: set[tuple[str, int]] = set()
    base = 0
    for piece in pieces:
        if not piece:
            continue
        found, width = words(piece)
        for tok, unit in found:
            key = (tok, base + unit)
            if key not in seen:
                seen.add(key)
                out.append(key)
        base += width
    return out


def _word_units(units: list[int], tok: str, start: int) -> Iterator[tuple[str, int]]:
    """The indexed words of a token at ``start``: its letters, digits and CJK characters
    (lower-cased), each run at the unit where it starts."""
    if _WORD.fullmatch(tok):
        yield tok.lower(), units[start]
        return
    for m in _WORD.finditer(tok):
        yield m.group().lower(), units[start + m.start()]


# The pieces many texts share ("医疗机构", "数据资源") are cut once.
@lru_cache(maxsize=65536)
def _search_words(piece: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """The search mode's words of one of jieba's pieces (which it cuts on its own and what
    lies between them, character by character) with their units, and the piece's units."""
    units, width = _units(piece)
    return tuple(w for tok, start, _end in jieba.tokenize(piece, mode="search")
                 for w in _word_units(units, tok, start)), width


@lru_cache(maxsize=65536)
def _graph_words(piece: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """A CJK run's every dictionary word at every place it occurs (and each character: the
    word graph), or the Latin words of any other run, with their units; and its units."""
    units, width = _units(piece)
    if _CJK.match(piece):
        return tuple(w for k, ends in jieba.dt.get_DAG(piece).items() for j in ends
                     for w in _word_units(units, piece[k:j + 1], k)), width
    return tuple(w for m in _LATIN.finditer(piece)
                 for w in _word_units(units, m.group(), m.start())), width


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
