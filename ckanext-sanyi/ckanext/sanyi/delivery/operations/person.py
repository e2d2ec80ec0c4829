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


def found(conn: sa.engine.Connection, id_number: str) -> bool:
    return bool(conn.execute(sa.select(sa.exists().where(PERSONS.c.id_number == id_number)))
                .scalar())


def in_ranges(column: sa.ColumnElement[Any], ranges: Sequence[icd10.Range]) -> Any:
    """``column`` holds a code in one of ``ranges`` (byte-wise comparison, bound bounds)."""
    code = sa.func.upper(column).collate("C")
    return sa.or_(*(sa.and_(code >= lo, code < hi) for lo, hi in map(icd10.bounds, ranges)))


def _chapter(column: sa.ColumnElement[Any], letter: str) -> Any:
    return sa.func.upper(sa.func.left(column, 1)) == letter


def _registrations(conn: sa.engine.Connection, id_number: str,
                   ) -> list[renewal.Registration]:
    rows = conn.execute(
        sa.select(REGS.c.condition_code, REGS.c.condition_name, REGS.c.status)
        .where(REGS.c.id_number == id_number)
        .order_by(REGS.c.registered_on, REGS.c.condition_code)).all()
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
def risk_assessment(conn: sa.engine.Connection, inp: RiskInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    since = risk.three_years_before(today)
    major = icd10.MAJOR_DISEASES
    parts = [
        sa.select(sa.literal("admissions").label("src"), sa.func.count().label("n"),
                  sa.func.count().filter(in_ranges(ADMISSIONS.c.diagnosis_code, major))
                  .label("major"),
                  sa.func.count().filter(ADMISSIONS.c.admission_date > since,
                                         ADMISSIONS.c.admission_date <= today).label("recent"))
        .where(ADMISSIONS.c.id_number == pid),
        sa.select(sa.literal("discharges"), sa.func.count(),
                  sa.func.count().filter(in_ranges(DISCHARGES.c.diagnosis_code, major)),
                  sa.literal(0))
        .where(DISCHARGES.c.id_number == pid),
        sa.select(sa.literal("outpatient_visits"), sa.func.count(),
                  sa.func.count().filter(in_ranges(VISITS.c.diagnosis_code, major)),
                  sa.literal(0))
        .where(VISITS.c.id_number == pid),
    ]
    rows = {r[0]: r for r in conn.execute(sa.union_all(*parts)).all()}
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


def visit_verification(conn: sa.engine.Connection, inp: VisitInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    code, name = _institution(inp.institution)
    letter = inp.diagnosis_chapter
    v_chapter = _chapter(VISITS.c.diagnosis_code, letter) if letter else sa.false()
    visits = conn.execute(
        sa.select(sa.func.count(), sa.func.count().filter(v_chapter))
        .where(VISITS.c.id_number == pid,
               VISITS.c.visit_date >= inp.date_from, VISITS.c.visit_date <= inp.date_to,
               sa.or_(VISITS.c.institution_code == code, VISITS.c.institution_name == name))
    ).one()
    s_chapter = sa.or_(_chapter(ADMISSIONS.c.diagnosis_code, letter),
                       _chapter(DISCHARGES.c.diagnosis_code, letter)) if letter else sa.false()
    stays = conn.execute(
        sa.select(sa.func.count(sa.distinct(ADMISSIONS.c.admission_id)),
                  sa.func.count().filter(s_chapter))
        .select_from(ADMISSIONS.outerjoin(
            DISCHARGES, DISCHARGES.c.admission_id == ADMISSIONS.c.admission_id))
        .where(ADMISSIONS.c.id_number == pid,
               ADMISSIONS.c.admission_date >= inp.date_from,
               ADMISSIONS.c.admission_date <= inp.date_to,
               sa.or_(ADMISSIONS.c.institution_code == code,
                      ADMISSIONS.c.institution_name == name))
    ).one()
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
def renewal_eligibility(conn: sa.engine.Connection, inp: RenewalInput,
                        today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    category = sa.func.upper(sa.func.left(VISITS.c.diagnosis_code, 3))
    by_category = conn.execute(
        sa.select(category, sa.func.max(VISITS.c.visit_date), sa.func.count())
        .where(VISITS.c.id_number == pid, VISITS.c.visit_date <= today)
        .group_by(category)).all()
    rx = conn.execute(
        sa.select(sa.func.max(PRESCRIPTIONS.c.prescribed_on), sa.func.count())
        .where(PRESCRIPTIONS.c.id_number == pid, PRESCRIPTIONS.c.chronic == "1",
               PRESCRIPTIONS.c.prescribed_on <= today)).one()
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
def health_profile(conn: sa.engine.Connection, inp: ProfileInput, today: dt.date) -> Answer:
    pid = inp.id_number
    if not found(conn, pid):
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(conn, pid)
    year = sa.extract("year", EXAMS.c.exam_date)
    rows = conn.execute(
        sa.select(year, EXAMS.c.item_code, sa.func.avg(EXAMS.c.value), sa.func.count())
        .where(EXAMS.c.id_number == pid, EXAMS.c.item_code.in_(EXAM_ITEMS),
               EXAMS.c.exam_date >= dt.date(today.year - health.YEARS + 1, 1, 1),
               EXAMS.c.exam_date <= today)
        .group_by(year, EXAMS.c.item_code)).all()
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
