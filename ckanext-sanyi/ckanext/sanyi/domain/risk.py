"""智慧核保 ``risk-assessment``: the health risk level of an insured person, from facts only.

The rule (also the ``risk_level`` description of the operation's output schema, which a test
compares with :data:`RULE_ZH` / :data:`RULE_EN`):

* **D** — any major disease on record (恶性肿瘤 C00–C97, 脑卒中 I60–I64, 急性心肌梗死 I21–I22,
  肾衰竭 N17–N19: :data:`ckanext.sanyi.domain.icd10.MAJOR_DISEASES`), or 4 or more inpatient
  stays in the last 3 years;
* otherwise, with *n* = registered chronic conditions + inpatient stays in the last 3 years:
  **A** when *n* = 0, **B** when *n* = 1, **C** when *n* ≥ 2.

"The last 3 years" are the admissions dated after the same day 3 years before today and not
after today (:func:`three_years_before`).

Pure: no CKAN or database import. :func:`risk_level` raises ``ValueError`` on negative counts.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

__all__ = ["RiskFacts", "risk_level", "assess", "three_years_before", "LEVELS", "RULE_ZH",
           "RULE_EN", "MANY_STAYS"]

LEVELS = ("A", "B", "C", "D")
MANY_STAYS = 4
RULE_ZH = ("D：有重大疾病记录（恶性肿瘤C00–C97、脑卒中I60–I64、急性心肌梗死I21–I22、肾衰竭N17–N19）"
           "或近3年住院4次及以上；否则按n=登记慢病数+近3年住院次数：n=0为A，n=1为B，n≥2为C。")
RULE_EN = ("D: a major disease on record (cancer C00-C97, stroke I60-I64, myocardial infarction "
           "I21-I22, renal failure N17-N19) or 4 or more inpatient stays in the last 3 years; "
           "otherwise with n = registered chronic conditions + stays in the last 3 years: "
           "A for n = 0, B for n = 1, C for n >= 2.")


@dataclass(frozen=True)
class RiskFacts:
    chronic_conditions: tuple[str, ...]
    hospitalizations_3y: int
    major_disease: bool


def three_years_before(today: dt.date) -> dt.date:
    """The same day three years earlier (29 February → 28 February)."""
    try:
        return today.replace(year=today.year - 3)
    except ValueError:
        return today.replace(year=today.year - 3, day=28)


def risk_level(conditions: int, stays_3y: int, major_disease: bool) -> str:
    """``"A"``..``"D"`` by the module's rule."""
    if conditions < 0 or stays_3y < 0:
        raise ValueError("counts cannot be negative")
    if major_disease or stays_3y >= MANY_STAYS:
        return "D"
    n = conditions + stays_3y
    return "A" if n == 0 else "B" if n == 1 else "C"


def assess(facts: RiskFacts) -> dict[str, object]:
    """The answer of a found person (the output schema's found shape)."""
    return {"found": True, "chronic_conditions": list(facts.chronic_conditions),
            "hospitalizations_3y": facts.hospitalizations_3y,
            "major_disease": facts.major_disease,
            "risk_level": risk_level(len(facts.chronic_conditions), facts.hospitalizations_3y,
                                     facts.major_disease)}
