"""Small-cell suppression of a count table and its totals, so that no suppressed count can be
recovered from what is published.

A :class:`Grid` is an r × c table of counts with, optionally, its row totals, its column
totals and its grand total (a one-way table is an r × 1 grid with its column total). Every
value published — cells and totals alike — follows the same two rules:

1. **primary suppression**: a count from 1 to :data:`HIGH` (10) is shown as ``"<11"``
   (:data:`PRIMARY`, the CMS cell-size rule); 0 and counts of 11 or more are shown;
2. **complementary suppression**: more counts of 11 or more (never a 0) are hidden, shown as
   ``"suppressed"`` (:data:`COMPLEMENTARY`), until every hidden count is *protected*: someone
   who knows every shown value, that the table adds up, that a ``"<11"`` lies in 1..10 and a
   ``"suppressed"`` count is 11 or more, still finds at least two values possible for it.

**The audit** (:func:`protected`) is exact, not a heuristic. Written with the totals negated
where needed, the additivity equations of a two-way table form a network: one node per
equation (row i, column j, the totals' row, the totals' column; an equation not published is
the free ground node), one arc per count. A change of the hidden counts that keeps every
equation true is a circulation, and any such change decomposes into cycles each of which can
be applied alone within the bounds (interval bounds and a totally unimodular system). So a
hidden count has a second possible value exactly when a unit cycle runs through it along
hidden counts that can each move by one in the cycle's direction: a reachability question in
the residual graph, answered by a search over at most a few dozen arcs. The tests check it by
brute force: they enumerate every assignment consistent with the published values.

**The choice of complements** is greedy: for the first unprotected count, the shown count of
11 or more with the smallest value (cells before totals) that protects it alone; when no
single one does, the smallest neighbour, and audit again. Hiding more never unprotects a count,
so this ends; if nothing is left to hide and a count is still unprotected, the whole table is
withheld (:attr:`Published.withheld`), which the tests never meet.

Not covered: an attacker who also knows this algorithm's choices, and differences between
overlapping queries (the operation bounds those by fixed categories and whole months).

Pure: no CKAN or database import.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

__all__ = ["Grid", "Published", "Key", "suppress", "protected", "PRIMARY", "COMPLEMENTARY",
           "LOW", "HIGH", "SHOWN", "HIDDEN_PRIMARY", "HIDDEN_COMPLEMENTARY"]

LOW, HIGH = 1, 10
PRIMARY = "<11"
COMPLEMENTARY = "suppressed"
SHOWN, HIDDEN_PRIMARY, HIDDEN_COMPLEMENTARY = "shown", "primary", "complementary"
Key = tuple[Any, ...]  # ("cell", i, j) | ("row", i) | ("col", j) | ("total",)
_GROUND = "ground"


@dataclass(frozen=True)
class Grid:
    cells: tuple[tuple[int, ...], ...]
    row_totals: bool = True
    col_totals: bool = True
    grand_total: bool = True

    def __post_init__(self) -> None:
        if not self.cells or not self.cells[0]:
            raise ValueError("a grid has at least one cell")
        if any(len(row) != len(self.cells[0]) for row in self.cells):
            raise ValueError("rows of different lengths")
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0
               for row in self.cells for v in row):
            raise ValueError("counts are integers >= 0")
        if self.grand_total and not (self.row_totals or self.col_totals):
            raise ValueError("a grand total needs row or column totals (use an r x 1 grid)")

    @classmethod
    def of(cls, cells: Sequence[Sequence[int]], **margins: bool) -> Grid:
        return cls(tuple(tuple(row) for row in cells), **margins)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0])

    def values(self) -> dict[Key, int]:
        """Every published value by key: cells, then the totals published (a fresh copy)."""
        return dict(self._values)

    @cached_property
    def _values(self) -> dict[Key, int]:
        r, c = self.shape
        out: dict[Key, int] = {("cell", i, j): self.cells[i][j] for i in range(r)
                               for j in range(c)}
        if self.row_totals:
            out.update({("row", i): sum(self.cells[i]) for i in range(r)})
        if self.col_totals:
            out.update({("col", j): sum(self.cells[i][j] for i in range(r)) for j in range(c)})
        if self.grand_total:
            out[("total",)] = sum(map(sum, self.cells))
        return out

    def arc(self, key: Key) -> tuple[str, str]:
        """The (from, to) equation nodes of a value: raising it by one is one unit of flow
        from ``from`` to ``to``."""
        return self._arcs[key]

    @cached_property
    def _arcs(self) -> dict[Key, tuple[str, str]]:
        return {key: self._arc(key) for key in self._values}

    def _arc(self, key: Key) -> tuple[str, str]:
        row = (lambda i: f"row{i}") if self.row_totals else (lambda i: _GROUND)
        col = (lambda j: f"col{j}") if self.col_totals else (lambda j: _GROUND)
        totals_row = "totals_row" if self.col_totals and self.grand_total else _GROUND
        totals_col = "totals_col" if self.row_totals and self.grand_total else _GROUND
        kind = key[0]
        if kind == "cell":
            return row(key[1]), col(key[2])
        if kind == "row":
            return totals_col, row(key[1])
        if kind == "col":
            return col(key[1]), totals_row
        return totals_row, totals_col

    def equations(self) -> list[list[tuple[Key, int]]]:
        """The additivity equations (each a list of (key, coefficient), summing to 0), for
        tests and for brute-force checks."""
        r, c = self.shape
        eqs: list[list[tuple[Key, int]]] = []
        if self.row_totals:
            eqs += [[*((("cell", i, j), 1) for j in range(c)), (("row", i), -1)]
                    for i in range(r)]
        if self.col_totals:
            eqs += [[*((("cell", i, j), 1) for i in range(r)), (("col", j), -1)]
                    for j in range(c)]
        if self.grand_total and self.row_totals:
            eqs.append([*((("row", i), 1) for i in range(r)), (("total",), -1)])
        if self.grand_total and self.col_totals:
            eqs.append([*((("col", j), 1) for j in range(c)), (("total",), -1)])
        return eqs


@dataclass(frozen=True)
class Published:
    grid: Grid = field(repr=False)
    status: dict[Key, str]
    withheld: bool = False

    def shown(self, key: Key) -> int | str | None:
        """What is published for ``key``: the count, ``"<11"``, ``"suppressed"``, or None
        when the table is withheld."""
        if self.withheld:
            return None
        st = self.status[key]
        return self.grid._values[key] if st == SHOWN else \
            PRIMARY if st == HIDDEN_PRIMARY else COMPLEMENTARY

    def hidden(self) -> list[Key]:
        return [k for k, s in self.status.items() if s != SHOWN]


def _bounds(status: str, value: int) -> tuple[int, float]:
    if status == HIDDEN_PRIMARY:
        return LOW, HIGH
    if status == HIDDEN_COMPLEMENTARY:
        return HIGH + 1, float("inf")
    return value, value


def _residual(grid: Grid, values: dict[Key, int], status: dict[Key, str],
              skip: Key) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for key, st in status.items():
        if st == SHOWN or key == skip:
            continue
        lo, hi = _bounds(st, values[key])
        a, b = grid.arc(key)
        if values[key] + 1 <= hi:
            graph.setdefault(a, set()).add(b)
        if values[key] - 1 >= lo:
            graph.setdefault(b, set()).add(a)
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def protected(grid: Grid, status: dict[Key, str], key: Key) -> bool:
    """Whether the hidden value ``key`` has a second possible value given everything shown
    (see the module docstring)."""
    values = grid._values
    lo, hi = _bounds(status[key], values[key])
    a, b = grid.arc(key)
    graph = _residual(grid, values, status, key)
    up = values[key] + 1 <= hi and _reaches(graph, b, a)
    down = values[key] - 1 >= lo and _reaches(graph, a, b)
    return up or down


def _candidates(grid: Grid, values: dict[Key, int], status: dict[Key, str],
                near: Key | None) -> list[Key]:
    nodes = set(grid.arc(near)) if near is not None else set()
    keys = [k for k, st in status.items() if st == SHOWN and values[k] > HIGH
            and (near is None or nodes & set(grid.arc(k)))]
    return sorted(keys, key=lambda k: (values[k], k[0] != "cell", k))


def suppress(grid: Grid) -> Published:
    """Primary and complementary suppression of ``grid`` (see the module docstring)."""
    values = grid._values
    status = {k: HIDDEN_PRIMARY if LOW <= v <= HIGH else SHOWN for k, v in values.items()}
    while True:
        exposed = [k for k in status if status[k] != SHOWN and not protected(grid, status, k)]
        if not exposed:
            return Published(grid, status)
        key = exposed[0]
        near = _candidates(grid, values, status, key) or _candidates(grid, values, status, None)
        if not near:
            return Published(grid, status, withheld=True)
        for cand in near:
            trial = {**status, cand: HIDDEN_COMPLEMENTARY}
            if protected(grid, trial, key):
                status = trial
                break
        else:
            status = {**status, near[0]: HIDDEN_COMPLEMENTARY}
