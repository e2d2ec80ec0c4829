"""The operations about one person: the SQL fetching the minimal facts (SQLAlchemy Core, bound
parameters only) and the pure decision of :mod:`ckanext.sanyi.domain` that turns them into the
answer.

Each operation is **one statement** (one round trip): whether the person is found, then each
fact as a sub-select (an array of counts, or a JSON array of a few small rows) evaluated only
when the person is found. Every sub-select reads a covering or partial index on ``id_number``
declared in :mod:`..datadomain.sources` (an index-only scan: no table page is read).

A person is *found* when the insured persons' table (参保人员) holds their identity number;
an unknown person's answer is ``{"found": false}`` and reads nothing else.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by, array

from ...domain import health, icd10, renewal, risk
from ...domain.op_inputs import ProfileInput, RenewalInput, RiskInput, VisitInput
from .. import prepared
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
# computed once (materialized: not repeated in each CASE)
_F = sa.select(sa.exists().where(PERSONS.c.id_number == PID).label("found")) \
    .cte("f").prefix_with("MATERIALIZED")
# the person's registrations, oldest first: [[code, name, status], ...] or NULL
_REGISTRATIONS = (
    sa.select(sa.func.json_agg(aggregate_order_by(
        sa.func.json_build_array(REGS.c.condition_code, REGS.c.condition_name, REGS.c.status),
        REGS.c.registered_on, REGS.c.condition_code)))
    .where(REGS.c.id_number == PID).scalar_subquery())


def found(conn: sa.engine.Connection, id_number: str) -> bool:
    return bool(conn.execute(_FOUND, {"pid": id_number}).scalar())


def _statement(**facts: Any) -> Any:
    """``SELECT found, <fact> ...``: each fact (a scalar sub-select) only when found."""
    return sa.select(_F.c.found, *(sa.case((_F.c.found, fact)).label(name)
                                   for name, fact in facts.items()))


def _counts(*counts: Any, where: Any) -> Any:
    """One sub-select giving several counts of the same rows as an array."""
    return sa.select(array(counts)).where(*where).scalar_subquery()


def _json_rows(select: Any) -> Any:
    """The rows of ``select`` (a few, grouped) as a JSON array of arrays (NULL when none)."""
    sub = select.subquery()
    return sa.select(sa.func.json_agg(sa.func.json_build_array(*sub.c))).scalar_subquery()


def in_ranges(column: sa.ColumnElement[Any], ranges: Sequence[icd10.Range]) -> Any:
    """``column`` holds a code in one of ``ranges`` (byte-wise comparison, bound bounds)."""
    code = sa.func.upper(column).collate("C")
    return sa.or_(*(sa.and_(code >= lo, code < hi) for lo, hi in map(icd10.bounds, ranges)))


def _chapter(column: sa.ColumnElement[Any], letter: Any) -> Any:
    return sa.func.upper(sa.func.left(column, 1)) == letter


def _registrations(rows: list[list[str]] | None) -> list[renewal.Registration]:
    return [renewal.Registration(r[0], r[1], r[2]) for r in rows or ()]


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
# per table: [rows of the person, rows with a major disease(, admissions in the last 3 years)]
_RISK = _statement(
    regs=_REGISTRATIONS,
    admissions=_counts(
        sa.func.count(), sa.func.count().filter(in_ranges(ADMISSIONS.c.diagnosis_code, _MAJOR)),
        sa.func.count().filter(ADMISSIONS.c.admission_date > _SINCE,
                               ADMISSIONS.c.admission_date <= _TODAY),
        where=[ADMISSIONS.c.id_number == PID]),
    discharges=_counts(
        sa.func.count(), sa.func.count().filter(in_ranges(DISCHARGES.c.diagnosis_code, _MAJOR)),
        where=[DISCHARGES.c.id_number == PID]),
    visits=_counts(
        sa.func.count(), sa.func.count().filter(in_ranges(VISITS.c.diagnosis_code, _MAJOR)),
        where=[VISITS.c.id_number == PID]))


# planned once per connection (its 27 bound values made planning cost twice its run)
_RISK_PREPARED = prepared.from_statement(_RISK, "sanyi_risk")


def risk_assessment(conn: sa.engine.Connection, inp: RiskInput, today: dt.date) -> Answer:
    row = _RISK_PREPARED.one(conn, {"pid": inp.id_number,
                                    "since": risk.three_years_before(today), "today": today})
    if not row.found:
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(row.regs)
    counts = (row.admissions, row.discharges, row.visits)
    facts = risk.RiskFacts(_names(regs), int(row.admissions[2]),
                           any(int(c[1]) > 0 for c in counts))
    touched = 1 + len(regs) + sum(int(c[0]) for c in counts)
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


def _visit_statement(chapter: bool) -> Any:
    """[visits, with the chapter] and [stays, with the chapter] at the institution in the
    window (the chapter counts 0 when none is asked)."""
    v_chapter = _chapter(VISITS.c.diagnosis_code, _LETTER) if chapter else sa.false()
    s_chapter = sa.or_(_chapter(ADMISSIONS.c.diagnosis_code, _LETTER),
                       _chapter(DISCHARGES.c.diagnosis_code, _LETTER)) if chapter else sa.false()
    stays = (sa.select(array([sa.func.count(sa.distinct(ADMISSIONS.c.admission_id)),
                              sa.func.count().filter(s_chapter)]))
             .select_from(ADMISSIONS.outerjoin(
                 DISCHARGES, DISCHARGES.c.admission_id == ADMISSIONS.c.admission_id))
             .where(ADMISSIONS.c.id_number == PID, ADMISSIONS.c.admission_date >= _FROM,
                    ADMISSIONS.c.admission_date <= _TO,
                    sa.or_(ADMISSIONS.c.institution_code == _CODE,
                           ADMISSIONS.c.institution_name == _NAME))
             .scalar_subquery())
    return _statement(
        visits=_counts(sa.func.count(), sa.func.count().filter(v_chapter), where=[
            VISITS.c.id_number == PID, VISITS.c.visit_date >= _FROM, VISITS.c.visit_date <= _TO,
            sa.or_(VISITS.c.institution_code == _CODE, VISITS.c.institution_name == _NAME)]),
        stays=stays)


_VISITS = {True: _visit_statement(True), False: _visit_statement(False)}


def visit_verification(conn: sa.engine.Connection, inp: VisitInput, today: dt.date) -> Answer:
    code, name = _institution(inp.institution)
    letter = inp.diagnosis_chapter
    row = conn.execute(_VISITS[bool(letter)], {
        "pid": inp.id_number, "code": code, "name": name, "date_from": inp.date_from,
        "date_to": inp.date_to, "letter": letter or ""}).one()
    if not row.found:
        return Answer({"found": False}, NOT_FOUND, 0)
    visits, stays = row.visits, row.stays
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
_RENEWAL = _statement(
    regs=_REGISTRATIONS,
    # [[category, last visit (ISO date), visits], ...] up to today
    by_category=_json_rows(
        sa.select(_CATEGORY, sa.func.max(VISITS.c.visit_date), sa.func.count())
        .where(VISITS.c.id_number == PID, VISITS.c.visit_date <= _TODAY).group_by(_CATEGORY)),
    # [last chronic prescription (ISO date), chronic prescriptions] up to today (the partial
    # index of chronic prescriptions)
    chronic_rx=sa.select(sa.func.json_build_array(
        sa.func.max(PRESCRIPTIONS.c.prescribed_on), sa.func.count()))
    .where(PRESCRIPTIONS.c.id_number == PID, PRESCRIPTIONS.c.chronic == "1",
           PRESCRIPTIONS.c.prescribed_on <= _TODAY).scalar_subquery())


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def renewal_eligibility(conn: sa.engine.Connection, inp: RenewalInput,
                        today: dt.date) -> Answer:
    row = conn.execute(_RENEWAL, {"pid": inp.id_number, "today": today}).one()
    if not row.found:
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(row.regs)
    by_category = row.by_category or []
    last_rx, rx_count = row.chronic_rx
    decision = renewal.decide(renewal.RenewalFacts(
        tuple(regs), {str(c): dt.date.fromisoformat(d) for c, d, _n in by_category if c},
        _day(last_rx)), today)
    touched = 1 + len(regs) + sum(int(r[2]) for r in by_category) + int(rx_count)
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
_PROFILE = _statement(
    regs=_REGISTRATIONS,
    # [[year, item, mean (as text: exact), exams], ...]
    exams=_json_rows(
        sa.select(_YEAR, EXAMS.c.item_code, sa.cast(sa.func.avg(EXAMS.c.value), sa.Text),
                  sa.func.count())
        .where(EXAMS.c.id_number == PID, EXAMS.c.item_code.in_(EXAM_ITEMS),
               EXAMS.c.exam_date >= _SINCE, EXAMS.c.exam_date <= _TODAY)
        .group_by(_YEAR, EXAMS.c.item_code)))


def health_profile(conn: sa.engine.Connection, inp: ProfileInput, today: dt.date) -> Answer:
    row = conn.execute(_PROFILE, {
        "pid": inp.id_number, "today": today,
        "since": dt.date(today.year - health.YEARS + 1, 1, 1)}).one()
    if not row.found:
        return Answer({"found": False}, NOT_FOUND, 0)
    regs = _registrations(row.regs)
    rows = row.exams or []
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
