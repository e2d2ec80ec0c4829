"""The product operations over a small generated domain (``small_domain``: 2,000 persons,
today 2026-12-01): the fixed test persons' answers exactly, unknown persons, answers valid
under the output schemas, no identifier or date in an answer about a person, the cohort's
counts checked against an independent count and its suppression against the pure rule."""
from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter

import pytest
import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import sources
from ckanext.sanyi.delivery.datadomain.tables import table
from ckanext.sanyi.delivery.operations import cohort, engine, person, spec
from ckanext.sanyi.domain import icd10, op_inputs, suppression

P1, P2, P3, ABSENT = ("420802195803124021", "420804197206152317", "420881199009235625",
                      "420822196511080012")
CONSENT = "AUTH-2026-000123"
PERSON_OPS = ("risk-assessment", "visit-verification", "renewal-eligibility", "health-profile")


@pytest.fixture(scope="module")
def call(small_domain):
    with small_domain.connect() as conn:
        def run(name, payload, today=small_domain.today):
            answer = engine.run(name, payload, conn=conn, today=today)
            op = spec.get(name)
            errors = list(op.output_validator.iter_errors(answer.result))
            assert not errors, errors[0].message
            assert set(answer.fields_read) <= set(op.columns)
            assert answer.rows_touched >= 0
            return answer
        yield run


def risk(call, number, **kw):
    return call("risk-assessment", {"id_number": number, "consent_ref": CONSENT}, **kw).result


def visits(call, number, institution, date_from, date_to, chapter=None):
    payload = {"id_number": number, "institution": institution, "date_from": date_from,
               "date_to": date_to}
    if chapter:
        payload["diagnosis_chapter"] = chapter
    return call("visit-verification", payload).result


# -- 智慧核保 risk-assessment -----------------------------------------------------------------------
def test_risk_of_the_fixed_persons(call):
    assert risk(call, P1) == {"found": True, "chronic_conditions": ["高血压", "2型糖尿病"],
                              "hospitalizations_3y": 2, "major_disease": False,
                              "risk_level": "C"}
    assert risk(call, P2) == {"found": True, "chronic_conditions": [],
                              "hospitalizations_3y": 0, "major_disease": False,
                              "risk_level": "A"}
    assert risk(call, P3) == {"found": True, "chronic_conditions": [],
                              "hospitalizations_3y": 1, "major_disease": False,
                              "risk_level": "B"}


def test_the_three_years_end_the_day_before_the_same_date(call):
    # 420881199009235625 was admitted on 2025-06-14
    assert risk(call, P3, today=dt.date(2028, 6, 13))["hospitalizations_3y"] == 1
    assert risk(call, P3, today=dt.date(2028, 6, 14)) == {
        "found": True, "chronic_conditions": [], "hospitalizations_3y": 0,
        "major_disease": False, "risk_level": "A"}
    # 420802195803124021: the 2024-10-08 stay leaves the window, the 2026-03-02 one stays
    assert risk(call, P1, today=dt.date(2027, 10, 9))["hospitalizations_3y"] == 1


@pytest.mark.parametrize("source", ["admissions", "discharges"])
def test_a_major_disease_in_a_stay(small_domain, call, source):
    t = table(source)
    with small_domain.connect() as conn:
        found = conn.execute(sa.select(t.c.id_number, t.c.diagnosis_code).where(
            person.in_ranges(t.c.diagnosis_code, icd10.MAJOR_DISEASES)).limit(1)).first()
    assert found is not None, f"no major disease in {source} of this generation"
    assert icd10.is_major(found[1])
    answer = risk(call, found[0])
    assert answer["major_disease"] is True and answer["risk_level"] == "D"


@pytest.mark.parametrize("code, major", [("C34.9", True), ("c16", True), ("I60.1", True),
                                         ("N19", True), ("C98", False), ("I65.2", False),
                                         ("D00", False)])
def test_a_major_disease_in_an_outpatient_visit(small_domain, code, major):
    """A visit added inside the test's own transaction (rolled back, never seen by others)."""
    V = table("outpatient_visits")
    with small_domain.connect() as conn:
        conn.execute(V.insert().values(
            visit_id="MZTEST000001", person_no="P-TEST", id_number=P2,
            institution_code="H42080200002", institution_name="市第二人民医院",
            visit_date=dt.date(2019, 5, 1), diagnosis_code=code))
        answer = engine.run("risk-assessment", {"id_number": P2, "consent_ref": CONSENT},
                            conn=conn, today=small_domain.today).result
    assert answer["major_disease"] is major
    assert answer["risk_level"] == ("D" if major else "A")


