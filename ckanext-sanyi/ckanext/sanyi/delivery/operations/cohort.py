"""回顾性疗效安全性研究 ``cohort-statistics``: users of a drug and persons with a reported adverse
reaction to it, per age band and sex, suppressed by :mod:`ckanext.sanyi.domain.suppression`.

One query per measure counts distinct persons per (age band, sex) cell of the full 5 × 2
grid — always the same population, whatever the grouping asked for: insured persons of known
sex (1 or 2) and date of birth, age taken on ``date_from`` — and every published total is
summed from those cells, so totals of different groupings agree and never differ by hidden
persons. The grid is then folded to the grouping asked for and suppressed (users and adverse
events separately, each with its totals).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from ...domain import suppression
from ...domain.op_inputs import CohortInput
from ..datadomain.tables import table
from .answer import Answer

__all__ = ["cohort_statistics", "AGE_BANDS", "SEXES", "grid_counts", "fold", "publish"]

PERSONS, PRESCRIPTIONS, EVENTS = table("persons"), table("prescriptions"), \
    table("adverse_events")
AGE_BANDS = (("0-17", 18), ("18-44", 45), ("45-59", 60), ("60-74", 75), ("75+", None))
SEXES = (("1", "男"), ("2", "女"))
THRESHOLD = suppression.HIGH + 1


# Statements built once with bound parameters (:drug, :date_from, :date_to).
_DRUG = sa.bindparam("drug", type_=sa.UnicodeText)
_FROM, _TO = sa.bindparam("date_from", type_=sa.Date), sa.bindparam("date_to", type_=sa.Date)
_AGE = sa.extract("year", sa.func.age(_FROM, PERSONS.c.birth_date))  # age on date_from
_BAND = sa.case(*((_AGE < upper, label) for label, upper in AGE_BANDS if upper is not None),
                else_=AGE_BANDS[-1][0]).label("band")


def _persons_per_cell(ids: Any) -> Any:
    """Distinct persons of ``ids`` per (age band, sex) among insured persons of known sex and
    date of birth."""
    return (sa.select(_BAND, PERSONS.c.sex, sa.func.count(sa.distinct(ids.c.id_number)))
            .select_from(ids.join(PERSONS, PERSONS.c.id_number == ids.c.id_number))
            .where(PERSONS.c.sex.in_([code for code, _ in SEXES]),
                   PERSONS.c.birth_date.is_not(None))
            .group_by(_BAND, PERSONS.c.sex))


_USERS = _persons_per_cell(
    sa.select(PRESCRIPTIONS.c.id_number)
    .where(PRESCRIPTIONS.c.drug_name == _DRUG, PRESCRIPTIONS.c.prescribed_on >= _FROM,
           PRESCRIPTIONS.c.prescribed_on <= _TO).distinct().subquery("users"))
_EVENTS = _persons_per_cell(
    sa.select(EVENTS.c.id_number)
    .where(EVENTS.c.drug_name == _DRUG, EVENTS.c.onset_date >= _FROM,
           EVENTS.c.onset_date <= _TO).distinct().subquery("events"))


def grid_counts(conn: sa.engine.Connection, inp: CohortInput,
                ) -> tuple[list[list[int]], list[list[int]]]:
    """The users grid and the adverse-events grid, age bands × sexes."""
    params = {"drug": inp.drug, "date_from": inp.date_from, "date_to": inp.date_to}
    out = []
    for statement in (_USERS, _EVENTS):
        counts = {(str(b), str(sx)): int(n) for b, sx, n in conn.execute(statement, params)}
        out.append([[counts.get((band, code), 0) for code, _ in SEXES]
                    for band, _ in AGE_BANDS])
    return out[0], out[1]


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
