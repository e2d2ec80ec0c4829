"""The search backend interface and the document preparation every backend shares.

CKAN builds a flat index document per dataset (``PackageSearchIndex.index_package``,
including ``before_dataset_index`` and permission labels) and sends Solr-syntax queries.
``connection.SolrCompatConnection`` turns both into the typed values below, so a backend
only implements ``add``, ``delete``, ``search`` and ``commit``. Pure Python: no CKAN import.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Protocol

from . import analysis, segment
from .syntax import Node

# Fields CKAN keeps as serialized blobs: stored, never matched.
BLOB_FIELDS = ("data_dict", "validated_data_dict")
# Default facetable fields (CKAN's defaults and the sanyi schemas' facets).
# Counting reads every value stored here for every matching dataset, so only fields that
# pages ask facets for are stored (owner_org: organization_list's counts). Any other field can
# still be a facet: it is counted from the terms, more slowly.
DEFAULT_FACET_FIELDS = (
    "organization", "owner_org", "groups", "tags", "res_format", "license_id",
    "delivery_methods", "update_cycle", "domain", "grade_level",
    "category", "product_forms", "status", "supplying_units",
)
# Which fields feed which full-text weight (A ranks highest).
# D also takes every ``extras_*`` field (free text covers extras, as CKAN's Solr schema does).
WEIGHTED_FIELDS: dict[str, tuple[str, ...]] = {
    "A": ("title", "title_en"),
    "B": ("name", "tags", "groups", "index_keywords"),
    "C": ("notes", "res_name", "res_description"),
    "D": ("index_text", "author", "maintainer"),
}
EXTRAS_PREFIX = "extras_"
# Positions between two values of one weight (no phrase spans them); each weight's first
# value starts past this gap too, since PostgreSQL's || appends a vector after the other.
POSITION_GAP = 100
# Latin words of these fields are also indexed by their inner suffixes ("~ublic", "~blic",
# ...), so that autocomplete (``title_ngram:bli``) finds words that contain the query.
INFIX_FIELDS = frozenset({"title", "title_en", "name"})
INFIX_MARK = "~"
_LATIN_WORD = re.compile(r"^[0-9a-z]{3,}$")
# Analysed text and per-document timestamps: matched through the full-text vector or the
# timestamp columns, never as exact terms (they would only bloat the terms index).
UNIGRAM_WEIGHTS = frozenset("A")
# Relevance is computed from the title (A) and these short fields (B) only: a match elsewhere
# (description, unit, labels) makes a dataset a result but does not lift it in the order.
RANK_B_FIELDS = ("tags", "groups")
_NOT_TERMS = frozenset(BLOB_FIELDS) | {
    "notes", "index_text", "index_keywords", "res_description", "res_name", "title",
    "text", "metadata_created", "metadata_modified"}
_MAX_TERM = 256
# Every document's facet list starts with this, so one pass counts hits and facet values.
ALL_DOCS = "*"
# Weight of each text field a query may name (title:x); "" is every weight.
FIELD_WEIGHTS = {"title": "A", "title_en": "A", "title_ngram": "A", "name_ngram": "B", "notes": "C",
                 "res_name": "C", "res_description": "C"}
PREFIX_FIELDS = frozenset({"title_ngram", "name_ngram"})


@dataclass(frozen=True)
class SearchRequest:
    query: Node                       # q and every fq, already combined
    rank_texts: tuple[str, ...] = ()  # full-text values that drive relevance
    facet_fields: tuple[str, ...] = ()
    facet_limit: int = 50             # < 0: unlimited
    facet_mincount: int = 1
    sort: tuple[tuple[str, bool], ...] = (("score", True),)  # (field, descending)
    rows: int = 10
    start: int = 0
    fields: tuple[str, ...] = ("id",)


@dataclass
class SearchResult:
    hits: int
    docs: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class PreparedDoc:
    index_id: str
    id: str
    site_id: str
    name: str | None
    title: str | None
    metadata_created: str | None
    metadata_modified: str | None
    doc: dict[str, Any]
    blobs: dict[str, str | None]
    columns: dict[str, Any]  # COLUMN_FIELDS values, permission labels
    terms: list[str]
    facets: list[str]
    weighted_text: dict[str, str]  # weight -> space-separated tokens
    rank_text: str = ""  # tokens of tags and groups: ranked (weight B) with the title
    # weight -> the same tokens with their positions, as tsvector input (see analysis.py)
    postings: dict[str, str] = field(default_factory=dict)
    rank_postings: str = ""
    title_sort: str = ""  # the title as pinyin (analysis.sort_key)


class SearchBackend(Protocol):
    """What a search engine must do for CKAN (see postgres.py, elastic.py)."""

    def add(self, docs: list[PreparedDoc]) -> None: ...

    def delete(self, query: Node) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def commit(self) -> None: ...


# Single-valued fields every search filters on (visibility, type): backends may keep them as
# plain columns so that checking them never reads the (large) terms list.
COLUMN_FIELDS = ("state", "capacity", "dataset_type", "entity_type")
LABELS_FIELD = "permission_labels"


def _values(value: Any) -> list[str]:
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in _values(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    return [str(value)]


def term(field_name: str, value: str) -> str:
    return f"{field_name}={value}"


def prepare(doc: dict[str, Any], facet_fields: Iterable[str] = DEFAULT_FACET_FIELDS) -> PreparedDoc:
    """Split a CKAN index document into what backends store and match on."""
    facet_set = set(facet_fields)
    stored = {k: v for k, v in doc.items() if k not in BLOB_FIELDS}
    terms: list[str] = []
    facets: list[str] = []
    for key, value in stored.items():
        if key in _NOT_TERMS:
            continue
        for v in _values(value):
            if len(v) > _MAX_TERM:
                continue
            t = term(key, v)
            terms.append(t)
            if key in facet_set:
                facets.append(t)
    weighted: dict[str, str] = {}
    postings: dict[str, str] = {}
    extras = tuple(sorted(k for k in doc if k.startswith(EXTRAS_PREFIX)))
    for w, fields in WEIGHTED_FIELDS.items():
        pairs = _field_postings(doc, fields + (extras if w == "D" else ()),
                                unigrams=w in UNIGRAM_WEIGHTS)
        weighted[w] = " ".join(dict.fromkeys(tok for tok, _ in pairs))
        postings[w] = analysis.tsvector_literal(pairs)
    rank_pairs = _field_postings(doc, RANK_B_FIELDS, unigrams=False)
    return PreparedDoc(
        index_id=str(doc.get("index_id") or doc["id"]),
        id=str(doc["id"]),
        site_id=str(doc.get("site_id") or ""),
        name=doc.get("name"),
        title=doc.get("title"),
        metadata_created=doc.get("metadata_created"),
        metadata_modified=doc.get("metadata_modified"),
        doc=json.loads(json.dumps(stored, default=str)),
        blobs={k: doc.get(k) for k in BLOB_FIELDS},
        columns={**{k: next(iter(_values(doc.get(k))), None) for k in COLUMN_FIELDS},
                 LABELS_FIELD: sorted(set(_values(doc.get(LABELS_FIELD))))},
        terms=sorted(set(terms)),
        facets=[ALL_DOCS] + sorted(set(facets)),
        weighted_text=weighted,
        rank_text=" ".join(dict.fromkeys(tok for tok, _ in rank_pairs)),
        postings=postings,
        rank_postings=analysis.tsvector_literal(rank_pairs),
        title_sort=analysis.sort_key(doc.get("title")),
    )


def _field_postings(doc: dict[str, Any], fields: Iterable[str],
                    unigrams: bool) -> list[tuple[str, int]]:
    """The (token, position) pairs of some fields' values, one after another with
    ``POSITION_GAP`` between values; CJK words also as pinyin, Latin words of
    ``INFIX_FIELDS`` also by their suffixes, at the word's position."""
    out: list[tuple[str, int]] = []
    base = POSITION_GAP
    for f in fields:
        for v in _values(doc.get(f)):
            pairs, top = _value_postings(v, unigrams, f in INFIX_FIELDS)
            out.extend((tok, base + unit) for tok, unit in pairs)
            base += top + POSITION_GAP
    return out


