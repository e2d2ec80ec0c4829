"""Small-cell suppression (domain/suppression.py), checked by brute force: every assignment of
the hidden values consistent with what is published (the totals add up, a "<11" lies in
1..10, a "suppressed" count is 11 or more) is enumerated, and each hidden value must take at
least two of them. The same enumeration checks the exact audit ``protected`` on arbitrary
hiding patterns, not only on the ones ``suppress`` chooses."""
from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ckanext.sanyi.domain.suppression import (
    COMPLEMENTARY,
    HIDDEN_COMPLEMENTARY,
    HIDDEN_PRIMARY,
    PRIMARY,
    SHOWN,
    Grid,
    Key,
    protected,
    suppress,
)

ONE_WAY = dict(row_totals=False, col_totals=True, grand_total=False)
NO_TOTALS = dict(row_totals=False, col_totals=False, grand_total=False)
SHAPES = [{}, ONE_WAY, dict(row_totals=True, col_totals=False, grand_total=False),
          dict(row_totals=True, col_totals=True, grand_total=False),
          dict(row_totals=False, col_totals=True, grand_total=True)]


def _domain(status: str, value: int, upper: int) -> tuple[int, int]:
    """The interval of values a count may take to someone who sees the published table."""
    if status == HIDDEN_PRIMARY:
        return 1, 10
    if status == HIDDEN_COMPLEMENTARY:
        return 11, upper
    return value, value


