"""智慧核保's risk rule (domain/risk.py): every level, its boundaries, the 3-year window."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckanext.sanyi.domain import risk


@pytest.mark.parametrize("conditions, stays, major, level", [
    (0, 0, False, "A"),
    (1, 0, False, "B"), (0, 1, False, "B"),
    (2, 0, False, "C"), (0, 2, False, "C"), (1, 1, False, "C"), (2, 2, False, "C"),
    (5, 3, False, "C"),
    (0, 4, False, "D"), (0, 9, False, "D"), (3, 4, False, "D"),
    (0, 0, True, "D"), (2, 2, True, "D"),
])
def test_levels(conditions, stays, major, level):
    assert risk.risk_level(conditions, stays, major) == level


@given(st.integers(0, 30), st.integers(0, 30), st.booleans())
def test_a_level_never_drops_when_a_fact_is_added(conditions, stays, major):
    order = risk.LEVELS.index
    base = order(risk.risk_level(conditions, stays, major))
    assert order(risk.risk_level(conditions + 1, stays, major)) >= base
    assert order(risk.risk_level(conditions, stays + 1, major)) >= base
    assert order(risk.risk_level(conditions, stays, True)) >= base


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        risk.risk_level(-1, 0, False)


def test_the_fixed_persons_levels():
    # 420802195803124021: 高血压 + 2型糖尿病, 2 stays; 420804197206152317: nothing;
    # 420881199009235625: one stay (a delivery)
    assert risk.assess(risk.RiskFacts(("高血压", "2型糖尿病"), 2, False))["risk_level"] == "C"
    assert risk.assess(risk.RiskFacts((), 0, False))["risk_level"] == "A"
    assert risk.assess(risk.RiskFacts((), 1, False))["risk_level"] == "B"


def test_three_years_before():
    assert risk.three_years_before(dt.date(2026, 12, 1)) == dt.date(2023, 12, 1)
    assert risk.three_years_before(dt.date(2028, 2, 29)) == dt.date(2025, 2, 28)


def test_the_answer_shape():
    assert risk.assess(risk.RiskFacts(("高血压",), 0, False)) == {
        "found": True, "chronic_conditions": ["高血压"], "hospitalizations_3y": 0,
        "major_disease": False, "risk_level": "B"}
