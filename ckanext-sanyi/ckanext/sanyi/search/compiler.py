"""SQL for the PostgreSQL search backend: a query's syntax tree as one boolean expression on
the index table ``d`` with bound parameters (``Compiler``), and the ORDER BY of a sort.

No text of a query ever becomes SQL text: values are bound parameters; field names that reach
the SQL are fixed column names, and any other sort field is looked up as a bound parameter.
"""
from __future__ import annotations

import itertools
import math
import re
from typing import Any

from . import syntax as s
from .backend import COLUMN_FIELDS, LABELS_FIELD, term, tsquery_text
from .syntax import solr_date

TABLE = "sanyi_search_doc"
_SORT_COLUMNS = {
    "metadata_modified": "metadata_modified", "metadata_created": "metadata_created",
    "title_string": "title_sort", "name": "name", "title": "title_sort", "id": "id",
    "index_id": "index_id",
}
_TIME_COLUMNS = ("metadata_created", "metadata_modified")
# single-valued fields with their own (b-tree indexed) column
KEY_COLUMNS = ("id", "name", "index_id", "site_id")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
# the most k-subsets a minimum-should-match query is spelled out as
MAX_SUBSETS = 64
# LIMIT and OFFSET are bigint: larger rows/start ask for rows past any index's end anyway
MAX_ROW = 2**31 - 1


def _ts(value: str | None) -> str | None:
    if not value:
        return None
    return value[:-1] if value.endswith("Z") else value


