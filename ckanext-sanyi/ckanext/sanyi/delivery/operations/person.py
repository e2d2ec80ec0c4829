"""The operations about one person: the SQL fetching the minimal facts (SQLAlchemy Core, bound
parameters only, each query on an ``id_number`` index) and the pure decision of
:mod:`ckanext.sanyi.domain` that turns them into the answer.

A person is *found* when the insured persons' table (参保人员) holds their identity number;
an unknown person's answer is ``{"found": false}`` and reads nothing else.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from ...domain import health, icd10, renewal, risk
from ...domain.op_inputs import ProfileInput, RenewalInput, RiskInput, VisitInput
from ..datadomain import reference
from ..datadomain.tables import table
from .answer import Answer

__all__ = ["risk_assessment", "visit_verification", "renewal_eligibility", "health_profile",
           "found", "in_ranges"]

PERSONS, REGS = table("persons"), table("chronic_registrations")
VISITS, ADMISSIONS, DISCHARGES = table("outpatient_visits"), table("admissions"), \
    table("discharges")
PRESCRIPTIONS, EXAMS = table("prescriptions"), table("exams")
NOT_FOUND = ("persons.id_number",)
EXAM_ITEMS = ("SBP", "DBP", "FBG", "BMI")


# Statements are built once, with bound parameters (:pid, :since, ...): nothing a caller sends
# becomes SQL text, and SQLAlchemy compiles each statement once.
PID = sa.bindparam("pid", type_=sa.Unicode)
_FOUND = sa.select(sa.exists().where(PERSONS.c.id_number == PID))
_REGISTRATIONS = (sa.select(REGS.c.condition_code, REGS.c.condition_name, REGS.c.status)
                  .where(REGS.c.id_number == PID)
                  .order_by(REGS.c.registered_on, REGS.c.condition_code))


def found(conn: sa.engine.Connection, id_number: str) -> bool:
    return bool(conn.execute(_FOUND, {"pid": id_number}).scalar())


def in_ranges(column: sa.ColumnElement[Any], ranges: Sequence[icd10.Range]) -> Any:
    """``column`` holds a code in one of ``ranges`` (byte-wise comparison, bound bounds)."""
    code = sa.func.upper(column).collate("C")
    return sa.or_(*(sa.and_(code >= lo, code < hi) for lo, hi in map(icd10.bounds, ranges)))


def _chapter(column: sa.ColumnElement[Any], letter: str) -> Any:
    return sa.func.upper(sa.func.left(column, 1)) == letter


def _registrations(conn: sa.engine.Connection, id_number: str,
                   ) -> list[renewal.Registration]:
    rows = conn.execute(_REGISTRATIONS, {"pid": id_number}).all()
    return [renewal.Registration(r[0], r[1], r[2]) for r in rows]


def _names(regs: Sequence[renewal.Registration]) -> tuple[str, ...]:
    names: list[str] = []
    for r in regs:
        name = icd10.condition_name(r.condition_code, r.condition_name)
        if name not in names:
            names.append(name)
    return tuple(names)


def _cols(*reads: tuple[str, Sequence[str]]) -> tuple[str, ...]:
    return tuple(f"{t}.{c}" for t, cols in reads for c in cols)


# -- 智慧核保 risk-assessment -----------------------------------------------------------------------
_MAJOR = icd10.MAJOR_DISEASES
_SINCE, _TODAY = sa.bindparam("since", type_=sa.Date), sa.bindparam("today", type_=sa.Date)
# per table: rows of the person, rows with a major disease, admissions in the last 3 years
_RISK_COUNTS = sa.union_all(
    sa.select(sa.literal("admissions").label("src"), sa.func.count().label("n"),
              sa.func.count().filter(in_ranges(ADMISSIONS.c.diagnosis_code, _MAJOR))
              .label("major"),
              sa.func.count().filter(ADMISSIONS.c.admission_date > _SINCE,
                                     ADMISSIONS.c.admission_date <= _TODAY).label("recent"))
    .where(ADMISSIONS.c.id_number == PID),
    sa.select(sa.literal("discharges"), sa.func.count(),
              sa.func.count().filter(in_ranges(DISCHARGES.c.diagnosis_code, _MAJOR)),
              sa.literal(0))
    .where(DISCHARGES.c.id_number == PID),
    sa.select(sa.literal("outpatient_visits"), sa.func.count(),
              sa.func.count().filter(in_ranges(VISITS.c.diagnosis_code, _MAJOR)),
              sa.literal(0))
    .where(VISITS.c.id_number == PID))


def risk_assessment(conn: sa.engine.Connection, inp: RiskInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    rows = {r[0]: r for r in conn.execute(_RISK_COUNTS, {
        "pid": pid, "since": risk.three_years_before(today), "today": today}).all()}
    facts = risk.RiskFacts(_names(regs), int(rows["admissions"][3]),
                           any(int(r[2]) > 0 for r in rows.values()))
    touched = 1 + len(regs) + sum(int(r[1]) for r in rows.values())
    return Answer(risk.assess(facts), _cols(
        ("persons", ["id_number"]),
        ("chronic_registrations", ["id_number", "condition_code", "condition_name"]),
        ("admissions", ["id_number", "admission_date", "diagnosis_code"]),
        ("discharges", ["id_number", "diagnosis_code"]),
        ("outpatient_visits", ["id_number", "diagnosis_code"])), touched)


# -- 理赔调查 visit-verification --------------------------------------------------------------------
def _institution(text: str) -> tuple[str, str]:
    """(code, name) to match: the reference institution's, else the text for both."""
    inst = reference.institution(text)
    return (inst.code, inst.name) if inst else (text, text)