# -- 理赔调查 visit-verification --------------------------------------------------------------------
def test_visits_of_the_fixed_persons(call):
    # one visit in 2026 (2026-04-08, 市第二人民医院, J06.9), never a stay
    assert visits(call, P2, "市第二人民医院", "2026-01-01", "2026-12-01", "J") == {
        "found": True, "outpatient_visits": 1, "inpatient_stays": 0,
        "diagnosis_chapter_present": True}
    assert visits(call, P2, "H42080200002", "2026-01-01", "2026-12-01", "M") == {
        "found": True, "outpatient_visits": 1, "inpatient_stays": 0,
        "diagnosis_chapter_present": False}
    assert visits(call, P2, "市第二人民医院", "2026-04-09", "2026-12-01") == {
        "found": True, "outpatient_visits": 0, "inpatient_stays": 0,
        "diagnosis_chapter_present": None}
    assert visits(call, P2, "市第一人民医院", "2026-01-01", "2026-12-01")["outpatient_visits"] == 0
    # the delivery at 市妇幼保健院 (O80), 2025-06-14..17
    answer = visits(call, P3, "市妇幼保健院", "2025-01-01", "2025-12-31", "O")
    assert answer["inpatient_stays"] == 1 and answer["diagnosis_chapter_present"] is True
    assert visits(call, P3, "市妇幼保健院", "2025-06-15", "2025-12-31", "O")["inpatient_stays"] == 0
    # 420802195803124021: the 2026-03 stay at 市第一人民医院 (I10), monthly visits at the centre
    assert visits(call, P1, "市第一人民医院", "2026-01-01", "2026-12-01", "I") == {
        "found": True, "outpatient_visits": 0, "inpatient_stays": 1,
        "diagnosis_chapter_present": True}
    assert visits(call, P1, "市第一人民医院", "2026-01-01", "2026-12-01", "E")[
        "diagnosis_chapter_present"] is False
    assert visits(call, P1, "H42080200003", "2024-01-01", "2024-12-31", "E")["inpatient_stays"] == 1
    assert visits(call, P1, "东宝区社区卫生服务中心", "2026-01-01", "2026-11-30") == {
        "found": True, "outpatient_visits": 11, "inpatient_stays": 0,
        "diagnosis_chapter_present": None}


def test_an_unknown_institution_has_no_visits(call):
    assert visits(call, P1, "不存在的医院", "2024-01-01", "2026-11-30", "I") == {
        "found": True, "outpatient_visits": 0, "inpatient_stays": 0,
        "diagnosis_chapter_present": False}


# -- 慢病线上开处方 renewal-eligibility -------------------------------------------------------------
def test_renewal_of_the_fixed_persons(call):
    answer = call("renewal-eligibility", {"id_number": P1}).result
    assert {k: answer[k] for k in ("found", "chronic_conditions", "last_qualifying_visit_month",
                                   "eligible", "reason_code")} == {
        "found": True, "chronic_conditions": ["高血压", "2型糖尿病"],
        "last_qualifying_visit_month": "2026-11", "eligible": True, "reason_code": "eligible"}
    assert "可线上续方" in answer["reason"] and "allowed" in answer["reason_en"]
    for number in (P2, P3):
        answer = call("renewal-eligibility", {"id_number": number}).result
        assert answer["chronic_conditions"] == [] and answer["eligible"] is False
        assert answer["reason_code"] == "not_registered"
        assert answer["last_qualifying_visit_month"] is None


def test_renewal_needs_a_recent_follow_up(call):
    later = call("renewal-eligibility", {"id_number": P1}, today=dt.date(2027, 6, 1)).result
    assert later["eligible"] is False and later["reason_code"] == "no_recent_visit"
    assert later["last_qualifying_visit_month"] == "2026-11"


