"""The search backend interface and the document preparation every backend shares.

CKAN builds a flat index document per dataset (``PackageSearchIndex.index_package``,
including ``before_dataset_index`` and permission labels) and sends Solr-syntax queries.
``connection.SolrCompatConnection`` turns both into the typed values below, so a backend
only implements ``add``, ``delete``, ``search`` and ``commit``. Pure Python: no CKAN import.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol

from . import segment
from .syntax import Node

# Fields CKAN keeps as serialized blobs: stored, never matched.
BLOB_FIELDS = ("data_dict", "validated_data_dict")
# Default facetable fields (CKAN's defaults and the sanyi schemas' facets).
DEFAULT_FACET_FIELDS = (
    "organization", "groups", "tags", "res_format", "license_id", "dataset_type",
    "source_unit", "delivery_methods", "update_cycle", "domain", "grade_level",
    "open_attribute", "category", "product_forms", "status", "supplying_units",
)
# Which fields feed which full-text weight (A ranks highest).
WEIGHTED_FIELDS: dict[str, tuple[str, ...]] = {
    "A": ("title",),
    "B": ("name", "tags", "groups", "organization", "index_keywords"),
    "C": ("notes", "res_name", "res_description"),
    "D": ("index_text",),
}
_NOT_TERMS = frozenset(BLOB_FIELDS) | {"notes", "index_text", "res_description"}
_MAX_TERM = 256


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
    terms: list[str]
    facets: list[str]
    weighted_text: dict[str, str]  # weight -> space-separated tokens


class SearchBackend(Protocol):
    """What a search engine must do for CKAN (see postgres.py, elastic.py)."""

    def add(self, docs: list[PreparedDoc]) -> None: ...

    def delete(self, query: Node) -> int: ...

    def search(self, request: SearchRequest) -> SearchResult: ...

    def commit(self) -> None: ...


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
    weighted = {
        w: " ".join(tok for f in fields for v in _values(doc.get(f))
                    for tok in segment.index_tokens(v))
        for w, fields in WEIGHTED_FIELDS.items()
    }
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
        terms=sorted(set(terms)),
        facets=sorted(set(facets)),
        weighted_text=weighted,
    )


def tsquery_text(value: str, field_name: str | None = None) -> str | None:
    """A PostgreSQL/engine-neutral AND query of the segmented words of ``value``.

    Returns None when the value has no word at all (only punctuation).
    """
    tokens = segment.query_tokens(value)
    if not tokens:
        return None
    weight = {"title": "A", "notes": "C", "res_name": "C", "res_description": "C"}.get(
        field_name or "", "")
    parts = []
    for tok in tokens:
        quoted = "'" + tok.replace("\\", "\\\\").replace("'", "''") + "'"
        # a one-character query word matches the words that start with it (药 -> 药品)
        suffix = ("*" if len(tok) == 1 else "") + weight
        parts.append(quoted + (":" + suffix if suffix else ""))
    return " & ".join(parts)