_CODE, _NAME = sa.bindparam("code", type_=sa.Unicode), sa.bindparam("name", type_=sa.Unicode)
_FROM, _TO = sa.bindparam("date_from", type_=sa.Date), sa.bindparam("date_to", type_=sa.Date)
_LETTER = sa.bindparam("letter", type_=sa.Unicode)


def _visit_statements(chapter: bool) -> tuple[Any, Any]:
    """(visits, stays) at the institution in the window, with or without the chapter."""
    v_chapter = _chapter(VISITS.c.diagnosis_code, _LETTER) if chapter else sa.false()
    visits = (sa.select(sa.func.count(), sa.func.count().filter(v_chapter))
              .where(VISITS.c.id_number == PID, VISITS.c.visit_date >= _FROM,
                     VISITS.c.visit_date <= _TO,
                     sa.or_(VISITS.c.institution_code == _CODE,
                            VISITS.c.institution_name == _NAME)))
    s_chapter = sa.or_(_chapter(ADMISSIONS.c.diagnosis_code, _LETTER),
                       _chapter(DISCHARGES.c.diagnosis_code, _LETTER)) if chapter else sa.false()
    stays = (sa.select(sa.func.count(sa.distinct(ADMISSIONS.c.admission_id)),
                       sa.func.count().filter(s_chapter))
             .select_from(ADMISSIONS.outerjoin(
                 DISCHARGES, DISCHARGES.c.admission_id == ADMISSIONS.c.admission_id))
             .where(ADMISSIONS.c.id_number == PID, ADMISSIONS.c.admission_date >= _FROM,
                    ADMISSIONS.c.admission_date <= _TO,
                    sa.or_(ADMISSIONS.c.institution_code == _CODE,
                           ADMISSIONS.c.institution_name == _NAME)))
    return visits, stays


_VISITS = {True: _visit_statements(True), False: _visit_statements(False)}