# -- 个人健康画像 health-profile ----------------------------------------------------------------------
def test_health_profile_of_the_fixed_persons(call):
    p1 = call("health-profile", {"id_number": P1}).result
    years = [2023, 2024, 2025, 2026]
    assert p1["chronic_conditions"] == ["高血压", "2型糖尿病"]
    assert p1["blood_pressure"] == [{"year": y, "band": "1级"} for y in years]
    assert p1["fasting_glucose"] == [{"year": y, "band": "糖尿病水平"} for y in years]
    assert p1["bmi"] == [{"year": y, "band": "超重"} for y in years]
    assert p1["trends"] == {"blood_pressure": "稳定", "fasting_glucose": "稳定", "bmi": "稳定"}
    assert [w["code"] for w in p1["warnings"]] == ["bp_uncontrolled", "glucose_uncontrolled"]
    p2 = call("health-profile", {"id_number": P2}).result
    assert p2["chronic_conditions"] == [] and p2["warnings"] == []
    assert p2["blood_pressure"] == [{"year": 2025, "band": "正常高值"}]
    assert p2["fasting_glucose"] == [{"year": 2025, "band": "正常"}]
    assert p2["trends"]["blood_pressure"] == "数据不足"
    p3 = call("health-profile", {"id_number": P3}).result
    assert p3["blood_pressure"] == p3["fasting_glucose"] == p3["bmi"] == []


# -- every person operation ---------------------------------------------------------------------
def _payload(name, number):
    return {"risk-assessment": {"id_number": number, "consent_ref": CONSENT},
            "visit-verification": {"id_number": number, "institution": "市第一人民医院",
                                   "date_from": "2024-01-01", "date_to": "2026-11-30",
                                   "diagnosis_chapter": "I"}}.get(name, {"id_number": number})


@pytest.mark.parametrize("name", PERSON_OPS)
def test_an_unknown_person_is_not_found(call, name):
    answer = call(name, _payload(name, ABSENT))
    assert answer.result == {"found": False}
    assert answer.fields_read == ("persons.id_number",) and answer.rows_touched == 0


@pytest.mark.parametrize("name", PERSON_OPS)
@pytest.mark.parametrize("number", [P1, P2, P3])
def test_no_identifier_date_or_record_leaves(small_domain, call, name, number):
    """Nothing of the person's rows comes back but facts: no other identifier (person no.,
    visit, stay, prescription ids, names, phone, address, institutions, doctors, diagnosis
    codes and names), no date finer than a month."""
    text = json.dumps(call(name, _payload(name, number)).result, ensure_ascii=False)
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)
    assert not re.search(r"\d{15,}", text.replace(number, ""))
    secrets: set[str] = set()
    with small_domain.connect() as conn:
        for s in sources.SOURCES:
            t = table(s.table)
            if "id_number" not in s.columns:
                continue
            cols = [c for c in s.columns if c not in ("id_number", "sex", "status", "chronic",
                                                      "severity", "insurance_type",
                                                      "person_type", "medical_category",
                                                      "condition_name", "condition_code",
                                                      "item_category", "unit", "value",
                                                      "dose", "frequency", "days", "stay_days",
                                                      "discharge_method", "abnormal",
                                                      "outcome", "item_name", "item_code")]
            for row in conn.execute(sa.select(*(t.c[c] for c in cols))
                                    .where(t.c.id_number == number)):
                secrets |= {str(v) for v in row if v is not None and len(str(v)) >= 3}
    secrets -= {name for _, name in icd10.CHRONIC_CONDITIONS}  # a diagnosis named as the condition
    leaked = sorted(s for s in secrets if s in text)
    assert leaked == [], leaked


# -- 回顾性疗效安全性研究 cohort-statistics -------------------------------------------------------------
DRUG = "苯磺酸氨氯地平片"


def _independent_grid(small_domain, drug, date_from, date_to, events=False):
    """Persons per (age band, sex), counted in Python from plain rows."""
    src = table("adverse_events" if events else "prescriptions")
    day = src.c.onset_date if events else src.c.prescribed_on
    P = table("persons")
    with small_domain.connect() as conn:
        ids = {r[0] for r in conn.execute(sa.select(src.c.id_number).where(
            src.c.drug_name == drug, day >= date_from, day <= date_to))}
        people = {r[0]: (r[1], r[2]) for r in conn.execute(
            sa.select(P.c.id_number, P.c.sex, P.c.birth_date)
            .where(P.c.id_number.in_(sorted(ids))))} if ids else {}
    counts: Counter = Counter()
    for number in ids:
        if number not in people or people[number][0] not in ("1", "2"):
            continue
        sex, born = people[number]
        age = date_from.year - born.year - ((date_from.month, date_from.day) <
                                            (born.month, born.day))
        band = next(i for i, (_, upper) in enumerate(cohort.AGE_BANDS)
                    if upper is None or age < upper)
        counts[(band, int(sex) - 1)] += 1
    return [[counts[(i, j)] for j in range(2)] for i in range(len(cohort.AGE_BANDS))]


