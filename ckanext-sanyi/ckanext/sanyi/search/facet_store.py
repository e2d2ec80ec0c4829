"""Facet counts kept with the index (``sanyi_search_facet_count``, migration 0012).

Counting the facets of a large result row by row (every matching row's ``facet_ids``) is
what makes a search of the whole catalog slow: the dataset page's empty query reads and
counts every public row. The table keeps, per visibility group (site, state, capacity,
dataset type, entity type, permission labels: the plain columns every search filters on),
for each key facet value the number of rows carrying each facet value; the key ``*`` (every
document) is the unfiltered catalog. Statement triggers on the index table maintain it in
the same transaction as each index write, so it is exact whenever the index is.

A search is answered from the store when its query is only visibility conditions (terms,
or alternatives of terms, on those columns and on the permission labels) and at most one
facet value (``update_cycle:"monthly"``), every requested facet field is a stored one and
there is no full-text part: then its hit count and facet counts are a sum over the matching
groups (a few hundred rows), and its page is read from the index as before. Any other query
(full text, two facet values, ranges, negations) is counted directly from its rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import syntax as s
from .backend import ALL_DOCS, COLUMN_FIELDS, LABELS_FIELD, SearchRequest, term

__all__ = ["TABLE", "Plan", "plan", "counts_sql"]

TABLE = "sanyi_search_facet_count"
FACET_VALUES = "sanyi_search_facet_value"
# the columns of a visibility group (also columns of the index table, of the same names)
GROUP_FIELDS = frozenset(COLUMN_FIELDS) | {"site_id", LABELS_FIELD}


@dataclass(frozen=True)
class Plan:
    """What the store answers: the key facet value and the visibility conditions."""
    key: str                 # "field=value", or ALL_DOCS
    visibility: tuple[s.Node, ...]


def _is_visibility(node: s.Node) -> bool:
    if isinstance(node, s.Term):
        return node.field in GROUP_FIELDS
    if isinstance(node, s.Or):
        fields = {c.field for c in node.children if isinstance(c, s.Term)}
        return len(fields) == 1 and len(node.children) > 0 and \
            all(isinstance(c, s.Term) for c in node.children) and fields <= GROUP_FIELDS
    if isinstance(node, s.And):
        return all(_is_visibility(c) for c in node.children)
    return False


def _flatten(node: s.Node) -> list[s.Node]:
    if isinstance(node, s.And):
        return [x for c in node.children for x in _flatten(c)]
    return [node]


def plan(req: SearchRequest, stores_facet: Callable[[str], bool]) -> Plan | None:
    """The store's answer to ``req``, or None when its rows must be counted directly."""
    if not req.facet_fields or req.rank_texts:
        return None
    if not all(stores_facet(f) for f in req.facet_fields):
        return None
    visibility: list[s.Node] = []
    key: str | None = None
    for node in _flatten(req.query):
        if isinstance(node, s.MatchAll):
            continue
        if _is_visibility(node):
            visibility.append(node)
        elif isinstance(node, s.Term) and key is None and stores_facet(node.field):
            key = term(node.field, node.value)
        else:
            return None
    return Plan(key=key or ALL_DOCS, visibility=tuple(visibility))


def counts_sql(compiler: object, p: Plan) -> str:
    """A scalar subquery: ``[[facet_id, n], ...]`` (json) for the plan's rows, ``*`` included
    (the hit count). ``compiler`` is the search's ``compiler.Compiler`` (binds parameters)."""
    from .compiler import Compiler
    assert isinstance(compiler, Compiler)
    where = compiler.sql(s.And(p.visibility)) if p.visibility else "TRUE"
    key = compiler.bind(p.key)
    return (f"(SELECT json_agg(json_build_array(facet_id, n)) FROM ("
            f"SELECT d.facet_id, sum(d.n) AS n FROM {TABLE} d "
            f"WHERE d.key_id = (SELECT v.id FROM {FACET_VALUES} v WHERE v.term = {key}) "
            f"AND {where} GROUP BY d.facet_id HAVING sum(d.n) > 0) x)")
