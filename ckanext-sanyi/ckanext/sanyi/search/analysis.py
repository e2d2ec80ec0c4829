"""Text analysis shared by indexing and querying (pure Python, no CKAN import).

* ``simplify``: traditional characters to simplified (OpenCC's t2s tables), applied to
  indexed text and to queries alike, so 醫保 and 医保 are the same words;
* ``pinyin_forms``: a CJK word's full pinyin and its initials (高血压: ``gaoxueya``,
  ``gxy``), indexed at the word's position so a pinyin query finds the word;
* ``sort_key``: a title as pinyin, so titles sort as a Chinese reader expects;
* ``Synonyms``: equivalence groups from an operator-editable file, expanded at query time;
* ``tsvector_literal``: (lexeme, position) pairs as PostgreSQL tsvector input text.
"""
from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from typing import Iterable

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_ALL_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+$")
_lock = threading.Lock()
_t2s = None

DEFAULT_SYNONYMS = os.path.join(os.path.dirname(__file__), "synonyms.txt")
MAX_POSITION = 16383  # PostgreSQL's largest tsvector position


def _converter():
    global _t2s
    if _t2s is None:
        with _lock:
            if _t2s is None:
                import opencc
                _t2s = opencc.OpenCC("t2s")
    return _t2s


@lru_cache(maxsize=8192)
def _simplify_short(text: str) -> str:
    return _converter().convert(text)


_traditional: frozenset[str] | None = None


def _traditional_chars() -> frozenset[str]:
    """The characters t2s changes on their own (once per process, under a second): text
    with none of them is left as it is without running the converter."""
    global _traditional
    if _traditional is None:
        conv = _converter()
        _traditional = frozenset(ch for ch in map(chr, range(0x3400, 0xA000))
                                 if conv.convert(ch) != ch)
    return _traditional


def simplify(text: str) -> str:
    """``text`` with traditional characters made simplified (others unchanged)."""
    if not text or _traditional_chars().isdisjoint(text):
        return text
    if len(text) <= 64:
        return _simplify_short(text)
    return _converter().convert(text)


@lru_cache(maxsize=65536)
def pinyin_forms(word: str) -> tuple[str, ...]:
    """Full pinyin and initials of a word of two or more CJK characters (else nothing)."""
    if len(word) < 2 or not _ALL_CJK.match(word):
        return ()
    from pypinyin import Style, lazy_pinyin
    syllables = [p.lower() for p in lazy_pinyin(word, style=Style.NORMAL, errors="ignore")]
    if len(syllables) != len(word):
        return ()
    full = "".join(syllables)
    initials = "".join(p[0] for p in syllables if p)
    return (full, initials) if full != initials else (full,)


def sort_key(title: str | None) -> str:
    """A title's sort key: each CJK character as its pinyin syllable with the tone number
    (``gao1 xue4 ya1``: syllable by syllable, as a Chinese dictionary orders), everything
    else as written, lower-cased."""
    text = simplify((title or "").strip()).lower()
    if not _CJK_RUN.search(text):
        return text
    out: list[str] = []
    latin = ""
    for ch in text:
        syllable = _syllable(ch) if _CJK_RUN.match(ch) else None
        if syllable is None:
            latin += ch
            continue
        if latin.strip():
            out.append(latin.strip())
        latin = ""
        out.append(syllable)
    if latin.strip():
        out.append(latin.strip())
    return " ".join(out)


@lru_cache(maxsize=32768)
def _syllable(ch: str) -> str:
    from pypinyin import Style, pinyin
    return pinyin(ch, style=Style.TONE3, heteronym=False, errors="default")[0][0]


def tsvector_literal(postings: Iterable[tuple[str, int]], base: int = 0) -> str:
    """(lexeme, 0-based position) pairs as tsvector input: ``'word':3,7 'other':4``."""
    by_lexeme: dict[str, list[int]] = {}
    for lexeme, pos in postings:
        found = by_lexeme.get(lexeme)
        if found is None:
            by_lexeme[lexeme] = [pos]
        else:
            found.append(pos)
    shift = base + 1
    parts = []
    for lx, ps in by_lexeme.items():
        if not lx or len(lx) > 512 and len(lx.encode("utf-8")) > 2046:
            continue
        if len(ps) == 1:
            p = ps[0] + shift
            text = str(p if p < MAX_POSITION else MAX_POSITION)
        else:  # distinct positions in order; PostgreSQL keeps 256 of a lexeme at most
            text = ",".join(map(str, list(dict.fromkeys(
                p + shift if p + shift < MAX_POSITION else MAX_POSITION for p in ps))[:255]))
        if "'" in lx or "\\" in lx:
            lx = lx.replace("\\", "\\\\").replace("'", "''")
        parts.append("'" + lx + "':" + text)
    return " ".join(parts)


# -- synonyms -----------------------------------------------------------------------------
class Synonyms:
    """Groups of equivalent words, one group a line: ``医保, 医疗保障`` (commas, full-width
    commas, spaces or ``=>``/``<=>`` separate; ``#`` starts a comment). Keys are simplified
    and lower-cased; a word in several groups is equivalent to all of them."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()):
        self.alternatives: dict[str, tuple[str, ...]] = {}
        merged: dict[str, list[str]] = {}
        for group in groups:
            words = [w for w in (simplify(x.strip()).lower() for x in group) if w]
            for w in words:
                bucket = merged.setdefault(w, [])
                bucket.extend(x for x in words if x != w and x not in bucket)
        self.alternatives = {k: tuple(v) for k, v in merged.items() if v}
        self.longest = max((len(k) for k in self.alternatives), default=0)

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        groups = []
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = re.split(r"\s*(?:<=>|=>|[,，、;；])\s*|\s+", line)
            groups.append([w for w in words if w])
        return cls(groups)

    @classmethod
    def load(cls, path: str | None) -> Synonyms:
        with open(path or DEFAULT_SYNONYMS, encoding="utf-8") as f:
            return cls.parse(f.read())

    def get(self, word: str) -> tuple[str, ...]:
        return self.alternatives.get(word, ())


_synonyms: Synonyms | None = None
_synonyms_path: str | None = None


def configure_synonyms(path: str | None) -> None:
    """Use the synonym file at ``path`` (None or "": the shipped file). Loaded on first use."""
    global _synonyms, _synonyms_path
    _synonyms_path = path or None
    _synonyms = None


def synonyms() -> Synonyms:
    global _synonyms
    if _synonyms is None:
        try:
            _synonyms = Synonyms.load(_synonyms_path)
        except OSError:
            import logging
            logging.getLogger(__name__).warning("synonym file %s unreadable: no synonyms",
                                                _synonyms_path or DEFAULT_SYNONYMS)
            _synonyms = Synonyms()
    return _synonyms
