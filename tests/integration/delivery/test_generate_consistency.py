"""The generated domain's tables agree with each other (read from the database)."""
from __future__ import annotations

import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import reference
from ckanext.sanyi.domain.id_number import birth_date, is_valid_id_number, sex

S = "sanyi_domain"


def _count(conn, sql: str, **params) -> int:
    return conn.execute(sa.text(sql), params).scalar()


def test_every_settlement_refers_to_its_visit_or_stay(small_domain):
    with small_domain.connect() as conn:
        assert _count(conn, f"SELECT count(*) FROM {S}.settlements") > small_domain.persons
        orphans = _count(conn, f"""
            SELECT count(*) FROM {S}.settlements s
            WHERE NOT EXISTS (SELECT 1 FROM {S}.outpatient_visits v
                              WHERE v.visit_id = s.visit_ref AND v.person_no = s.person_no
                                AND v.id_number = s.id_number AND v.visit_date = s.settle_date
                                AND v.institution_code = s.institution_code
                                AND v.total_fee = s.total_fee)
              AND NOT EXISTS (SELECT 1 FROM {S}.discharges d
                              WHERE d.admission_id = s.visit_ref AND d.person_no = s.person_no
                                AND d.id_number = s.id_number
                                AND d.discharge_date = s.settle_date
                                AND d.institution_code = s.institution_code)""")
        assert orphans == 0
        unsettled = _count(conn, f"""
            SELECT (SELECT count(*) FROM {S}.outpatient_visits v WHERE NOT EXISTS
                        (SELECT 1 FROM {S}.settlements s WHERE s.visit_ref = v.visit_id))
                 + (SELECT count(*) FROM {S}.discharges d WHERE NOT EXISTS
                        (SELECT 1 FROM {S}.settlements s WHERE s.visit_ref = d.admission_id))""")
        assert unsettled == 0


def test_settlement_amounts_add_up(small_domain):
    with small_domain.connect() as conn:
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.settlements s
            WHERE s.total_fee <> (SELECT sum(i.amount) FROM {S}.settlement_items i
                                  WHERE i.settlement_id = s.settlement_id)
               OR s.fund_paid + s.self_paid <> s.total_fee
               OR s.fund_paid < 0 OR s.self_paid < 0""") == 0
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.settlement_items i JOIN {S}.settlements s USING (settlement_id)
            WHERE i.person_no <> s.person_no OR i.amount <> i.quantity * i.unit_price
               OR i.occurred_on > s.settle_date""") == 0


def test_stays_are_ordered_and_counted(small_domain):
    with small_domain.connect() as conn:
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.admissions a
            FULL JOIN {S}.discharges d USING (admission_id)
            WHERE a.admission_id IS NULL OR d.admission_id IS NULL
               OR d.discharge_date < a.admission_date
               OR d.stay_days <> d.discharge_date - a.admission_date
               OR d.person_no <> a.person_no""") == 0


def test_prescriptions_belong_to_their_visit(small_domain):
    with small_domain.connect() as conn:
        assert _count(conn, f"SELECT count(*) FROM {S}.prescriptions WHERE days <= 0") == 0
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.prescriptions p
            WHERE NOT EXISTS (SELECT 1 FROM {S}.outpatient_visits v
                              WHERE v.visit_id = p.visit_id AND v.person_no = p.person_no
                                AND v.visit_date = p.prescribed_on)""") == 0
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.prescriptions p
            WHERE NOT EXISTS (SELECT 1 FROM {S}.market_drugs m
                              WHERE m.drug_code = p.drug_code
                                AND m.generic_name = p.drug_name)""") == 0


def test_chronic_prescriptions_only_for_registered_patients(small_domain):
    """A chronic prescription goes to a person registered for a condition the drug treats
    (or a statin for a registered patient), at a follow-up with that condition's diagnosis."""
    fits = {d.generic_name: set(d.for_conditions) & set(reference.CHRONIC)
            for d in reference.DRUGS}
    with small_domain.connect() as conn:
        rows = conn.execute(sa.text(f"""
            SELECT p.drug_name, v.diagnosis_code, s.medical_category,
                   array_agg(DISTINCT r.condition_code) FILTER (WHERE r.condition_code IS NOT NULL)
            FROM {S}.prescriptions p
            JOIN {S}.outpatient_visits v ON v.visit_id = p.visit_id
            JOIN {S}.settlements s ON s.visit_ref = v.visit_id
            LEFT JOIN {S}.chronic_registrations r ON r.person_no = p.person_no
            WHERE p.chronic = '1'
            GROUP BY p.prescription_id, p.drug_name, v.diagnosis_code, s.medical_category
        """)).all()
    assert rows
    for drug, dx, category, conditions in rows:
        assert conditions, (drug, dx)
        assert dx in conditions and category == "门诊慢特病"
        assert fits[drug] & set(conditions), (drug, conditions)
    with small_domain.connect() as conn:
        assert _count(conn, f"""
            SELECT count(*) FROM {S}.prescriptions WHERE chronic NOT IN ('0', '1')""") == 0


