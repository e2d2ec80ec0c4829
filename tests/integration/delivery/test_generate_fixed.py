"""The fixed test persons of a generated domain have exactly the documented facts (README,
演示数据域), and 420822196511080012 is in no row of any table."""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import reference, sources, tables

D = dt.date
HTN_DM, EMPLOYEE, MOTHER, ABSENT = ("420802195803124021", "420804197206152317",
                                    "420881199009235625", "420822196511080012")
EPOCH = D(1900, 1, 1)
MAJOR = ("C", "I6", "I21", "I22", "N17", "N18", "N19")


def _t(name: str) -> sa.Table:
    return tables.table(name)


def _person(conn, id_number):
    p = _t("persons")
    return conn.execute(sa.select(p).where(p.c.id_number == id_number)).mappings().one()


def _registrations(conn, id_number):
    r = _t("chronic_registrations")
    return sorted(conn.execute(sa.select(r.c.condition_code, r.c.condition_name,
                                         r.c.registered_on, r.c.status)
                               .where(r.c.id_number == id_number)).all())


def _stays(conn, id_number, since=EPOCH):
    a, d = _t("admissions"), _t("discharges")
    return sorted(conn.execute(
        sa.select(a.c.admission_date, d.c.discharge_date, a.c.institution_name,
                  a.c.diagnosis_code, a.c.dept_name, d.c.stay_days)
        .join(d, d.c.admission_id == a.c.admission_id)
        .where(a.c.id_number == id_number, a.c.admission_date >= since)).all())


def _visits(conn, id_number, since=EPOCH):
    v = _t("outpatient_visits")
    return sorted(conn.execute(
        sa.select(v.c.visit_date, v.c.institution_name, v.c.diagnosis_code, v.c.visit_id)
        .where(v.c.id_number == id_number, v.c.visit_date >= since)).all())


def _diagnoses(conn, id_number):
    codes = set()
    for name in ("outpatient_visits", "admissions", "discharges"):
        t = _t(name)
        codes |= set(conn.execute(sa.select(t.c.diagnosis_code)
                                  .where(t.c.id_number == id_number)).scalars())
    return codes


def _months(today: dt.date):
    y, m = 2024, 1
    while D(y, m, 5) <= today:
        yield D(y, m, 5)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def test_hypertensive_diabetic_woman(small_domain):
    today = small_domain.today
    with small_domain.connect() as conn:
        p = _person(conn, HTN_DM)
        assert (p["sex"], p["birth_date"], p["region_code"], p["region_name"],
                p["insurance_type"], p["person_type"]) == \
            ("2", D(1958, 3, 12), "420802", "东宝区", "职工医保", "退休")
        assert _registrations(conn, HTN_DM) == [("E11", "2型糖尿病", D(2020, 9, 1), "在管"),
                                                ("I10", "高血压", D(2019, 5, 10), "在管")]
        assert _stays(conn, HTN_DM, since=today - dt.timedelta(days=3 * 365 + 1)) == [
            (D(2024, 10, 8), D(2024, 10, 15), "市中医医院", "E11.9", "内分泌科", 7),
            (D(2026, 3, 2), D(2026, 3, 11), "市第一人民医院", "I10", "心血管内科", 9)]
        visits = _visits(conn, HTN_DM, since=D(2024, 1, 1))
        assert [v.visit_date for v in visits] == list(_months(today))
        assert {v.institution_name for v in visits} == {"东宝区社区卫生服务中心"}
        assert {v.diagnosis_code for v in visits} == {"I10", "E11"}
        rx = _t("prescriptions")
        got = conn.execute(sa.select(rx.c.visit_id, rx.c.prescribed_on, rx.c.drug_name,
                                     rx.c.dose, rx.c.frequency, rx.c.days, rx.c.chronic)
                           .where(rx.c.id_number == HTN_DM)).all()
        assert len(got) == 2 * len(visits)
        for v in visits:
            mine = sorted(r[2:] for r in got if r.visit_id == v.visit_id)
            assert mine == [("盐酸二甲双胍片", "0.5g", "tid", 30, "1"),
                            ("苯磺酸氨氯地平片", "5mg", "qd", 30, "1")]
        ex = _t("exams")
        values = conn.execute(sa.select(ex.c.exam_date, ex.c.item_code, ex.c.value)
                              .where(ex.c.id_number == HTN_DM)).all()
        years = {r.exam_date.year for r in values}
        assert years == set(range(2023, today.year + 1))
        for r in values:
            if r.item_code == "SBP":
                assert 144 <= r.value <= 156
            if r.item_code == "FBG":
                assert 7.5 <= r.value <= 8.5
        assert not {c for c in _diagnoses(conn, HTN_DM) if c.startswith(MAJOR)}
        assert not any(reference.is_major_disease(c) for c in _diagnoses(conn, HTN_DM))


def test_employee_with_one_visit_in_2026(small_domain):
    with small_domain.connect() as conn:
        p = _person(conn, EMPLOYEE)
        assert (p["sex"], p["birth_date"], p["region_code"], p["insurance_type"],
                p["person_type"]) == ("1", D(1972, 6, 15), "420804", "职工医保", "在职")
        assert _registrations(conn, EMPLOYEE) == []
        in_2026 = [v[:3] for v in _visits(conn, EMPLOYEE) if v.visit_date.year == 2026]
        assert in_2026 == [(D(2026, 4, 8), "市第二人民医院", "J06.9")]
        assert _stays(conn, EMPLOYEE) == []
        rx = _t("prescriptions")
        assert conn.execute(sa.select(sa.func.count()).where(
            rx.c.id_number == EMPLOYEE, rx.c.chronic == "1")).scalar() == 0


def test_mother_with_one_delivery(small_domain):
    with small_domain.connect() as conn:
        p = _person(conn, MOTHER)
        assert (p["sex"], p["birth_date"], p["region_code"], p["insurance_type"]) == \
            ("2", D(1990, 9, 23), "420881", "城乡居民医保")
        assert _registrations(conn, MOTHER) == []
        assert _stays(conn, MOTHER) == [
            (D(2025, 6, 14), D(2025, 6, 17), "市妇幼保健院", "O80", "产科", 3)]
        s = _t("settlements")
        assert conn.execute(sa.select(s.c.medical_category, s.c.settle_date).where(
            s.c.id_number == MOTHER, s.c.visit_ref.like("ZY%"))).all() == \
            [("生育住院", D(2025, 6, 17))]


def test_absent_number_is_in_no_row(small_domain):
    with small_domain.connect() as conn:
        for source in sources.SOURCES:
            t = _t(source.table)
            hits = conn.execute(sa.text(
                f'SELECT count(*) FROM {sources.SCHEMA}."{t.name}" AS r '
                "WHERE r::text LIKE :needle"), {"needle": f"%{ABSENT}%"}).scalar()
            assert hits == 0, source.table


def test_every_fixed_person_once(small_domain):
    p = _t("persons")
    with small_domain.connect() as conn:
        got = conn.execute(sa.select(p.c.id_number, p.c.person_no).where(
            p.c.id_number.in_([HTN_DM, EMPLOYEE, MOTHER, ABSENT]))).all()
        total = conn.execute(sa.select(sa.func.count()).select_from(p)).scalar()
    assert sorted(r.id_number for r in got) == sorted([HTN_DM, EMPLOYEE, MOTHER])
    assert total == small_domain.persons
