"""回顾性疗效安全性研究 ``cohort-statistics``: users of a drug and persons with a reported adverse
reaction to it, per age band and sex, suppressed by :mod:`ckanext.sanyi.domain.suppression`.

One statement counts, for both measures, the distinct persons per (age band, sex) cell of the
full 5 × 2 grid — always the same population, whatever the grouping asked for: insured persons
of known sex (1 or 2) and date of birth, age taken on ``date_from`` — and every published total
is summed from those cells, so totals of different groupings agree and never differ by hidden
persons. The grid is then folded to the grouping asked for and suppressed (users and adverse
events separately, each with its totals).

The counts come from the tables :mod:`..datadomain.derive` derives from prescriptions,
adverse events and persons (the window is whole months): the persons per drug, sex, birth key
and month used whose previous month used lies before the window, summed over the window's
months, plus the few identity numbers held by several persons, counted one by one. They equal
the distinct persons of the source rows (a test compares both over the small domain).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from ...domain import suppression
from ...domain.op_inputs import CohortInput
from ..datadomain import derive
from .answer import Answer

__all__ = ["cohort_statistics", "AGE_BANDS", "SEXES", "grid_counts", "fold", "publish"]

AGE_BANDS = (("0-17", 18), ("18-44", 45), ("45-59", 60), ("60-74", 75), ("75+", None))
SEXES = (("1", "男"), ("2", "女"))
assert tuple(code for code, _ in SEXES) == derive.SEX_CODES
THRESHOLD = suppression.HIGH + 1
USERS, EVENTS = derive.measure("drug_use"), derive.measure("drug_reaction")


# One statement built once with bound parameters: the drug, the window's first and last month
# numbers and its months, and per age band's upper age U the birth key and date of birth
# before which a person is at least U on the window's first day (:func:`_params`).
_DRUG = sa.bindparam("drug", type_=sa.UnicodeText)
_FIRST, _LAST = sa.bindparam("first", type_=sa.Integer), sa.bindparam("last", type_=sa.Integer)
_MONTHS = sa.bindparam("months", type_=sa.ARRAY(sa.Integer))
_UPPERS = tuple(upper for _, upper in AGE_BANDS if upper is not None)


def _band(born: Any, param: str, type_: Any) -> Any:
    """The age band of a birth (key or date) later than the band's bound (age < U)."""
    return sa.case(*((born > sa.bindparam(f"{param}{upper}", type_=type_), label)
                     for label, upper in AGE_BANDS if upper is not None),
                   else_=AGE_BANDS[-1][0]).label("band")


def _per_cell(m: derive.Measure) -> list[Any]:
    """Persons of measure ``m`` per (band, sex): the summed ones, then the shared ones."""
    s, p = m.months, m.persons
    band = _band(s.c.birth_key, "key", sa.Integer)
    summed = (sa.select(sa.literal(m.name).label("measure"), band, s.c.sex,
                        sa.func.sum(s.c.persons).label("n"))
              .where(s.c.drug_name == _DRUG, s.c.month >= _FIRST, s.c.month <= _LAST,
                     s.c.prev_month < _FIRST)
              .group_by(band, s.c.sex))
    band = _band(p.c.birth_date, "born", sa.Date)
    shared = (sa.select(sa.literal(m.name), band, p.c.sex,
                        sa.func.count(sa.distinct(p.c.id_number)))
              .where(p.c.drug_name == _DRUG, p.c.shared, p.c.months.overlap(_MONTHS))
              .group_by(band, p.c.sex))
    return [summed, shared]


_COUNTS = sa.union_all(*_per_cell(USERS), *_per_cell(EVENTS))


def _params(inp: CohortInput) -> dict[str, Any]:
    start, end = inp.date_from, inp.date_to
    if start.day != 1 or (end + dt.timedelta(days=1)).day != 1 or end < start:
        raise ValueError("the cohort's window is whole months")
    first = derive.month_number(start.year, start.month)
    last = derive.month_number(end.year, end.month)
    params: dict[str, Any] = {"drug": inp.drug, "first": first, "last": last,
                              "months": list(range(first, last + 1))}
    for upper in _UPPERS:  # age on the 1st < U  <=>  born after the 1st of that month U years ago
        params[f"key{upper}"] = derive.birth_key(start.year - upper, start.month, 1)
        params[f"born{upper}"] = dt.date(start.year - upper, start.month, 1)
    return params


