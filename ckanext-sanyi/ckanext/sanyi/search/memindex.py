"""An in-memory copy of the PostgreSQL search index, for the searches whose match set is large.

Counting and ranking tens of thousands of matching rows one at a time is what makes a
full-text search of a large catalog slow in SQL (``postgres.PostgresBackend.compile``): the
bitmap heap scan alone reads every matching row. This index keeps, per process, per facet
value and per visibility column value the documents ("slots") that carry it and the sort
columns (built for the whole table, ``memload.build``), and per lexeme the slots whose
``tsv`` holds it (with PostgreSQL's positions and weights where a phrase or a weight
restriction needs them) and its share of ``ts_rank`` in ``rank_tsv``, read from the table on
the lexeme's first use and kept (at most ``MAX_LEXEMES``). A query is answered with array
operations on slots; only its page of results is read from the table.

It answers exactly what the SQL would: the same tsquery (``compiler.Compiler.tsq``) is
evaluated with PostgreSQL's semantics (``&``, ``|``, ``!``, phrases ``<N>``, weight
restrictions; a lexeme without positions matches any weight), column tests with SQL's NULL
rules, and ``ts_rank`` is reproduced in the same single-precision steps as PostgreSQL's
``calc_rank_or`` (tests/integration/search/test_memindex_oracle.py checks both against the
database); the backend also checks each page's scores against the database's own.
Anything else (prefix operands, ranges, sorts by text, ``ts_rank`` of a conjunction) raises
``Unsupported`` and is answered by SQL.

Documents changed after the index was built are kept beside it (the overlay): their built
slot is dead and the new version is evaluated one document at a time.

Pure Python and numpy: no database, no CKAN.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Protocol, Sequence

import numpy as np

from . import syntax as s
from .backend import COLUMN_FIELDS, LABELS_FIELD
from .compiler import KEY_COLUMNS, _is_column

__all__ = ["Unsupported", "parse_tsquery", "DocData", "MemoryIndex", "Built", "rank_shares"]

COLUMNS = tuple(COLUMN_FIELDS) + KEY_COLUMNS
# PostgreSQL's default ts_rank weights for D, C, B, A (float4)
_WEIGHTS = np.array([0.1, 0.2, 0.4, 1.0], dtype=np.float32)
_WEIGHT_BIT = {"A": 8, "B": 4, "C": 2, "D": 1}
_PI2_6 = 1.64493406685
_POS_SHIFT = 16  # slot << 16 | position: a position (< 16384) plus any distance stays below
_NULL_TIME = np.iinfo(np.int64).max
# lexemes whose postings an index keeps; past this it forgets them all and reads them again
MAX_LEXEMES = 20000


class Unsupported(Exception):
    """This query (or sort) is answered by SQL."""


# --------------------------------------------------------------------------- tsquery
@dataclass(frozen=True)
class Lex:
    text: str
    prefix: bool = False
    weights: int = 0  # bits of _WEIGHT_BIT; 0: any


@dataclass(frozen=True)
class Op:
    op: str  # "&", "|", "!", "<>"
    children: tuple[Any, ...]
    distance: int = 0


_TOKEN = re.compile(r"\s*(?:(?P<lex>'(?:[^'\\]|\\.|'')*')(?::(?P<suf>[*A-Da-d]+))?"
                    r"|(?P<op>[&|!()])|<(?P<dist>-|\d+)>)")


def parse_tsquery(text: str) -> Any:
    """The tree of a tsquery as our compiler writes it (quoted operands only)."""
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"tsquery syntax at {pos}")
        pos = m.end()
        if m.group("lex"):
            raw = m.group("lex")[1:-1]
            value = re.sub(r"''|\\(.)", lambda x: "'" if x.group(0) == "''" else x.group(1), raw)
            suf = (m.group("suf") or "").upper()
            bits = 0
            for ch in suf:
                bits |= _WEIGHT_BIT.get(ch, 0)
            tokens.append(("lex", Lex(value, "*" in suf, bits)))
        elif m.group("op"):
            tokens.append((m.group("op"), None))
        else:
            d = m.group("dist")
            tokens.append(("<>", 1 if d == "-" else int(d)))
    items = tokens
    at = 0

    # precedence (PostgreSQL): ! > <N> > & > |
    def primary() -> Any:
        nonlocal at
        if at >= len(items):
            raise Unsupported("tsquery ends early")
        kind, val = items[at]
        at += 1
        if kind == "lex":
            return val
        if kind == "!":
            return Op("!", (primary(),))
        if kind == "(":
            node = disjunction()
            if at >= len(items) or items[at][0] != ")":
                raise Unsupported("unbalanced tsquery")
            at += 1
            return node
        raise Unsupported(f"unexpected {kind}")

    def phrase() -> Any:
        nonlocal at
        node = primary()
        while at < len(items) and items[at][0] == "<>":
            d = items[at][1]
            at += 1
            node = Op("<>", (node, primary()), d)
        return node

    def conjunction() -> Any:
        nonlocal at
        parts = [phrase()]
        while at < len(items) and items[at][0] == "&":
            at += 1
            parts.append(phrase())
        return parts[0] if len(parts) == 1 else Op("&", tuple(parts))

    def disjunction() -> Any:
        nonlocal at
        parts = [conjunction()]
        while at < len(items) and items[at][0] == "|":
            at += 1
            parts.append(conjunction())
        return parts[0] if len(parts) == 1 else Op("|", tuple(parts))

    node = disjunction()
    if at != len(items):
        raise Unsupported("trailing tsquery")
    return node


def operands(node: Any) -> list[Lex]:
    if isinstance(node, Lex):
        return [node]
    return [x for c in node.children for x in operands(c)]


# --------------------------------------------------------------------------- ts_rank
def rank_shares(entries: dict[str, Sequence[int]]) -> dict[str, float]:
    """Each tsvector entry's ``rank_contribs`` share (lexeme -> positions), in one call."""
    keys = list(entries)
    lengths = [len(entries[k]) for k in keys]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    pos = np.array([p for k in keys for p in entries[k]], dtype=np.int64)
    return dict(zip(keys, rank_contribs(offsets, pos).tolist(), strict=True))


