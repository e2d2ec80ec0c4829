"""慢病线上开处方's renewal rule (domain/renewal.py): each reason in its order, the windows,
which visits qualify, the month shown."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sanyi.domain import renewal
from ckanext.sanyi.domain.renewal import Registration, RenewalFacts

TODAY = dt.date(2026, 12, 1)
HTN = Registration("I10", "高血压", "在管")
DM = Registration("E11", "2型糖尿病", "在管")


def decide(regs=(HTN,), visits=None, rx=dt.date(2026, 11, 5), today=TODAY):
    visits = {"I10": dt.date(2026, 11, 5)} if visits is None else visits
    return renewal.decide(RenewalFacts(tuple(regs), visits, rx), today)


def test_eligible_with_a_recent_visit_and_prescription():
    d = decide(regs=(HTN, DM), visits={"I10": dt.date(2026, 10, 5), "E11": dt.date(2026, 11, 5)})
    assert d.eligible and d.reason_code == "eligible"
    assert d.chronic_conditions == ("高血压", "2型糖尿病")
    assert d.last_qualifying_visit_month == "2026-11"
    assert "高血压、2型糖尿病" in d.reason and "可线上续方" in d.reason
    assert "hypertension, type 2 diabetes" in d.reason_en


@pytest.mark.parametrize("status", ["失访", "终止管理"])
def test_a_registration_not_under_management_does_not_count(status):
    d = decide(regs=(Registration("I10", "高血压", status),))
    assert not d.eligible and d.reason_code == "not_registered"
    assert d.chronic_conditions == () and d.last_qualifying_visit_month is None
    assert "未登记在管" in d.reason


def test_no_registration():
    assert decide(regs=()).reason_code == "not_registered"


def test_the_visit_window_is_three_calendar_months():
    assert decide(visits={"I10": dt.date(2026, 9, 1)}).eligible           # same day, 3 months
    d = decide(visits={"I10": dt.date(2026, 8, 31)})
    assert d.reason_code == "no_recent_visit" and not d.eligible
    assert d.last_qualifying_visit_month == "2026-08"                    # shown even when old
    assert "近3个月内无" in d.reason


def test_only_visits_for_a_registered_condition_qualify():
    # a recent visit for a cold, the hypertension follow-up long ago
    d = decide(visits={"J06": dt.date(2026, 11, 20), "I10": dt.date(2025, 1, 5)})
    assert d.reason_code == "no_recent_visit" and d.last_qualifying_visit_month == "2025-01"
    # a diabetes registration is not served by a hypertension visit
    assert decide(regs=(DM,), visits={"I10": dt.date(2026, 11, 5)}).reason_code == \
        "no_recent_visit"
    # the condition's whole range qualifies: I11 (hypertensive heart disease) for I10
    assert decide(visits={"I11": dt.date(2026, 11, 5)}).eligible


def test_a_visit_after_today_is_ignored():
    d = decide(visits={"I10": dt.date(2026, 12, 5)})
    assert d.reason_code == "no_recent_visit" and d.last_qualifying_visit_month is None


def test_a_prescription_is_needed_to_renew():
    assert decide(rx=None).reason_code == "no_recent_prescription"
    assert decide(rx=dt.date(2026, 8, 31)).reason_code == "no_recent_prescription"
    assert decide(rx=dt.date(2026, 9, 1)).eligible
    assert "处方" in decide(rx=None).reason


def test_reasons_come_in_order():
    # unregistered wins over everything; then the visit; then the prescription
    assert decide(regs=(), visits={}, rx=None).reason_code == "not_registered"
    assert decide(visits={}, rx=None).reason_code == "no_recent_visit"


@pytest.mark.parametrize("today, months, expected", [
    (dt.date(2026, 12, 1), 3, dt.date(2026, 9, 1)),
    (dt.date(2026, 5, 31), 3, dt.date(2026, 2, 28)),
    (dt.date(2028, 5, 31), 3, dt.date(2028, 2, 29)),
    (dt.date(2026, 2, 15), 3, dt.date(2025, 11, 15)),
    (dt.date(2026, 1, 31), 12, dt.date(2025, 1, 31)),
])
def test_months_before(today, months, expected):
    assert renewal.months_before(today, months) == expected