@lru_cache(maxsize=8192)
def _value_postings(value: str, unigrams: bool, infix: bool
                    ) -> tuple[tuple[tuple[str, int], ...], int]:
    """One value's (token, unit) pairs with their pinyin and infix forms, and its last unit
    (0 for none). Kept for the values many documents share (units, labels, dates)."""
    out: list[tuple[str, int]] = []
    top = 0
    for tok, unit in segment.index_postings(value, unigrams=unigrams):
        if unit > top:
            top = unit
        out.append((tok, unit))
        if len(tok) > 1:
            for form in analysis.pinyin_forms(tok):
                out.append((form, unit))
        if infix and _LATIN_WORD.match(tok):
            out.extend((INFIX_MARK + tok[i:], unit) for i in range(1, len(tok) - 1))
    return tuple(out), top


def query_words(value: str, field_name: str | None = None) -> list[tuple[str, bool]]:
    """The words a full-text value must match, each with whether it matches as a prefix.

    A one-letter Latin word matches the words that start with it; a one-character CJK word
    is indexed on its own (see segment.py). The autocomplete fields (``*_ngram``) match
    every word as a prefix, as Solr's n-gram fields do.
    """
    prefix_all = field_name in PREFIX_FIELDS
    toks = segment.query_tokens(value)
    star = value.rstrip().endswith("*")  # hypert*: the last word is a prefix
    return [(tok, prefix_all or (len(tok) == 1 and not segment.is_cjk_char(tok))
             or (star and i == len(toks) - 1 and not segment.is_cjk_char(tok[:1])))
            for i, tok in enumerate(toks)]


