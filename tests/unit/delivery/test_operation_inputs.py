"""Operation inputs (domain/op_inputs.py through engine.validate_input): every bad field named
in Chinese and English, unknown fields refused, the window limits; and the parsers agree with
the published input schemas (what a parser accepts the schema allows; what the schema refuses
the parser refuses too)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckanext.sanyi.delivery.operations import engine, spec
from ckanext.sanyi.delivery.operations.errors import InvalidInput
from ckanext.sanyi.domain import op_inputs

TODAY = dt.date(2026, 12, 1)
ID = "420802195803124021"
GOOD = {
    "risk-assessment": {"id_number": ID, "consent_ref": "AUTH-2026-000123"},
    "visit-verification": {"id_number": ID, "institution": "市第一人民医院",
                           "date_from": "2026-01-01", "date_to": "2026-11-30",
                           "diagnosis_chapter": "I"},
    "renewal-eligibility": {"id_number": ID},
    "health-profile": {"id_number": ID},
    "cohort-statistics": {"drug": "苯磺酸氨氯地平片", "date_from": "2025-01-01",
                          "date_to": "2025-12-31", "group_by": ["sex", "age_band"]},
}


def refused(name, payload):
    with pytest.raises(InvalidInput) as err:
        engine.validate_input(name, payload, today=TODAY)
    fields = {e.field: e for e in err.value.errors}
    for e in err.value.errors:
        assert e.zh and e.en and e.zh != e.en
    assert err.value.code == "invalid_input" and err.value.status == 400
    assert err.value.as_list()[0]["field"] == err.value.field
    return fields


@pytest.mark.parametrize("name", GOOD)
def test_good_input_is_typed_and_allowed_by_the_schema(name):
    typed = engine.validate_input(name, GOOD[name], today=TODAY)
    assert spec.get(name).input_validator.is_valid(GOOD[name])
    assert type(typed).__name__.endswith("Input")


def test_typed_values():
    v = engine.validate_input("visit-verification", GOOD["visit-verification"], today=TODAY)
    assert v == op_inputs.VisitInput(ID, "市第一人民医院", dt.date(2026, 1, 1),
                                     dt.date(2026, 11, 30), "I")
    c = engine.validate_input("cohort-statistics", GOOD["cohort-statistics"], today=TODAY)
    assert c.group_by == ("age_band", "sex")   # fixed order whatever the order asked
    assert engine.validate_input("cohort-statistics", {**GOOD["cohort-statistics"],
                                                       "group_by": None}).group_by == ()


@pytest.mark.parametrize("name", GOOD)
def test_unknown_fields_are_refused(name):
    fields = refused(name, {**GOOD[name], "name": "张三"})
    assert set(fields) == {"name"} and "不支持" in fields["name"].zh


@pytest.mark.parametrize("payload", [None, [], "id_number", 42])
def test_the_input_must_be_an_object(payload):
    assert set(refused("renewal-eligibility", payload)) == {"__all__"}


def test_every_bad_field_at_once():
    fields = refused("visit-verification", {"id_number": "420802195803124022",
                                            "date_from": "2026-02-30", "date_to": "20261201",
                                            "diagnosis_chapter": "i"})
    assert set(fields) == {"id_number", "institution", "date_from", "date_to",
                           "diagnosis_chapter"}
    assert "校验码" in fields["id_number"].zh and "check digit" in fields["id_number"].en


@pytest.mark.parametrize("consent", [None, "", "12345", "x" * 65, "有中文的编号123", "a b c d e f",
                                     123456])
def test_consent_reference(consent):
    payload = {**GOOD["risk-assessment"], "consent_ref": consent}
    assert "consent_ref" in refused("risk-assessment", payload)


def test_consent_reference_is_required():
    assert "consent_ref" in refused("risk-assessment", {"id_number": ID})


@pytest.mark.parametrize("date_from, date_to, field, zh", [
    ("2026-05-01", "2026-04-30", "date_to", "不能早于"),
    ("2023-12-01", "2026-12-01", "date_to", "3年"),
    ("2027-01-01", "2027-02-01", "date_from", "晚于今天"),
])
def test_visit_window(date_from, date_to, field, zh):
    fields = refused("visit-verification", {**GOOD["visit-verification"],
                                            "date_from": date_from, "date_to": date_to})
    assert zh in fields[field].zh


def test_a_three_year_window_is_the_longest():
    engine.validate_input("visit-verification", {**GOOD["visit-verification"],
                                                 "date_from": "2023-12-02",
                                                 "date_to": "2026-12-01"}, today=TODAY)


@pytest.mark.parametrize("institution", ["", "   ", "x" * 101, "市第一\x00人民医院", 7, None])
def test_institution(institution):
    assert "institution" in refused("visit-verification", {**GOOD["visit-verification"],
                                                           "institution": institution})


@pytest.mark.parametrize("change, field, zh", [
    ({"date_from": "2025-01-02"}, "date_from", "1日"),
    ({"date_to": "2025-12-30"}, "date_to", "最后一日"),
    ({"date_from": "2020-01-01", "date_to": "2025-01-31"}, "date_to", "60个月"),
    ({"group_by": ["region"]}, "group_by", "分组"),
    ({"group_by": ["sex", "sex"]}, "group_by", "分组"),
    ({"group_by": "sex"}, "group_by", "分组"),
    ({"drug": ""}, "drug", "必填"),
    ({"drug": "药" * 51}, "drug", "50"),
])
def test_cohort_input(change, field, zh):
    fields = refused("cohort-statistics", {**GOOD["cohort-statistics"], **change})
    assert zh in fields[field].zh


def test_sixty_whole_months_is_the_longest_cohort_window():
    engine.validate_input("cohort-statistics", {**GOOD["cohort-statistics"],
                                                "date_from": "2021-01-01",
                                                "date_to": "2025-12-31"}, today=TODAY)


# -- the parsers and the schemas agree ----------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**18) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=2),
    max_leaves=4)


def _variants(name: str) -> st.SearchStrategy[dict]:
    good = GOOD[name]
    keys = sorted(spec.get(name).input_schema["properties"])
    plausible = {
        "id_number": st.sampled_from([ID, "420804197206152317", "420802195803124022",
                                      "11010519491231002x", "123"]),
        "consent_ref": st.sampled_from(["AUTH-0001", "short", "x" * 64, "x" * 65]),
        "institution": st.sampled_from(["市第一人民医院", "H42080200001", "", "x" * 101]),
        "date_from": st.sampled_from(["2025-01-01", "2025-02-30", "2026-01-15", "2025/01/01"]),
        "date_to": st.sampled_from(["2025-12-31", "2025-06-30", "2026-11-30", "2025-13-01"]),
        "diagnosis_chapter": st.sampled_from(["I", "O", "i", "IJ", None]),
        "drug": st.sampled_from(["苯磺酸氨氯地平片", "", "药" * 51]),
        "group_by": st.sampled_from([[], ["sex"], ["age_band", "sex"], ["x"], ["sex", "sex"]]),
    }

    @st.composite
    def build(draw):
        payload = dict(good)
        for key in keys:
            choice = draw(st.integers(0, 3))
            if choice == 1:
                payload[key] = draw(plausible[key])
            elif choice == 2:
                payload[key] = draw(json_values)
            elif choice == 3:
                payload.pop(key, None)
        if draw(st.integers(0, 5)) == 0:
            payload[draw(st.sampled_from(["extra", "id", "Id_number"]))] = 1
        return payload
    return build()


@pytest.mark.parametrize("name", GOOD)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_parser_and_schema_agree(name, data):
    payload = data.draw(_variants(name))
    try:
        engine.validate_input(name, payload, today=TODAY)
        accepted = True
    except InvalidInput:
        accepted = False
    if accepted:
        assert spec.get(name).input_validator.is_valid(payload), payload
    if not spec.get(name).input_validator.is_valid(payload):
        assert not accepted, payload
