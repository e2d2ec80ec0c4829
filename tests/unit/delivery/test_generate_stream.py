"""The synthetic domain's rows as the generator streams them (pure: no database).

Determinism, valid and unique identity numbers, and distributions of a 5,000-person sample
within tolerance of the rates the generator is built on (prevalence of 高血压 and 2型糖尿病
over 45, the age pyramid, stays rising with age, deliveries for women 20-40, rare adverse
reactions, mostly 一般).
"""
from __future__ import annotations

import collections
import datetime as dt
import hashlib

import pytest

from ckanext.sanyi.delivery.datadomain import fixed, generate, sources
from ckanext.sanyi.domain.id_number import birth_date, is_valid_id_number, sex

TODAY = dt.date(2026, 12, 1)


def _digests(persons: int, seed: int, today: dt.date = TODAY) -> dict[str, str]:
    h = {s.table: hashlib.sha256() for s in sources.SOURCES}
    for _, rows in generate.stream(persons, seed, today):
        for name, d in h.items():
            d.update(rows.text(name).encode())
    return {k: v.hexdigest() for k, v in h.items()}


def test_same_parameters_same_rows_other_seed_other_rows():
    first = _digests(300, 11)
    assert _digests(300, 11) == first
    other = _digests(300, 12)
    assert other["market_drugs"] == first["market_drugs"]
    changed = {t for t in first if first[t] != other[t]}
    assert changed >= {"persons", "outpatient_visits", "settlements", "settlement_items",
                       "prescriptions", "exams"}
    assert _digests(300, 11, dt.date(2026, 11, 30))["persons"] != first["persons"]


def test_columns_match_the_sources():
    for _, rows in generate.stream(200, 5, TODAY):
        for s in sources.SOURCES:
            for line in rows.lines[s.table]:
                assert line.count("\t") == len(s.columns) - 1, s.table


def test_too_few_persons_refused():
    with pytest.raises(ValueError):
        next(generate.stream(2, 1, TODAY))


def _parse(rows, table):
    cols = sources.by_table(table).columns
    return [dict(zip(cols, line.split("\t"), strict=True)) for line in rows.lines[table]]


@pytest.fixture(scope="module")
def sample():
    out = collections.defaultdict(list)
    for _, rows in generate.stream(5000, 20261201, TODAY):
        for s in sources.SOURCES:
            out[s.table] += _parse(rows, s.table)
    return out


def _age(born: str, on: dt.date = TODAY) -> float:
    return (on - dt.date.fromisoformat(born)).days / 365.2425


def test_identity_numbers(sample):
    persons = sample["persons"]
    assert len(persons) == 5000
    ids = [p["id_number"] for p in persons]
    assert len(set(ids)) == len(ids) and len({p["person_no"] for p in persons}) == len(ids)
    assert fixed.ABSENT not in ids
    assert [i for i in ids if i in fixed.FIXED_IDS] == list(fixed.FIXED_IDS)
    for p in persons:
        n = p["id_number"]
        assert is_valid_id_number(n)
        assert birth_date(n).isoformat() == p["birth_date"] and sex(n) == p["sex"]
        assert n[:6] == p["region_code"]


def test_prevalence_over_45(sample):
    over = {p["person_no"] for p in sample["persons"] if _age(p["birth_date"]) >= 45}
    young = {p["person_no"] for p in sample["persons"] if _age(p["birth_date"]) < 45}
    reg = collections.defaultdict(set)
    for r in sample["chronic_registrations"]:
        reg[r["condition_code"]].add(r["person_no"])
    assert 0.21 <= len(reg["I10"] & over) / len(over) <= 0.29
    assert 0.07 <= len(reg["E11"] & over) / len(over) <= 0.13
    assert len(reg["I10"] & young) / len(young) < 0.05
    names = {(r["condition_code"], r["condition_name"]) for r in sample["chronic_registrations"]}
    assert names == {("I10", "高血压"), ("E11", "2型糖尿病")}


def test_age_pyramid_and_sex(sample):
    persons = sample["persons"]
    ages = [_age(p["birth_date"]) for p in persons]
    assert 0.16 <= sum(a >= 60 for a in ages) / len(ages) <= 0.21   # 2020 census: 18.7 %
    assert 0.15 <= sum(a < 15 for a in ages) / len(ages) <= 0.20    # 17.9 %
    assert 0.49 <= sum(p["sex"] == "1" for p in persons) / len(persons) <= 0.535
    assert max(ages) < 101


def test_visits_and_stays_rise_with_age(sample):
    band = {p["person_no"]: ("young" if _age(p["birth_date"]) < 45 else "old")
            for p in sample["persons"]}
    size = collections.Counter(band.values())
    stays = collections.Counter(band[a["person_no"]] for a in sample["admissions"]
                                if a["diagnosis_code"] not in ("O80", "O82"))
    visits = collections.Counter(band[v["person_no"]] for v in sample["outpatient_visits"])
    assert stays["old"] / size["old"] > 2 * stays["young"] / size["young"]
    assert visits["old"] / size["old"] > visits["young"] / size["young"]
    per_year = len(sample["outpatient_visits"]) / len(sample["persons"]) / 3
    assert 1.5 <= per_year <= 5


def test_deliveries_for_women_20_to_40(sample):
    persons = {p["person_no"]: p for p in sample["persons"]}
    deliveries = [a for a in sample["admissions"] if a["diagnosis_code"] in ("O80", "O82")]
    assert deliveries
    for a in deliveries:
        p = persons[a["person_no"]]
        assert p["sex"] == "2" and a["dept_name"] == "产科"
        assert 20 <= _age(p["birth_date"], dt.date.fromisoformat(a["admission_date"])) < 41
    categories = {s["visit_ref"]: s["medical_category"] for s in sample["settlements"]}
    assert {categories[a["admission_id"]] for a in deliveries} == {"生育住院"}


def test_adverse_reactions_rare_and_mostly_mild(sample):
    users = {p["person_no"] for p in sample["prescriptions"]}
    events = sample["adverse_events"]
    assert 0.001 <= len(events) / len(users) <= 0.012
    assert sum(e["severity"] == "一般" for e in events) >= 0.6 * len(events)
    taken = collections.defaultdict(set)
    for p in sample["prescriptions"]:
        taken[p["person_no"]].add(p["drug_name"])
    for e in events:
        assert e["drug_name"] in taken[e["person_no"]]


def test_exams_for_a_share_of_adults(sample):
    adults = {p["person_no"] for p in sample["persons"] if _age(p["birth_date"]) >= 18}
    examined = {e["person_no"] for e in sample["exams"]}
    assert examined <= adults
    assert 0.3 <= len(examined) / len(adults) <= 0.8
    assert {e["item_code"] for e in sample["exams"]} >= {"SBP", "DBP", "FBG", "BMI", "TC"}