@pytest.mark.parametrize("drug", [DRUG, "盐酸二甲双胍片", "阿莫西林胶囊"])
def test_cohort_counts_are_the_persons_per_cell(small_domain, drug):
    inp = op_inputs.CohortInput(drug, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    with small_domain.connect() as conn:
        users, events = cohort.grid_counts(conn, inp)
    assert users == _independent_grid(small_domain, drug, inp.date_from, inp.date_to)
    assert events == _independent_grid(small_domain, drug, inp.date_from, inp.date_to, True)
    assert sum(map(sum, users)) > 0


@pytest.mark.parametrize("group_by", [[], ["age_band"], ["sex"], ["age_band", "sex"]])
def test_cohort_answers_are_the_suppressed_grid(small_domain, call, group_by):
    payload = {"drug": DRUG, "date_from": "2025-01-01", "date_to": "2025-12-31",
               "group_by": group_by}
    answer = call("cohort-statistics", payload)
    result = answer.result
    inp = op_inputs.CohortInput(DRUG, dt.date(2025, 1, 1), dt.date(2025, 12, 31),
                                tuple(group_by))
    with small_domain.connect() as conn:
        users, events = cohort.grid_counts(conn, inp)
    expected = suppression.suppress(cohort.fold(users, inp.group_by))
    shown = [c["users"] for c in result["cells"]]
    assert shown == [expected.shown(k) for k in expected.grid.values()]
    # the cells, then the totals published (5 age bands x 2 sexes at most)
    assert len(result["cells"]) == {(): 1, ("age_band",): 6, ("sex",): 3,
                                    ("age_band", "sex"): 18}[inp.group_by]
    for cell in result["cells"]:
        for measure in ("users", "adverse_events"):
            value = cell[measure]
            assert value in ("<11", "suppressed") or value == 0 or value >= 11
        assert set(cell) == {*group_by, "users", "adverse_events"}
    assert result["withheld"] is False
    assert answer.rows_touched == sum(map(sum, users)) + sum(map(sum, events))


def test_cohort_totals_agree_across_groupings(call):
    totals = []
    for group_by in ([], ["age_band"], ["sex"], ["age_band", "sex"]):
        cells = call("cohort-statistics", {"drug": DRUG, "date_from": "2025-01-01",
                                           "date_to": "2025-12-31",
                                           "group_by": group_by}).result["cells"]
        totals.append(next(c["users"] for c in cells
                           if all(c.get(k) is None for k in group_by)))
    assert len(set(totals)) == 1 and isinstance(totals[0], int) and totals[0] >= 11


def test_the_fixed_user_is_among_the_cohort(small_domain):
    # 420802195803124021 (女, 66 on 2025-01-01) takes 苯磺酸氨氯地平片 every month
    inp = op_inputs.CohortInput(DRUG, dt.date(2025, 1, 1), dt.date(2025, 1, 31))
    with small_domain.connect() as conn:
        users, _ = cohort.grid_counts(conn, inp)
    assert users[3][1] >= 1


def test_a_drug_nobody_takes(call):
    result = call("cohort-statistics", {"drug": "不存在的药", "date_from": "2025-01-01",
                                        "date_to": "2025-12-31",
                                        "group_by": ["age_band", "sex"]}).result
    assert all(c["users"] == 0 and c["adverse_events"] == 0 for c in result["cells"])


# -- input refused before anything runs ---------------------------------------------------------
def test_bad_input_is_refused_with_fields_in_both_languages(call):
    from ckanext.sanyi.delivery.operations.errors import InvalidInput
    with pytest.raises(InvalidInput) as err:
        call("visit-verification", {"id_number": "420802195803124022", "institution": "",
                                    "date_from": "2026-01-01", "date_to": "2025-01-01",
                                    "extra": 1})
    assert [e["field"] for e in err.value.as_list()] == ["extra"]
    with pytest.raises(InvalidInput) as err:
        call("visit-verification", {"id_number": "420802195803124022", "institution": "",
                                    "date_from": "2026-01-01", "date_to": "2025-01-01"})
    by_field = {e["field"]: e for e in err.value.as_list()}
    assert set(by_field) == {"id_number", "institution", "date_to"}
    assert all(e["zh"] and e["en"] for e in by_field.values())
