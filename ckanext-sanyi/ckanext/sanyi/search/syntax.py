"""Parse the subset of Solr query syntax that CKAN itself emits.

CKAN builds ``q`` and ``fq`` strings in Solr syntax (views, actions, dictizers, the
index's delete queries). Backends do not speak Solr, so this module turns those strings
into a small typed tree that each backend compiles to its own language.

Supported: ``field:value``, ``field:"phrase"``, ``field:(a OR b)``, ``field:[a TO b]``
(``{a TO b}`` exclusive, ``*`` open), ``field:prefix*``, ``field:*``, ``*:*``, bare words and
phrases (full text), ``+``/``-``/``NOT``/``!`` prefixes, ``AND``/``&&``/``OR``/``||``,
parentheses and backslash escapes. Boosts (``^2``) and fuzzy/proximity marks (``~``, ``~2``)
are accepted and ignored. Juxtaposition means AND (CKAN sends ``q.op=AND``). Anything else
raises ``QuerySyntaxError`` (CKAN answers it with a 400/409, never a 500).
Pure Python: no CKAN import.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Union

from dateutil.relativedelta import relativedelta


class QuerySyntaxError(ValueError):
    """The query string cannot be parsed (``zh``: the reason in Chinese, where given)."""

    def __init__(self, message: str, zh: str | None = None):
        super().__init__(message)
        self.zh = zh


# Bounds on what a query may be: past them a query is refused (as Solr refuses one that is
# too complex) instead of exhausting the parser's stack or the database's limits.
MAX_QUERY_LENGTH = 20_000   # characters of one q or fq
MAX_DEPTH = 100             # nested parentheses and NOT/+/- prefixes
MAX_WORD_BYTES = 2_046      # PostgreSQL's longest lexeme (a longer word can match nothing)


def check_text(value: str, what: str = "query") -> str:
    """Refuse text no engine can take: NUL, lone surrogates, over ``MAX_QUERY_LENGTH``."""
    if "\x00" in value:
        raise QuerySyntaxError(f"{what} contains a NUL character", f"{what} 含有 NUL 字符")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise QuerySyntaxError(f"{what} is not valid Unicode text",
                               f"{what} 不是有效的 Unicode 文本") from None
    if len(value) > MAX_QUERY_LENGTH:
        raise QuerySyntaxError(f"{what} is longer than {MAX_QUERY_LENGTH:,} characters",
                               f"{what} 超过 {MAX_QUERY_LENGTH:,} 个字符")
    return value


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Text:
    """Full-text match; ``field`` None means the catch-all text field. ``phrase``: the words
    must be adjacent, in order (a quoted value)."""
    value: str
    field: str | None = None
    phrase: bool = False


@dataclass(frozen=True)
class Term:
    """Exact match of a (string) field value."""
    field: str
    value: str


@dataclass(frozen=True)
class Prefix:
    field: str
    prefix: str  # "" means "field exists"


@dataclass(frozen=True)
class Range:
    field: str
    low: str | None  # None is an open bound (``*``)
    high: str | None
    include_low: bool = True
    include_high: bool = True


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class AtLeast:
    """At least ``k`` of the children match (Solr's minimum-should-match)."""
    children: tuple[Node, ...]
    k: int


Node = Union[MatchAll, Text, Term, Prefix, Range, And, Or, Not, AtLeast]

# Solr "text" fields: values are analysed, so a match is a full-text match.
TEXT_FIELDS = frozenset({
    "text", "title", "title_en", "notes", "res_name", "res_description", "author", "maintainer",
    "title_ngram", "name_ngram",
})

_SPECIAL = set('()[]{}":')
_MODIFIER = re.compile(r"(\^\d+(\.\d+)?|~\d*(\.\d+)?)")


def _tokenize(s: str) -> list[tuple[str, str]]:
    """Split into (kind, text) tokens: word, phrase, lparen, rparen, colon, range."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
        elif c == '"':
            j, buf = i + 1, []
            while j < n and s[j] != '"':
                if s[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(s[j])
                j += 1
            if j >= n:
                raise QuerySyntaxError("unterminated phrase")
            out.append(("phrase", "".join(buf)))
            i = j + 1
            m = _MODIFIER.match(s, i)
            if m:
                i = m.end()
        elif c in "([{" and out and out[-1][0] == "colon" and c != "(":
            ends = [k for k in (s.find("]", i), s.find("}", i)) if k >= 0]
            if not ends:
                raise QuerySyntaxError("unterminated range")
            j = min(ends)
            out.append(("range", s[i:j + 1]))
            i = j + 1
        elif c == "(":
            out.append(("lparen", c))
            i += 1
        elif c == ")":
            out.append(("rparen", c))
            i += 1
        elif c == ":":
            out.append(("colon", c))
            i += 1
        elif c in "+-!" and (i + 1 < n and not s[i + 1].isspace()):
            out.append(("op", c))
            i += 1
        else:
            j, buf = i, []
            while j < n and not s[j].isspace() and s[j] not in _SPECIAL:
                if s[j] == "\\" and j + 1 < n:
                    j += 1
                elif s[j] in "^~" and buf:
                    m = _MODIFIER.match(s, j)
                    if m and (m.end() == n or s[m.end()].isspace() or s[m.end()] in _SPECIAL):
                        j = m.end()
                        break
                buf.append(s[j])
                j += 1
            if not buf:
                raise QuerySyntaxError(f"unexpected character {c!r}")
            out.append(("word", "".join(buf)))
            i = j
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.toks = tokens
        self.pos = 0
        self.depth = 0

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QuerySyntaxError(f"query nested deeper than {MAX_DEPTH} levels",
                                   f"查询嵌套超过 {MAX_DEPTH} 层")

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError("unexpected end of query")
        self.pos += 1
        return tok

    def parse(self) -> Node:
        if not self.toks:
            return MatchAll()
        node = self.or_expr()
        extra = self.peek()
        if extra is not None:
            raise QuerySyntaxError(f"unexpected {extra[1]!r}")
        return node

    def or_expr(self, field: str | None = None) -> Node:
        parts = [self.and_expr(field)]
        while self._is_word("OR", "||"):
            self.pos += 1
            parts.append(self.and_expr(field))
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self, field: str | None) -> Node:
        parts = [self.unary(field)]
        while True:
            tok = self.peek()
            if tok is None or tok[0] == "rparen" or self._is_word("OR", "||"):
                break
            if self._is_word("AND", "&&"):
                self.pos += 1
            parts.append(self.unary(field))
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self, field: str | None) -> Node:
        tok = self.peek()
        if tok and (tok[0] == "op" or self._is_word("NOT")):
            self.pos += 1
            self.deeper()
            child = self.unary(field)
            self.depth -= 1
            return child if tok[1] == "+" else Not(child)
        return self.primary(field)

    def primary(self, field: str | None) -> Node:
        kind, text = self.take()
        if kind == "lparen":
            self.deeper()
            node = self.or_expr(field)
            if self.take()[0] != "rparen":
                raise QuerySyntaxError("missing )")
            self.depth -= 1
            return node
        if kind == "word" and field is None and (nxt := self.peek()) and nxt[0] == "colon":
            self.pos += 1
            return self.field_value(text)
        if kind == "word" and text in ("AND", "OR", "&&", "||"):
            raise QuerySyntaxError(f"{text} without a term before it")
        if kind == "phrase":
            return _leaf(field, text, quoted=True)
        if kind == "word":
            return _leaf(field, text, quoted=False)
        raise QuerySyntaxError(f"unexpected {text!r}")

    def field_value(self, name: str) -> Node:
        tok = self.peek()
        if tok is None:
            raise QuerySyntaxError(f"missing value for {name}")
        if tok[0] == "range":
            self.pos += 1
            return _range(name, tok[1])
        if name == "*" and tok == ("word", "*"):
            self.pos += 1
            return MatchAll()
        return self.unary(name)

    def _is_word(self, *words: str) -> bool:
        tok = self.peek()
        return bool(tok and tok[0] == "word" and tok[1] in words)


def _leaf(field: str | None, value: str, quoted: bool) -> Node:
    if field is None or field in TEXT_FIELDS:
        if not quoted and value == "*":
            return MatchAll()
        return Text(value, None if field in (None, "text") else field, phrase=quoted)
    if not quoted and value.endswith("*") and "*" not in value[:-1]:
        return Prefix(field, value[:-1])
    return Term(field, value)


def _range(field: str, raw: str) -> Range:
    inner = raw[1:-1].strip()
    pieces = inner.split(" TO ")
    if len(pieces) != 2:
        raise QuerySyntaxError(f"bad range {raw!r}")
    low, high = (p.strip().strip('"') for p in pieces)
    return Range(field, None if low == "*" else low, None if high == "*" else high,
                 raw[0] == "[", raw[-1] == "]")


def parse(query: str | None) -> Node:
    """Parse a Solr-style query string into a tree (empty or None: match all)."""
    if query is None or not query.strip() or query.strip() in ('""', "''"):
        return MatchAll()
    check_text(query)
    node = _Parser(_tokenize(query)).parse()
    _check_words(node)
    return node


def _too_long(value: str) -> bool:
    return any(len(w.encode("utf-8")) > MAX_WORD_BYTES for w in value.split())


def _check_words(node: Node) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (And, Or, AtLeast)):
            stack.extend(n.children)
        elif isinstance(n, Not):
            stack.append(n.child)
        elif isinstance(n, Text) and _too_long(n.value) or \
                isinstance(n, Term) and len((n.field + n.value).encode("utf-8")) > MAX_WORD_BYTES or \
                isinstance(n, Prefix) and len((n.field + n.prefix).encode("utf-8")) > MAX_WORD_BYTES:
            raise QuerySyntaxError(f"a word is longer than {MAX_WORD_BYTES:,} bytes",
                                   f"单个词超过 {MAX_WORD_BYTES:,} 字节")


def conjoin(nodes: list[Node]) -> Node:
    """AND a list of nodes, dropping MatchAll."""
    kept = [n for n in nodes if not isinstance(n, MatchAll)]
    if not kept:
        return MatchAll()
    return kept[0] if len(kept) == 1 else And(tuple(kept))


def text_values(node: Node) -> list[Text]:
    """The positive full-text leaves of a tree (used for ranking)."""
    if isinstance(node, Text):
        return [node]
    if isinstance(node, (And, Or, AtLeast)):
        return [t for c in node.children for t in text_values(c)]
    return []


_BOOLEAN_WORDS = frozenset({"AND", "OR", "NOT", "&&", "||"})


def required_clauses(n: int) -> int:
    """How many of ``n`` optional clauses must match: CKAN's default ``mm`` ("2<-1 5<80%"):
    all of one or two, all but one of three to five, 80 % (rounded down) of more."""
    if n <= 2:
        return n
    if n <= 5:
        return n - 1
    return int(n * 0.8)


def min_should_match(node: Node, q: str | None) -> Node:
    """A plain multi-word ``q`` (words and phrases only, no field, no boolean operator: what
    CKAN sends to dismax) needs only ``required_clauses`` of its words, not all of them."""
    if not isinstance(node, And) or not q or ":" in q or \
            _BOOLEAN_WORDS & set(q.split()) or any(c in q for c in "+-!()"):
        return node
    if not all(isinstance(c, Text) and c.field is None for c in node.children):
        return node
    k = required_clauses(len(node.children))
    return node if k >= len(node.children) else AtLeast(node.children, k)


# -- Solr dates ---------------------------------------------------------------------------------
_DATE_STEP = re.compile(r"([+-])(\d{1,9})([A-Z]+)|/([A-Z]+)")
_STEP_UNITS = {"YEAR": "years", "MONTH": "months", "DAY": "days", "DATE": "days",
               "HOUR": "hours", "MINUTE": "minutes", "SECOND": "seconds",
               "MILLI": "microseconds", "MILLISECOND": "microseconds", "WEEK": "weeks"}
_ROUND: dict[str, dict[str, Any]] = {"YEAR": dict(month=1, day=1, hour=0, minute=0, second=0, microsecond=0),
          "MONTH": dict(day=1, hour=0, minute=0, second=0, microsecond=0),
          "DAY": dict(hour=0, minute=0, second=0, microsecond=0),
          "DATE": dict(hour=0, minute=0, second=0, microsecond=0),
          "HOUR": dict(minute=0, second=0, microsecond=0),
          "MINUTE": dict(second=0, microsecond=0), "SECOND": dict(microsecond=0)}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?Z?$")


def _unit(name: str) -> str:
    return name[:-1] if name.endswith("S") and name[:-1] in _STEP_UNITS else name


def solr_date(value: str, now: dt.datetime | None = None) -> str:
    """A Solr date value as ISO text: a date (returned as given once checked) or date math
    on ``NOW`` (``NOW-7DAYS``, ``NOW/DAY``, ``NOW/DAY-1DAY``, ``NOW+1MONTH/MONTH``; UTC).

    Anything else (``2026-13-01T00:00:00Z``, ``garbage``, an unknown unit, a step out of
    range) raises ``QuerySyntaxError``.
    """
    text = value.strip().upper()
    if not text.startswith("NOW"):
        if not _ISO_DATE.match(text):
            raise QuerySyntaxError(f"invalid date {value!r}", f"日期无效：{value!r}")
        try:
            dt.datetime.fromisoformat(text.rstrip("Z").replace(" ", "T"))
        except ValueError:
            raise QuerySyntaxError(f"invalid date {value!r}", f"日期无效：{value!r}") from None
        return value
    when = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rest, pos = text[3:], 0
    try:
        while pos < len(rest):
            m = _DATE_STEP.match(rest, pos)
            if not m:
                raise QuerySyntaxError(f"invalid date math {value!r}", f"日期运算无效：{value!r}")
            pos = m.end()
            if m.group(4):
                unit = _unit(m.group(4))
                if unit not in _ROUND:
                    raise QuerySyntaxError(f"unknown date unit {m.group(4)!r}")
                when = when.replace(**_ROUND[unit])
                continue
            unit = _unit(m.group(3))
            if unit not in _STEP_UNITS:
                raise QuerySyntaxError(f"unknown date unit {m.group(3)!r}")
            amount = int(m.group(2)) * (1000 if unit.startswith("MILLI") else 1)
            step = relativedelta(**{_STEP_UNITS[unit]: amount})
            when = when + step if m.group(1) == "+" else when - step
    except (OverflowError, ValueError) as e:
        if isinstance(e, QuerySyntaxError):
            raise
        raise QuerySyntaxError(f"date out of range {value!r}", f"日期超出范围：{value!r}") from None
    return when.isoformat()