def grid_counts(conn: sa.engine.Connection, inp: CohortInput,
                ) -> tuple[list[list[int]], list[list[int]]]:
    """The users grid and the adverse-events grid, age bands × sexes (``inp``'s window is
    whole months, as :func:`~ckanext.sanyi.domain.op_inputs.parse_cohort` requires)."""
    counts: dict[tuple[str, str, str], int] = {}
    for measure, band, sex, n in conn.execute(_COUNTS, _params(inp)):
        key = (str(measure), str(band), str(sex))
        counts[key] = counts.get(key, 0) + int(n)

    def grid(m: derive.Measure) -> list[list[int]]:
        return [[counts.get((m.name, band, code), 0) for code, _ in SEXES]
                for band, _ in AGE_BANDS]
    return grid(USERS), grid(EVENTS)


def fold(grid: list[list[int]], group_by: tuple[str, ...]) -> suppression.Grid:
    """The 5 × 2 grid summed to the grouping asked for, with the totals to publish."""
    if group_by == ("age_band", "sex"):
        return suppression.Grid.of(grid)
    if group_by == ("age_band",):
        return suppression.Grid.of([[sum(row)] for row in grid], row_totals=False,
                                   col_totals=True, grand_total=False)
    if group_by == ("sex",):
        return suppression.Grid.of([[sum(row[j] for row in grid)] for j in range(len(SEXES))],
                                   row_totals=False, col_totals=True, grand_total=False)
    return suppression.Grid.of([[sum(map(sum, grid))]], row_totals=False, col_totals=False,
                               grand_total=False)


def _labels(group_by: tuple[str, ...]) -> tuple[list[dict[str, Any]], dict[tuple, dict]]:
    """The cells' grouping keys, in output order, and each grid key's position."""
    bands = [b for b, _ in AGE_BANDS]
    sexes = [s for _, s in SEXES]
    keys: dict[tuple, dict[str, Any]] = {}
    if group_by == ("age_band", "sex"):
        for i, b in enumerate(bands):
            for j, s in enumerate(sexes):
                keys[("cell", i, j)] = {"age_band": b, "sex": s}
        for i, b in enumerate(bands):
            keys[("row", i)] = {"age_band": b, "sex": None}
        for j, s in enumerate(sexes):
            keys[("col", j)] = {"age_band": None, "sex": s}
        keys[("total",)] = {"age_band": None, "sex": None}
    elif group_by in (("age_band",), ("sex",)):
        dim, names = (("age_band", bands) if group_by == ("age_band",) else ("sex", sexes))
        for i, n in enumerate(names):
            keys[("cell", i, 0)] = {dim: n}
        keys[("col", 0)] = {dim: None}
    else:
        keys[("cell", 0, 0)] = {}
    return list(keys.values()), keys


def publish(users: list[list[int]], events: list[list[int]],
            group_by: tuple[str, ...]) -> tuple[bool, list[dict[str, Any]]]:
    """(withheld, cells) of the answer: both measures folded and suppressed."""
    pu = suppression.suppress(fold(users, group_by))
    pe = suppression.suppress(fold(events, group_by))
    _, keys = _labels(group_by)
    cells = [{**labels, "users": pu.shown(key), "adverse_events": pe.shown(key)}
             for key, labels in keys.items()]
    return pu.withheld or pe.withheld, cells


def cohort_statistics(conn: sa.engine.Connection, inp: CohortInput, today: dt.date) -> Answer:
    users, events = grid_counts(conn, inp)
    withheld, cells = publish(users, events, inp.group_by)
    touched = sum(map(sum, users)) + sum(map(sum, events))
    return Answer({"drug": inp.drug, "date_from": inp.date_from.isoformat(),
                   "date_to": inp.date_to.isoformat(), "group_by": list(inp.group_by),
                   "threshold": THRESHOLD, "withheld": withheld, "cells": cells},
                  ("prescriptions.id_number", "prescriptions.drug_name",
                   "prescriptions.prescribed_on", "adverse_events.id_number",
                   "adverse_events.drug_name", "adverse_events.onset_date",
                   "persons.id_number", "persons.sex", "persons.birth_date"), touched)