def _lexeme(tok: str) -> str:
    return "'" + tok.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(value: str, field_name: str | None = None, op: str = "&",
                 phrase: bool = False) -> str | None:
    """A PostgreSQL ``to_tsquery`` string for ``value`` (words joined with ``op``).

    ``phrase``: the words at the distances they have in ``value`` (``<N>``, see
    segment.py's positions). Otherwise a word or run of words that the synonym file lists
    also matches each of its equivalents (as a phrase). Returns None when the value has no
    word at all (only punctuation).
    """
    words = query_words(value, field_name)
    if not words:
        return None
    weight = FIELD_WEIGHTS.get(field_name or "", "")
    infix = field_name in PREFIX_FIELDS

    def operand(tok: str, prefix: bool) -> str:
        suffix = ("*" if prefix else "") + weight
        lx = _lexeme(tok) + (":" + suffix if suffix else "")
        if infix and len(tok) > 1 and not segment.is_cjk_char(tok[:1]):
            return f"( {lx} | {_lexeme(INFIX_MARK + tok)}:{suffix} )"
        return lx

    if phrase and len(words) > 1 and not infix:
        return _phrase(segment.query_postings(value), weight)
    parts = []
    syn = analysis.synonyms()
    toks = [t for t, _ in words]
    i = 0
    while i < len(words):
        found = None
        if syn.alternatives and not infix:
            for j in range(min(len(toks), i + 6), i, -1):
                alts = syn.get(_join(toks[i:j]))
                if alts:
                    found = (j, alts)
                    break
        if found is None:
            parts.append(operand(*words[i]))
            i += 1
            continue
        j, alts = found
        own = " & ".join(operand(*w) for w in words[i:j])
        others = [q for q in (_phrase(segment.query_postings(a), weight) for a in alts) if q]
        parts.append("( " + " | ".join([f"( {own} )", *others]) + " )")
        i = j
    return f" {op} ".join(parts)


def _join(tokens: list[str]) -> str:
    out = ""
    for tok in tokens:
        if out and not (segment.is_cjk_char(out[-1]) and segment.is_cjk_char(tok[:1])):
            out += " "
        out += tok
    return out


def _phrase(postings: tuple[tuple[str, int], ...], weight: str) -> str | None:
    """Tokens at their distances: ``'门诊' <2> '收费'``."""
    if not postings:
        return None
    suffix = ":" + weight if weight else ""
    out = _lexeme(postings[0][0]) + suffix
    for (_, before), (tok, unit) in zip(postings, postings[1:], strict=False):
        out = f"{out} <{max(unit - before, 0)}> {_lexeme(tok)}{suffix}"
    return f"( {out} )" if len(postings) > 1 else out