def rank_contribs(offsets: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Each tsvector entry's share of ``calc_rank_or`` before the sum over the query's
    operands, (wjm + resj - wjm / (jm+1)^2) / (pi^2/6) in PostgreSQL's float4 steps; entry i
    has the positions ``pos[offsets[i]:offsets[i+1]]`` (none: weight D, as POSNULL)."""
    n = len(offsets) - 1
    lengths = np.diff(offsets)
    resj = np.zeros(n, np.float32)
    wjm = np.full(n, -1.0, np.float32)
    jm = np.zeros(n, np.int64)
    empty = lengths == 0
    maxlen = int(lengths.max()) if n else 0
    for j in range(max(maxlen, 1)):
        has = lengths > j
        if j == 0:
            has = has | empty
        idx = np.flatnonzero(has)
        if not len(idx):
            break
        w = np.where(empty[idx], _WEIGHTS[0],
                     _WEIGHTS[(pos[np.minimum(offsets[idx] + j, len(pos) - 1)] >> 14) & 3]
                     if len(pos) else _WEIGHTS[0]).astype(np.float32)
        resj[idx] = resj[idx] + w / np.float32((j + 1) * (j + 1))
        better = w > wjm[idx]
        wjm[idx[better]] = w[better]
        jm[idx[better]] = j
    sq = ((jm + 1) * (jm + 1)).astype(np.float32)
    inner = (wjm + resj) - (wjm / sq)
    return inner.astype(np.float64) / _PI2_6


# --------------------------------------------------------------------------- documents
@dataclass
class DocData:
    """One document as the index holds it (an overlay document, or a row while loading)."""
    index_id: str
    columns: dict[str, Any]           # COLUMNS values
    labels: frozenset[str]
    lexemes: dict[str, tuple[int, ...]]   # tsv: lexeme -> positions (WordEntryPos, weight bits)
    rank: dict[str, float]            # rank_tsv: lexeme -> its rank_contribs share
    facets: frozenset[int]
    modified: int                     # microseconds since the epoch, or _NULL_TIME
    created: int


@dataclass
class Built:
    """The arrays of a built index (``MemoryIndex.__init__``)."""
    index_ids: list[str]
    columns: dict[str, dict[Any, np.ndarray]]
    labels: dict[str, np.ndarray]
    facets: dict[int, np.ndarray]
    modified: np.ndarray
    created: np.ndarray


@dataclass
class Answer:
    hits: int
    facets: list[tuple[int, int]]            # (facet id, count)
    page: list[tuple[str, float]]            # (index_id, score) in order


class Postings(Protocol):
    """Where a built index reads a lexeme's postings the first time it needs them (the
    table, ``memload``): each maps index ids to slots with ``slot_of`` and drops the rest."""

    def slots(self, ix: "MemoryIndex", lexeme: str) -> np.ndarray: ...

    def positions(self, ix: "MemoryIndex", lexeme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def rank(self, ix: "MemoryIndex", lexeme: str) -> tuple[np.ndarray, np.ndarray]: ...


class MemoryIndex:
    """A built index plus the documents changed since (see the module docstring).

    Postings of ``tsv`` and ``rank_tsv`` are read from ``source`` on a lexeme's first use
    and kept: a built slot's postings stay true as long as its document is unchanged, and a
    changed document's slot is dead (``apply``).
    """

    def __init__(self, built: Built, source: Postings):
        self.b = built
        self.source = source
        self.n = len(built.index_ids)
        self.slot_of = {iid: i for i, iid in enumerate(built.index_ids)}
        self.alive = np.ones(self.n, dtype=bool)
        self.overlay: dict[str, DocData] = {}
        self._slots: dict[str, np.ndarray] = {}
        self._positions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._rank: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._wmask: dict[str, np.ndarray] = {}
        self._masks: dict[Any, np.ndarray] = {}
        # per slot, its facet ids (CSR: ``facet_ids[facet_offsets[s]:facet_offsets[s + 1]]``),
        # to count the facets of a small match set from its own rows
        fids = [np.full(len(v), f, dtype=np.int32) for f, v in built.facets.items()]
        slots = [np.asarray(v, dtype=np.int32) for v in built.facets.values()]
        if fids:
            all_slots = np.concatenate(slots)
            order = np.argsort(all_slots, kind="stable")
            self.facet_ids = np.concatenate(fids)[order]
            self.facet_offsets = np.concatenate(
                [[0], np.cumsum(np.bincount(all_slots, minlength=self.n))]).astype(np.int64)
        else:
            self.facet_ids = np.zeros(0, dtype=np.int32)
            self.facet_offsets = np.zeros(self.n + 1, dtype=np.int64)

    def _bound(self) -> None:
        if len(self._slots) + len(self._positions) + len(self._rank) > MAX_LEXEMES:
            self._slots.clear()
            self._positions.clear()
            self._rank.clear()
            self._wmask.clear()

    def lexeme_slots(self, lexeme: str) -> np.ndarray:
        self._bound()
        got = self._slots.get(lexeme)
        if got is None:
            got = self._slots[lexeme] = self.source.slots(self, lexeme)
        return got

    def lexeme_positions(self, lexeme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._bound()
        got = self._positions.get(lexeme)
        if got is None:
            got = self._positions[lexeme] = self.source.positions(self, lexeme)
        return got

    def lexeme_rank(self, lexeme: str) -> tuple[np.ndarray, np.ndarray]:
        self._bound()
        got = self._rank.get(lexeme)
        if got is None:
            got = self._rank[lexeme] = self.source.rank(self, lexeme)
        return got

    # maintenance ---------------------------------------------------------------------
    def apply(self, changed: dict[str, DocData | None]) -> None:
        """Documents changed since the build: their current version, or None (gone)."""
        for iid, doc in changed.items():
            slot = self.slot_of.get(iid)
            if slot is not None:
                self.alive[slot] = False
            if doc is None:
                self.overlay.pop(iid, None)
            else:
                self.overlay[iid] = doc

    @property
    def stale(self) -> int:
        """Documents changed since the build: overlay documents and dead built slots."""
        dead = self.n - int(np.count_nonzero(self.alive))
        return dead + sum(1 for i in self.overlay if i not in self.slot_of)

    def carry(self, old: "MemoryIndex", changed: set[str], current: dict[str, DocData]) -> None:
        """Take over ``old``'s postings: those of documents unchanged since ``old`` was built
        (not in ``changed``) under their new slots, plus those of ``current`` (the changed
        documents this index holds, as built), so that no posting is read again."""
        remap = np.array([self.slot_of.get(i, -1) for i in old.b.index_ids] or [-1],
                         dtype=np.int64)[:old.n]
        dead = [old.slot_of[i] for i in changed if i in old.slot_of]
        remap[dead] = -1
        remap[~old.alive] = -1
        fresh = sorted((self.slot_of[i], d) for i, d in current.items() if i in self.slot_of)
        holds: dict[str, list[int]] = {}
        ranks: dict[str, list[tuple[int, float]]] = {}
        for slot, d in fresh:
            for lexeme in d.lexemes:
                holds.setdefault(lexeme, []).append(slot)
            for lexeme, c in d.rank.items():
                ranks.setdefault(lexeme, []).append((slot, c))
        by_slot = dict(fresh)
        for lexeme, slots in old._slots.items():
            kept = remap[slots]
            add = np.array(holds.get(lexeme, []), dtype=np.int64)
            self._slots[lexeme] = np.unique(np.concatenate([kept[kept >= 0], add])
                                            ).astype(np.int32)
        for lexeme, (slots, off, pos) in old._positions.items():
            self._positions[lexeme] = _merge_groups(
                remap, slots, off, pos,
                [(s, by_slot[s].lexemes[lexeme]) for s in holds.get(lexeme, [])])
        for lexeme, (slots, contrib) in old._rank.items():
            kept = remap[slots]
            keep = kept >= 0
            ranked = ranks.get(lexeme, [])
            all_slots = np.concatenate([kept[keep],
                                        np.array([s for s, _ in ranked], dtype=np.int64)])
            all_c = np.concatenate([contrib[keep],
                                    np.array([c for _, c in ranked], dtype=np.float64)])
            order = np.argsort(all_slots, kind="stable")
            self._rank[lexeme] = (all_slots[order].astype(np.int32), all_c[order])

    def merged(self) -> "MemoryIndex":
        """The same documents as one built index: the live built slots and the overlay,
        renumbered in index id order, with every posting taken over (``carry``). What a
        rebuild from the table would give at the last refresh, without reading it."""
        b = self.b
        live = np.flatnonzero(self.alive)
        over = dict(self.overlay)
        ids = sorted([b.index_ids[s] for s in live if b.index_ids[s] not in over] + list(over))
        new_slot = {iid: k for k, iid in enumerate(ids)}
        remap = np.full(max(self.n, 1), -1, dtype=np.int64)
        kept = [s for s in live if b.index_ids[s] not in over]
        remap[kept] = [new_slot[b.index_ids[s]] for s in kept]
        fresh = [(new_slot[i], d) for i, d in over.items()]

        def moved(slots: Any) -> np.ndarray:
            got = remap[np.atleast_1d(np.asarray(slots, dtype=np.int64))]
            return got[got >= 0]

        def joined(parts: dict[Any, np.ndarray], extra: dict[Any, list[int]]) -> dict[Any, Any]:
            out: dict[Any, Any] = {}
            for key in set(parts) | set(extra):
                arr = np.concatenate([moved(parts[key]) if key in parts else
                                      np.zeros(0, dtype=np.int64),
                                      np.array(extra.get(key, []), dtype=np.int64)])
                if len(arr):
                    out[key] = np.sort(arr).astype(np.int32)
            return out

        columns: dict[str, dict[Any, Any]] = {}
        for column, by_value in b.columns.items():
            extra: dict[Any, list[int]] = {}
            for slot, d in fresh:
                extra.setdefault(d.columns.get(column), []).append(slot)
            singles = [(v, at) for v, at in by_value.items() if not isinstance(at, np.ndarray)]
            if len(singles) == len(by_value) and len(by_value) > 64:  # unique: value -> slot
                values = [v for v, _ in singles]
                at_new = remap[np.array([a for _, a in singles], dtype=np.int64)].tolist()
                col: dict[Any, Any] = {v: a for v, a in zip(values, at_new, strict=True)
                                       if a >= 0}
                for v, ss in extra.items():
                    prev = [col[v]] if v in col else []
                    both = sorted(prev + ss)
                    col[v] = both[0] if len(both) == 1 else np.array(both, dtype=np.int32)
                columns[column] = col
            else:
                columns[column] = joined(by_value, extra)
        labels: dict[str, list[int]] = {}
        facets: dict[int, list[int]] = {}
        for slot, d in fresh:
            for lab in d.labels:
                labels.setdefault(lab, []).append(slot)
            for f in d.facets:
                facets.setdefault(f, []).append(slot)
        modified = np.full(len(ids), _NULL_TIME, dtype=np.int64)
        created = np.full(len(ids), _NULL_TIME, dtype=np.int64)
        if kept:
            modified[remap[kept]] = b.modified[kept]
            created[remap[kept]] = b.created[kept]
        for slot, d in fresh:
            modified[slot] = d.modified
            created[slot] = d.created
        index = MemoryIndex(Built(
            index_ids=ids, columns=columns, labels=joined(b.labels, labels),
            facets=joined(b.facets, facets), modified=modified, created=created), self.source)
        index.carry(self, set(over), over)
        return index

    # matching ------------------------------------------------------------------------
    @staticmethod
    def _lexemes(lx: Lex) -> list[str]:
        if lx.prefix:
            raise Unsupported("prefix operand")
        return [lx.text]

    def _weight_mask(self, lexeme: str) -> np.ndarray:
        """Per posting of ``lexeme``: the weights its positions have (bits), 15 without any
        position (it matches every weight restriction)."""
        got = self._wmask.get(lexeme)
        if got is None:
            slots, off, pos = self.lexeme_positions(lexeme)
            bits = np.zeros(len(slots), dtype=np.uint8)
            if len(pos):
                per = (np.left_shift(1, (pos >> 14) & 3)).astype(np.uint8)
                lengths = np.diff(off)
                nz = np.flatnonzero(lengths)
                if len(nz):
                    bits[nz] = np.bitwise_or.reduceat(per, off[nz].astype(np.int64))
            bits[np.diff(off) == 0] = 15
            got = bits
            self._wmask[lexeme] = got
        return got

    def _lex_mask(self, lx: Lex) -> np.ndarray:
        mask = np.zeros(self.n, dtype=bool)
        for lexeme in self._lexemes(lx):
            if lx.weights:
                slots = self.lexeme_positions(lexeme)[0]
                slots = slots[(self._weight_mask(lexeme) & lx.weights) != 0]
            else:
                slots = self.lexeme_slots(lexeme)
            mask[slots] = True
        return mask

    def _lex_positions(self, lx: Lex) -> np.ndarray:
        """slot << 16 | position for every position of ``lx`` (a phrase operand), sorted."""
        parts = []
        for lexeme in self._lexemes(lx):
            slots, off, pos = self.lexeme_positions(lexeme)
            lengths = np.diff(off)
            if not len(pos):
                continue
            per_slot = np.repeat(slots.astype(np.int64), lengths)
            p = pos.astype(np.int64)
            if lx.weights:
                keep = (np.left_shift(1, (p >> 14) & 3) & lx.weights) != 0
                per_slot, p = per_slot[keep], p[keep]
            parts.append((per_slot << _POS_SHIFT) | (p & 0x3FFF))
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(parts))

    def _phrase_positions(self, node: Any) -> np.ndarray:
        if isinstance(node, Lex):
            return self._lex_positions(node)
        if isinstance(node, Op) and node.op == "<>":
            left = self._phrase_positions(node.children[0])
            right = self._phrase_positions(node.children[1])
            return np.intersect1d(left + node.distance, right, assume_unique=True)
        raise Unsupported("phrase of an expression")

    def ts_mask(self, node: Any) -> np.ndarray:
        if isinstance(node, Lex):
            return self._lex_mask(node)
        if node.op == "!":
            return ~self.ts_mask(node.children[0])
        if node.op == "<>":
            mask = np.zeros(self.n, dtype=bool)
            mask[(self._phrase_positions(node) >> _POS_SHIFT).astype(np.int64)] = True
            return mask
        masks = [self.ts_mask(c) for c in node.children]
        out = masks[0].copy()
        for m in masks[1:]:
            if node.op == "&":
                out &= m
            else:
                out |= m
        return out

    def _kept(self, key: Any, make: Any) -> np.ndarray:
        """A column or label mask, made once per built index (read-only: they are shared)."""
        got = self._masks.get(key)
        if got is None:
            if len(self._masks) > 256:
                self._masks.clear()
            got = make()
            got.flags.writeable = False
            self._masks[key] = got
        return got

    def column_mask(self, column: str, values: Iterable[Any]) -> np.ndarray:
        vals = frozenset(values)

        def make() -> np.ndarray:
            mask = np.zeros(self.n, dtype=bool)
            by_value = self.b.columns.get(column, {})
            for v in vals:
                slots = by_value.get(v)
                if slots is not None:
                    mask[slots] = True
            return mask
        return self._kept(("column", column, vals), make)

    def null_mask(self, column: str) -> np.ndarray:
        return self.column_mask(column, [None])

    def labels_mask(self, labels: Iterable[str], any_of: bool) -> np.ndarray:
        labs = frozenset(labels)
        return self._kept(("labels", labs, any_of), lambda: self._labels_mask(labs, any_of))

    def _labels_mask(self, labels: Iterable[str], any_of: bool) -> np.ndarray:
        masks = []
        for lab in sorted(set(labels)):
            m = np.zeros(self.n, dtype=bool)
            slots = self.b.labels.get(lab)
            if slots is not None:
                m[slots] = True
            masks.append(m)
        if not masks:
            return np.ones(self.n, dtype=bool)
        out = masks[0]
        for m in masks[1:]:
            out = (out | m) if any_of else (out & m)
        return out

    # answering -----------------------------------------------------------------------
    def answer(self, where: Any, facet_ids: set[int] | None, rank_query: str | None,
               sort: Sequence[tuple[str, bool]], start: int, rows: int,
               min_hits: int = 0) -> Answer:
        """``where``: a ``Where`` (see ``evaluate``); ``facet_ids``: the facet values to
        count (None: none); the page: ``rows`` from ``start`` in the order of ``sort``;
        fewer than ``min_hits`` matches raise ``Unsupported``."""
        mask = where.base(self) & self.alive
        over = [d for d in self.overlay.values() if where.doc(d)]
        hits = int(np.count_nonzero(mask)) + len(over)
        if hits < min_hits:
            raise Unsupported("a small match set (SQL reads it as fast)")
        counts: list[tuple[int, int]] = []
        if facet_ids is not None:
            extra: dict[int, int] = {}
            for d in over:
                for f in d.facets:
                    if f in facet_ids:
                        extra[f] = extra.get(f, 0) + 1
            base = self._facet_counts(mask, facet_ids)
            for fid in facet_ids:
                n = base.get(fid, 0) + extra.get(fid, 0)
                if n:
                    counts.append((fid, n))
        page = self._page(mask, over, rank_query, sort, start, rows)
        return Answer(hits, counts, page)

    def _facet_counts(self, mask: np.ndarray, facet_ids: set[int]) -> dict[int, int]:
        """How many slots of ``mask`` carry each of ``facet_ids``: a small match set from
        its rows' facet ids, a large one per facet value."""
        slots = np.flatnonzero(mask)
        wanted = [f for f in facet_ids if f in self.b.facets]
        per_value = sum(len(np.atleast_1d(self.b.facets[f])) for f in wanted)
        starts = self.facet_offsets[slots]
        lengths = self.facet_offsets[slots + 1] - starts
        if int(lengths.sum()) < per_value:
            total = int(lengths.sum())
            if not total:
                return {}
            idx = np.repeat(starts - np.concatenate([[0], np.cumsum(lengths)[:-1]]), lengths) \
                + np.arange(total)
            found, n = np.unique(self.facet_ids[idx], return_counts=True)
            want = set(wanted)
            return {int(f): int(c) for f, c in zip(found, n, strict=True) if int(f) in want}
        return {f: int(np.count_nonzero(mask[self.b.facets[f]])) for f in wanted}

    def _rank_terms(self, rank_query: str) -> list[str]:
        tree = parse_tsquery(rank_query)
        if isinstance(tree, Op) and tree.op in ("&", "<>"):
            raise Unsupported("ts_rank of a conjunction (calc_rank_and)")
        ops = operands(tree)
        if any(o.prefix or o.weights for o in ops):
            raise Unsupported("ts_rank of a prefix or weighted operand")
        # SortAndUniqItems: operands sorted by their bytes, each once
        return sorted({o.text for o in ops}, key=lambda t: t.encode())

    def _scores(self, terms: list[str]) -> np.ndarray:
        score = np.zeros(self.n, dtype=np.float32)
        for t in terms:
            slots, contrib = self.lexeme_rank(t)
            score[slots] = (score[slots].astype(np.float64) + contrib).astype(np.float32)
        return score / np.float32(len(terms))

    @staticmethod
    def _doc_score(d: DocData, terms: list[str]) -> np.float32:
        res = np.float32(0.0)
        for t in terms:
            c = d.rank.get(t)
            if c is not None:
                res = np.float32(np.float64(res) + c)
        return np.float32(res / np.float32(len(terms)))

    def _page(self, mask: np.ndarray, over: list[DocData], rank_query: str | None,
              sort: Sequence[tuple[str, bool]], start: int, rows: int) -> list[tuple[str, float]]:
        keys: list[tuple[str, bool]] = []
        for f, desc in sort:
            if f == "score":
                if rank_query:
                    keys.append(("score", desc))
            elif f in ("metadata_modified", "metadata_created"):
                keys.append((f, desc))
            elif f == "index_id":
                keys.append((f, desc))
                break
            else:
                raise Unsupported(f"sort by {f}")
        terms = self._rank_terms(rank_query) if rank_query else []
        want = start + rows
        slots = np.flatnonzero(mask)
        base_score = self._scores(terms)[slots] if terms else np.ones(len(slots), np.float32)
        if want <= 0:
            return []
        # base order: lexsort's last key is the primary one; the slot (index_id) order last
        lex_keys: list[np.ndarray] = [slots] if not (keys and keys[-1][0] == "index_id") else []
        for f, desc in reversed(keys):
            if f == "score":
                k = base_score.astype(np.float64)
            elif f == "index_id":
                k = slots.astype(np.float64)
            else:
                col = self.b.modified if f == "metadata_modified" else self.b.created
                k = col[slots].astype(np.float64)
                # NULLS LAST both ways
                null = col[slots] == _NULL_TIME
                k = np.where(null, np.inf, -k if desc else k)
                lex_keys.append(k)
                continue
            lex_keys.append(-k if desc else k)
        order = np.lexsort(lex_keys) if len(slots) else slots
        top = order[:want]
        cand: list[tuple[tuple[Any, ...], str, float]] = []
        for i in top:
            slot = int(slots[i])
            sc = float(base_score[i])
            cand.append((self._key(keys, sc, int(self.b.modified[slot]),
                                   int(self.b.created[slot]), self.b.index_ids[slot]),
                         self.b.index_ids[slot], sc))
        for d in over:
            sc = float(self._doc_score(d, terms)) if terms else 1.0
            cand.append((self._key(keys, sc, d.modified, d.created, d.index_id), d.index_id, sc))
        cand.sort(key=lambda c: c[0])
        return [(iid, sc) for _, iid, sc in cand[start:want]]

    @staticmethod
    def _key(keys: list[tuple[str, bool]], score: float, modified: int, created: int,
             index_id: str) -> tuple[Any, ...]:
        out: list[Any] = []
        for f, desc in keys:
            if f == "score":
                out.append(-score if desc else score)
            elif f == "index_id":
                out.append(_Desc(index_id) if desc else index_id)
                return tuple(out)
            else:
                t = modified if f == "metadata_modified" else created
                out.append((1, 0) if t == _NULL_TIME else (0, -t if desc else t))
        out.append(index_id)
        return tuple(out)