def test_identity_numbers_are_valid_and_agree_with_the_person(small_domain):
    with small_domain.connect() as conn:
        persons = conn.execute(sa.text(
            f"SELECT person_no, id_number, sex, birth_date, region_code FROM {S}.persons")).all()
        events = _count(conn, f"""
            SELECT count(*) FROM (
                SELECT person_no, id_number FROM {S}.outpatient_visits
                UNION ALL SELECT person_no, id_number FROM {S}.admissions
                UNION ALL SELECT person_no, id_number FROM {S}.prescriptions
                UNION ALL SELECT person_no, id_number FROM {S}.exams
                UNION ALL SELECT person_no, id_number FROM {S}.lab_results
                UNION ALL SELECT person_no, id_number FROM {S}.chronic_registrations
                UNION ALL SELECT person_no, id_number FROM {S}.adverse_events) e
            WHERE NOT EXISTS (SELECT 1 FROM {S}.persons p
                              WHERE p.person_no = e.person_no AND p.id_number = e.id_number)""")
    assert events == 0
    assert len({p.id_number for p in persons}) == len(persons)
    assert len({p.person_no for p in persons}) == len(persons)
    regions = {r.code for r in reference.REGIONS}
    for p in persons:
        assert is_valid_id_number(p.id_number), p.id_number
        assert birth_date(p.id_number) == p.birth_date
        assert sex(p.id_number) == p.sex
        assert p.id_number[:6] == p.region_code and p.region_code in regions


def test_events_lie_between_birth_and_today(small_domain):
    today = small_domain.today
    checks = {"outpatient_visits": "visit_date", "admissions": "admission_date",
              "discharges": "discharge_date", "prescriptions": "prescribed_on",
              "exams": "exam_date", "lab_results": "test_date", "adverse_events": "onset_date",
              "settlements": "settle_date", "chronic_registrations": "registered_on"}
    with small_domain.connect() as conn:
        for table, column in checks.items():
            bad = _count(conn, f"""
                SELECT count(*) FROM {S}.{table} t JOIN {S}.persons p USING (person_no)
                WHERE t.{column} > :today OR t.{column} < p.birth_date""", today=today)
            assert bad == 0, table


def test_market_drugs_are_the_reference_list(small_domain):
    with small_domain.connect() as conn:
        got = conn.execute(sa.text(
            f"SELECT drug_code, generic_name, atc_code FROM {S}.market_drugs")).all()
    assert sorted(got) == sorted((d.code, d.generic_name, d.atc_code) for d in reference.DRUGS)
    names = {g for _, g, _ in got}
    assert {"苯磺酸氨氯地平片", "盐酸二甲双胍片", "阿托伐他汀钙片", "硝苯地平控释片", "厄贝沙坦片",
            "格列美脲片", "阿莫西林胶囊"} <= names