class Compiler:
    """Turn a syntax tree into a SQL boolean expression on ``d`` with bound parameters.

    Exact terms live in ``tsv`` too, as verbatim ``field=value`` lexemes, so every part of a
    query made of words, terms and term prefixes (with AND, OR, NOT) becomes one tsquery:
    ``d.tsv @@ '...'``, one GIN index scan with nothing to re-check in the (out-of-line)
    vector. Visibility, type and key fields are plain columns instead; ranges compare the
    ``terms`` list.
    """

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def match(self, tsquery: str) -> str:
        return f"d.tsv @@ CAST({self.bind(tsquery)} AS tsquery)"

    # the tsquery of a node, or None when (part of) it needs SQL
    def tsq(self, node: s.Node) -> str | None:
        if isinstance(node, s.Term):
            if _is_column(node.field):
                return None
            return _lexeme(term(node.field, node.value))
        if isinstance(node, s.Text):
            q = tsquery_text(node.value, node.field, phrase=node.phrase)
            return f"( {q} )" if q else None
        if isinstance(node, s.AtLeast):
            return self.at_least(node)
        if isinstance(node, s.Prefix):
            return _lexeme(term(node.field, node.prefix)) + ":*"
        if isinstance(node, s.Not):
            q = self.tsq(node.child)
            return f"!{q}" if q else None
        if isinstance(node, (s.And, s.Or)):
            parts = [self.tsq(c) for c in node.children]
            if any(p is None for p in parts):
                return None
            op = " & " if isinstance(node, s.And) else " | "
            return "( " + op.join(parts) + " )"  # type: ignore[arg-type]
        return None

    def at_least(self, node: s.AtLeast) -> str | None:
        """k of n clauses as one tsquery: the OR of every k-subset's AND (the subsets are
        few for the queries people type; past ``MAX_SUBSETS`` every clause is required)."""
        parts = [q for q in (self.tsq(c) for c in node.children) if q is not None]
        if not parts:
            return None
        k = min(node.k, len(parts))
        if k >= len(parts) or math.comb(len(parts), k) > MAX_SUBSETS:
            return "( " + " & ".join(parts) + " )"
        return "( " + " | ".join("( " + " & ".join(c) + " )"
                                 for c in itertools.combinations(parts, k)) + " )"

    def sql(self, node: s.Node) -> str:
        q = self.tsq(node)
        if q is not None:
            return self.match(q)
        if isinstance(node, (s.MatchAll, s.AtLeast)):  # AtLeast: no word at all
            return "TRUE"
        if isinstance(node, s.Term):
            return self.columns([node])[0]
        if isinstance(node, s.Text):  # no word at all (only punctuation): no condition
            return "TRUE"
        if isinstance(node, s.Range):
            return self.range(node)
        if isinstance(node, s.Not):
            inner = self.sql(node.child)
            return "FALSE" if inner == "TRUE" else f"NOT ({inner})"
        if isinstance(node, (s.And, s.Or)):
            any_of = isinstance(node, s.Or)
            cols: list[s.Term] = []
            others: list[s.Node] = []
            for c in node.children:
                if isinstance(c, s.Term) and _is_column(c.field):
                    cols.append(c)
                else:
                    others.append(c)
            queries = [(c, self.tsq(c)) for c in others]
            parts = self.columns(cols, any_of) if cols else []
            matched = [q for _, q in queries if q is not None]
            if matched:
                parts.append(self.match((" | " if any_of else " & ").join(matched)))
            parts += [self.sql(c) for c, q in queries if q is None]
            if any_of:
                if "TRUE" in parts:
                    return "TRUE"
                return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
            parts = [p for p in parts if p != "TRUE"] or ["TRUE"]
            return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"
        raise TypeError(f"unknown node {node!r}")

    def columns(self, nodes: list[s.Term], any_of: bool = False) -> list[str]:
        """Tests of column fields for a conjunction (or, ``any_of``, a disjunction) of terms,
        to be joined with AND (OR): ``=``/``= ANY`` on a column, ``@>``/``&&`` on labels."""
        by_column: dict[str, list[str]] = {}
        labels: list[str] = []
        for n in nodes:
            if n.field == LABELS_FIELD:
                labels.append(n.value)
            else:
                by_column.setdefault(n.field, []).append(n.value)
        parts = []
        for column, values in by_column.items():
            values = sorted(set(values))
            if len(values) == 1:
                parts.append(f"d.{column} = {self.bind(values[0])}")
            elif any_of:
                parts.append(f"d.{column} = ANY(CAST({self.bind(values)} AS text[]))")
            else:  # one column cannot equal two values
                parts.append("FALSE")
        if labels:
            op = "&&" if any_of else "@>"
            parts.append(f"d.labels {op} CAST({self.bind(sorted(set(labels)))} AS text[])")
        return parts

    def range(self, node: s.Range) -> str:
        column = _SORT_COLUMNS.get(node.field)
        if column in _TIME_COLUMNS:
            parts = []
            for bound, op in ((node.low, ">=" if node.include_low else ">"),
                              (node.high, "<=" if node.include_high else "<")):
                if bound is not None:
                    value = _ts(solr_date(bound))
                    parts.append(f"d.{column} {op} CAST({self.bind(value)} AS timestamptz)")
            return "(" + " AND ".join(parts) + ")" if parts else f"d.{column} IS NOT NULL"
        # any other field: compare its terms (numerically when both bounds are numbers)
        prefix = node.field + "="
        numeric = all(b is None or _NUMBER.match(b) for b in (node.low, node.high)) and \
            any(b is not None for b in (node.low, node.high))
        value = f"substr(t, {len(prefix) + 1})"
        conds = [f"t LIKE {self.bind(_like_escape(prefix) + '%')}"]
        if numeric:
            conds.append(f"{value} ~ '^-?[0-9]+(\\.[0-9]+)?$'")
            value = f"CAST({value} AS numeric)"
        for bound, op in ((node.low, ">=" if node.include_low else ">"),
                          (node.high, "<=" if node.include_high else "<")):
            if bound is None:
                continue
            if numeric:
                conds.append(f"{value} {op} CAST({self.bind(bound)} AS numeric)")
            else:
                if node.field.endswith("_date") or node.field in _TIME_COLUMNS:
                    bound = solr_date(bound)
                conds.append(f"{value} {op} {self.bind(bound)}")
        # the LIKE test runs first, so a non-numeric value of another field is never cast
        inner = " AND ".join(conds)
        if numeric:
            inner = f"CASE WHEN {conds[0]} AND {conds[1]} THEN " + \
                " AND ".join(conds[2:] or ["TRUE"]) + " ELSE FALSE END"
        return f"EXISTS (SELECT 1 FROM unnest(d.terms) t WHERE {inner})"


def _is_column(field_name: str) -> bool:
    return field_name in COLUMN_FIELDS or field_name in KEY_COLUMNS or field_name == LABELS_FIELD


def _lexeme(value: str) -> str:
    """A tsquery operand taken verbatim (no parsing, no normalisation)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _order(c: Compiler, field_name: str, desc: bool, has_score: bool) -> str | None:
    """The ORDER BY term for a sort field. The field's name never becomes SQL text: a known
    field sorts by its column, any other (checked by ``connection.parse_sort``) by its stored
    value, looked up with the name as a bound parameter."""
    direction = "DESC NULLS LAST" if desc else "ASC NULLS LAST"
    if field_name == "score":
        return f"score {direction}" if has_score else None
    column = _SORT_COLUMNS.get(field_name)
    if column:
        return f"d.{column} {direction}"
    return f"(SELECT st.doc->>CAST({c.bind(field_name)} AS text) FROM {TABLE} st " \
           f"WHERE st.index_id = d.index_id) {direction}"