class _Desc:
    __slots__ = ("v",)

    def __init__(self, v: str):
        self.v = v

    def __lt__(self, other: "_Desc") -> bool:
        return self.v > other.v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Desc) and self.v == other.v


def _merge_groups(remap: np.ndarray, slots: np.ndarray, off: np.ndarray, pos: np.ndarray,
                  add: list[tuple[int, tuple[int, ...]]]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Postings with positions (slots, offsets, positions) under ``remap`` (-1: dropped),
    plus ``add`` ((slot, positions)), ordered by slot."""
    new = remap[slots]
    keep = new >= 0
    groups = [(int(s), pos[off[i]:off[i + 1]]) for i, s in zip(np.flatnonzero(keep),
                                                                 new[keep], strict=True)]
    groups += [(s, np.array(p, dtype=np.int64)) for s, p in add]
    groups.sort(key=lambda g: g[0])
    out_slots = np.array([s for s, _ in groups], dtype=np.int32)
    sizes = np.array([len(p) for _, p in groups], dtype=np.int64)
    out_off = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    out_pos = np.concatenate([p for _, p in groups]).astype(np.int64) if groups else \
        np.zeros(0, dtype=np.int64)
    return out_slots, out_off, out_pos


# --------------------------------------------------------------------------- queries
class Where:
    """A query's condition, evaluable on the built slots (``base``) and on one document
    (``doc``); built by ``evaluate`` from the syntax tree with the SQL compiler's rules."""

    def __init__(self, base: Any, doc: Any):
        self.base = base
        self.doc = doc


def _doc_ts(node: Any, d: DocData) -> bool:
    if isinstance(node, Lex):
        return any(_doc_lex_positions(node, d, lexeme) is not None
                   for lexeme in _doc_lexemes(node, d))
    if node.op == "!":
        return not _doc_ts(node.children[0], d)
    if node.op == "<>":
        return bool(_doc_phrase(node, d))
    results = (_doc_ts(c, d) for c in node.children)
    return all(results) if node.op == "&" else any(results)


def _doc_lexemes(lx: Lex, d: DocData) -> list[str]:
    if lx.prefix:
        raise Unsupported("prefix operand")
    return [lx.text] if lx.text in d.lexemes else []


def _doc_lex_positions(lx: Lex, d: DocData, lexeme: str) -> set[int] | None:
    """The positions of ``lexeme`` that ``lx``'s weights allow; None: none match."""
    pos = d.lexemes[lexeme]
    if not pos:
        return set()  # no positions: it matches any weight (and is at no phrase position)
    keep = {p & 0x3FFF for p in pos if not lx.weights or (1 << ((p >> 14) & 3)) & lx.weights}
    return keep if keep else None


def _doc_phrase(node: Any, d: DocData) -> set[int]:
    if isinstance(node, Lex):
        out: set[int] = set()
        for lexeme in _doc_lexemes(node, d):
            got = _doc_lex_positions(node, d, lexeme)
            if got:
                out |= got
        return out
    if isinstance(node, Op) and node.op == "<>":
        left = _doc_phrase(node.children[0], d)
        right = _doc_phrase(node.children[1], d)
        return {p + node.distance for p in left} & right
    raise Unsupported("phrase of an expression")


def names_documents(node: s.Node) -> bool:
    """Whether the query requires given ids or names (``id:X``, ``name:(A OR B)``, as
    ``package_show`` and the importer ask): a few rows the SQL reads by their keys."""
    def flat(n: s.Node) -> list[s.Node]:
        return [x for c in n.children for x in flat(c)] if isinstance(n, s.And) else [n]
    for p in flat(node):
        terms = p.children if isinstance(p, s.Or) else [p]
        if terms and all(isinstance(x, s.Term) and x.field in ("id", "name", "index_id")
                         for x in terms):
            return True
    return False


def evaluate(node: s.Node, tsq: Any) -> Where:
    """The ``Where`` of a syntax tree; ``tsq(node)`` is ``compiler.Compiler().tsq``.

    Mirrors ``Compiler.sql`` (the same parts become tsqueries, column tests and the rest);
    a column test on NULL is unknown, as in SQL, so a negated column test is false there.
    """
    q = tsq(node)
    if q is not None:
        tree = parse_tsquery(q)
        return Where(lambda ix: ix.ts_mask(tree), lambda d: _doc_ts(tree, d))
    if isinstance(node, (s.MatchAll, s.AtLeast, s.Text)):
        return _true()
    if isinstance(node, s.Term):
        return _columns([node], False)
    if isinstance(node, s.Not):
        child = node.child
        if isinstance(child, s.Term) and child.field in COLUMNS:
            # NOT (col = v): false where col is NULL
            inner = _columns([child], False)
            col = child.field
            return Where(lambda ix: ~inner.base(ix) & ~ix.null_mask(col),
                         lambda d: d.columns.get(col) is not None and not inner.doc(d))
        if _has_column(child):
            raise Unsupported("negated column expression")
        inner = evaluate(child, tsq)
        return Where(lambda ix: ~inner.base(ix), lambda d: not inner.doc(d))
    if isinstance(node, (s.And, s.Or)):
        any_of = isinstance(node, s.Or)
        cols = [c for c in node.children if isinstance(c, s.Term) and _is_column(c.field)]
        others = [c for c in node.children if c not in cols]
        parts: list[Where] = []
        if cols:
            parts.append(_columns(cols, any_of))
        matched = [(c, tsq(c)) for c in others]
        ts = [q for _, q in matched if q is not None]
        if ts:
            tree = parse_tsquery((" | " if any_of else " & ").join(ts))
            parts.append(Where(lambda ix, t=tree: ix.ts_mask(t), lambda d, t=tree: _doc_ts(t, d)))
        parts += [evaluate(c, tsq) for c, q in matched if q is None]
        if not parts:
            return _true()
        return _combine(parts, any_of)
    raise Unsupported(f"query node {type(node).__name__}")


def _true() -> Where:
    return Where(lambda ix: np.ones(ix.n, dtype=bool), lambda d: True)


def _combine(parts: list[Where], any_of: bool) -> Where:
    def base(ix: MemoryIndex) -> np.ndarray:
        out = parts[0].base(ix).copy()
        for p in parts[1:]:
            if any_of:
                out |= p.base(ix)
            else:
                out &= p.base(ix)
        return out

    def doc(d: DocData) -> bool:
        results = (p.doc(d) for p in parts)
        return any(results) if any_of else all(results)
    return Where(base, doc)


def _has_column(node: s.Node) -> bool:
    if isinstance(node, s.Term):
        return _is_column(node.field)
    if isinstance(node, s.Not):
        return _has_column(node.child)
    if isinstance(node, (s.And, s.Or, s.AtLeast)):
        return any(_has_column(c) for c in node.children)
    return False


def _columns(nodes: list[s.Term], any_of: bool) -> Where:
    """Column tests as ``Compiler.columns`` writes them, joined with AND (OR: ``any_of``)."""
    by_column: dict[str, set[str]] = {}
    labels: list[str] = []
    for n in nodes:
        if n.field == LABELS_FIELD:
            labels.append(n.value)
        else:
            by_column.setdefault(n.field, set()).add(n.value)
    parts: list[Where] = []
    for column, values in by_column.items():
        if len(values) > 1 and not any_of:
            parts.append(Where(lambda ix: np.zeros(ix.n, dtype=bool), lambda d: False))
            continue
        vals = frozenset(values)
        parts.append(Where(lambda ix, c=column, v=vals: ix.column_mask(c, v),
                           lambda d, c=column, v=vals: d.columns.get(c) in v))
    if labels:
        labs = frozenset(labels)
        parts.append(Where(
            lambda ix: ix.labels_mask(labs, any_of),
            lambda d: bool(d.labels & labs) if any_of else labs <= d.labels))
    return _combine(parts, any_of) if parts else _true()