def _narrow(eqs: list[list[tuple[Key, int]]],
            box: dict[Key, tuple[int, int]]) -> dict[Key, tuple[int, int]] | None:
    """Tighten every interval by every equation until nothing changes (no consistent value
    is ever removed); None when some interval empties."""
    box = dict(box)
    changed = True
    while changed:
        changed = False
        for eq in eqs:
            lo = sum(min(c * box[k][0], c * box[k][1]) for k, c in eq)
            hi = sum(max(c * box[k][0], c * box[k][1]) for k, c in eq)
            if lo > 0 or hi < 0:
                return None
            for k, c in eq:
                klo, khi = min(c * box[k][0], c * box[k][1]), max(c * box[k][0], c * box[k][1])
                # c * x_k must lie in [-(hi - khi), -(lo - klo)]
                t_lo, t_hi = -(hi - khi), -(lo - klo)
                new = (-(-t_lo // c), t_hi // c) if c > 0 else (-(-t_hi // c), t_lo // c)
                new = (max(box[k][0], new[0]), min(box[k][1], new[1]))
                if new[0] > new[1]:
                    return None
                if new != box[k]:
                    box[k], changed = new, True
    return box


def assignments(grid: Grid, status: dict[Key, str], upper: int,
                box: dict[Key, tuple[int, int]] | None = None) -> Iterator[dict[Key, int]]:
    """Every assignment of the values (shown ones fixed, hidden ones in their domains,
    complementary ones up to ``upper``) under which every additivity equation holds: an
    exhaustive search that only skips values the equations already exclude."""
    values = grid.values()
    eqs = grid.equations()
    if box is None:
        box = {k: _domain(status[k], v, upper) for k, v in values.items()}
    narrowed = _narrow(eqs, box)
    if narrowed is None:
        return
    open_ = [k for k, (lo, hi) in narrowed.items() if lo < hi]
    if not open_:
        yield {k: lo for k, (lo, _) in narrowed.items()}
        return
    key = min(open_, key=lambda k: narrowed[k][1] - narrowed[k][0])
    lo, hi = narrowed[key]
    for v in sorted(range(lo, hi + 1), key=lambda v: (abs(v - values[key]), v)):
        yield from assignments(grid, status, upper, {**narrowed, key: (v, v)})


def second_value_exists(grid: Grid, status: dict[Key, str], key: Key) -> bool:
    """Brute force: is there a consistent assignment giving ``key`` another value than its
    own? Complementary values are bounded by the largest value + 1: enough for every unit
    move from the true table, so the bound hides no answer the exact audit relies on."""
    values = grid.values()
    upper = max(values.values()) + 1
    base = {k: _domain(status[k], v, upper) for k, v in values.items()}
    lo, hi = base[key]
    for part in ((lo, values[key] - 1), (values[key] + 1, hi)):
        if part[0] <= part[1] and next(
                assignments(grid, status, upper, {**base, key: part}), None) is not None:
            return True
    return False


def check_published(grid: Grid) -> None:
    published = suppress(grid)
    assert not published.withheld
    values = grid.values()
    for key, value in values.items():
        shown, st_ = published.shown(key), published.status[key]
        if 1 <= value <= 10:
            assert st_ == HIDDEN_PRIMARY and shown == PRIMARY
        elif st_ == HIDDEN_COMPLEMENTARY:
            assert value >= 11 and shown == COMPLEMENTARY
        else:
            assert st_ == SHOWN and shown == value
    upper = max(values.values()) + 1
    # the true table is one of the consistent ones
    assert values in assignments(grid, published.status, upper)
    for key in published.hidden():
        assert second_value_exists(grid, published.status, key), \
            f"{key} = {values[key]} is recoverable from {published.status}"


def counts(max_value: int = 40) -> st.SearchStrategy[int]:
    # mostly small counts, where suppression matters
    return st.one_of(st.integers(0, 12), st.integers(0, max_value))


@st.composite
def grids(draw: st.DrawFn) -> Grid:
    shape = draw(st.sampled_from(SHAPES))
    rows = draw(st.integers(1, 3))
    cols = 1 if shape == ONE_WAY else draw(st.integers(1, 3))
    cells = [[draw(counts()) for _ in range(cols)] for _ in range(rows)]
    return Grid.of(cells, **shape)


@settings(max_examples=200, deadline=None)
@given(grids())
def test_no_hidden_value_is_recoverable(grid):
    check_published(grid)


@settings(max_examples=150, deadline=None)
@given(grids(), st.data())
def test_the_audit_agrees_with_brute_force_on_any_hiding(grid, data):
    values = grid.values()
    status = {}
    for key, value in values.items():
        if 1 <= value <= 10:
            status[key] = HIDDEN_PRIMARY
        elif value >= 11 and data.draw(st.booleans()):
            status[key] = HIDDEN_COMPLEMENTARY
        else:
            status[key] = SHOWN
    for key in (k for k, s in status.items() if s != SHOWN):
        assert protected(grid, status, key) == second_value_exists(grid, status, key), key


@pytest.mark.parametrize("cells, margins", [
    ([[5], [30]], ONE_WAY),                       # one small group beside a large one
    ([[5, 20], [30, 40], [12, 3]], {}),           # two-way with all totals
    ([[1, 1], [1, 1]], {}),                       # every count small
    ([[5, 0], [0, 0]], {}),                       # zeros cannot hide a small cell
    ([[10, 11], [11, 10]], {}),                   # values at the edges of both domains
    ([[3, 50, 60], [40, 2, 70], [80, 90, 1]], {}),
    ([[0], [0], [7], [100], [200]], ONE_WAY),     # five age bands, one small
    ([[5]], NO_TOTALS),                           # no grouping: the total alone
    ([[25]], NO_TOTALS),
])
def test_known_tables(cells, margins):
    check_published(Grid.of(cells, **margins))


def test_one_small_group_forces_one_complement_not_more():
    published = suppress(Grid.of([[5], [30], [40]], **ONE_WAY))
    assert published.shown(("cell", 1, 0)) == COMPLEMENTARY   # the smallest large one
    assert published.shown(("cell", 2, 0)) == 40
    assert published.shown(("col", 0)) == 75


def test_a_single_small_total_needs_no_complement():
    published = suppress(Grid.of([[7]], **NO_TOTALS))
    assert published.shown(("cell", 0, 0)) == PRIMARY
    assert published.hidden() == [("cell", 0, 0)]


def test_nothing_small_nothing_hidden():
    published = suppress(Grid.of([[0, 11], [12, 40]]))
    assert published.hidden() == []


def test_a_grid_refuses_bad_counts():
    with pytest.raises(ValueError):
        Grid.of([[1, -1]])
    with pytest.raises(ValueError):
        Grid.of([[1], [2, 3]])
    with pytest.raises(ValueError):
        Grid.of([[1]], row_totals=False, col_totals=False, grand_total=True)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SHAPES), st.integers(1, 2), st.integers(1, 2), st.data())
def test_the_search_finds_every_table_naive_enumeration_finds(shape, rows, cols, data):
    """The oracle itself: on small tables its search yields exactly the assignments a plain
    product over every domain finds."""
    cols = 1 if shape == ONE_WAY else cols
    grid = Grid.of([[data.draw(st.integers(0, 14)) for _ in range(cols)] for _ in range(rows)],
                   **shape)
    status = suppress(grid).status
    values = grid.values()
    upper = max(values.values()) + 1
    keys = list(values)
    ranges = [range(lo, hi + 1) for lo, hi in (_domain(status[k], values[k], upper)
                                                for k in keys)]
    size = 1
    for r in ranges:
        size *= len(r)
    assume(size <= 20_000)
    naive = []
    for combo in itertools.product(*ranges):
        table = dict(zip(keys, combo, strict=True))
        if all(sum(c * table[k] for k, c in eq) == 0 for eq in grid.equations()):
            naive.append(table)
    found = list(assignments(grid, status, upper))
    assert sorted(map(sorted_items, found)) == sorted(map(sorted_items, naive))


def sorted_items(table: dict) -> list:
    return sorted(table.items())