def visit_verification(conn: sa.engine.Connection, inp: VisitInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    code, name = _institution(inp.institution)
    letter = inp.diagnosis_chapter
    params = {"pid": pid, "code": code, "name": name, "date_from": inp.date_from,
              "date_to": inp.date_to, "letter": letter or ""}
    q_visits, q_stays = _VISITS[bool(letter)]
    visits = conn.execute(q_visits, params).one()
    stays = conn.execute(q_stays, params).one()
    present = None if not letter else bool(visits[1] or stays[1])
    dx = ["diagnosis_code"] if letter else []
    cols = _cols(
        ("persons", ["id_number"]),
        ("outpatient_visits", ["id_number", "institution_code", "institution_name", "visit_date",
                               *dx]),
        ("admissions", ["admission_id", "id_number", "institution_code", "institution_name",
                        "admission_date", *dx]),
        *([("discharges", ["admission_id", "diagnosis_code"])] if letter else []))
    return Answer({"found": True, "outpatient_visits": int(visits[0]),
                   "inpatient_stays": int(stays[0]), "diagnosis_chapter_present": present},
                  cols, 1 + int(visits[0]) + int(stays[0]))


# -- 慢病线上开处方 renewal-eligibility -------------------------------------------------------------
_CATEGORY = sa.func.upper(sa.func.left(VISITS.c.diagnosis_code, 3))
_LAST_VISIT_BY_CATEGORY = (
    sa.select(_CATEGORY, sa.func.max(VISITS.c.visit_date), sa.func.count())
    .where(VISITS.c.id_number == PID, VISITS.c.visit_date <= _TODAY).group_by(_CATEGORY))
_LAST_CHRONIC_PRESCRIPTION = (
    sa.select(sa.func.max(PRESCRIPTIONS.c.prescribed_on), sa.func.count())
    .where(PRESCRIPTIONS.c.id_number == PID, PRESCRIPTIONS.c.chronic == "1",
           PRESCRIPTIONS.c.prescribed_on <= _TODAY))


def renewal_eligibility(conn: sa.engine.Connection, inp: RenewalInput,
                        today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    params = {"pid": pid, "today": today}
    by_category = conn.execute(_LAST_VISIT_BY_CATEGORY, params).all()
    rx = conn.execute(_LAST_CHRONIC_PRESCRIPTION, params).one()
    decision = renewal.decide(renewal.RenewalFacts(
        tuple(regs), {str(c): d for c, d, _n in by_category if c}, rx[0]), today)
    touched = 1 + len(regs) + sum(int(r[2]) for r in by_category) + int(rx[1])
    return Answer({"found": True, "chronic_conditions": list(decision.chronic_conditions),
                   "last_qualifying_visit_month": decision.last_qualifying_visit_month,
                   "eligible": decision.eligible, "reason_code": decision.reason_code,
                   "reason": decision.reason, "reason_en": decision.reason_en},
                  _cols(("persons", ["id_number"]),
                        ("chronic_registrations", ["id_number", "condition_code",
                                                   "condition_name", "status"]),
                        ("outpatient_visits", ["id_number", "visit_date", "diagnosis_code"]),
                        ("prescriptions", ["id_number", "prescribed_on", "chronic"])), touched)


# -- 个人健康画像与风险预警 health-profile ----------------------------------------------------------
_YEAR = sa.extract("year", EXAMS.c.exam_date)
_EXAMS_BY_YEAR = (
    sa.select(_YEAR, EXAMS.c.item_code, sa.func.avg(EXAMS.c.value), sa.func.count())
    .where(EXAMS.c.id_number == PID, EXAMS.c.item_code.in_(EXAM_ITEMS),
           EXAMS.c.exam_date >= _SINCE, EXAMS.c.exam_date <= _TODAY)
    .group_by(_YEAR, EXAMS.c.item_code))


def health_profile(conn: sa.engine.Connection, inp: ProfileInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    rows = conn.execute(_EXAMS_BY_YEAR, {
        "pid": pid, "today": today,
        "since": dt.date(today.year - health.YEARS + 1, 1, 1)}).all()
    by_year: dict[int, dict[str, Decimal]] = {}
    for y, item, avg, _n in rows:
        if avg is not None:
            by_year.setdefault(int(y), {})[str(item)] = Decimal(avg)
    bands = health.yearly_bands(by_year)
    names = _names(regs)
    result = {"found": True, "chronic_conditions": list(names), **bands,
              "trends": {k: health.trend(k, v) for k, v in bands.items()},
              "warnings": health.warnings(bands, names)}
    touched = 1 + len(regs) + sum(int(r[3]) for r in rows)
    return Answer(result, _cols(
        ("persons", ["id_number"]),
        ("chronic_registrations", ["id_number", "condition_code", "condition_name"]),
        ("exams", ["id_number", "exam_date", "item_code", "value"])), touched)
