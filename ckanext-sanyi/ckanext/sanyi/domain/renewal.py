"""慢病线上开处方 ``renewal-eligibility``: may a chronic patient renew a prescription online?

The rule, checked in this order (the first that fails is the reason):

1. the person has at least one chronic condition registered and **在管** (under management;
   registrations 失访 or 终止管理 do not count) → otherwise ``not_registered``;
2. a **qualifying visit** — an outpatient visit whose diagnosis falls in the range of one of
   those registered conditions (高血压 I10–I15, 2型糖尿病 E11, ...: :mod:`.icd10`) — on or after
   the same day :data:`VISIT_MONTHS` (3) months before today → otherwise ``no_recent_visit``
   (online renewal continues an offline follow-up; it never replaces one);
3. a chronic prescription (慢病处方标志 = 1) on or after the same day
   :data:`PRESCRIPTION_MONTHS` (3) months before today → otherwise ``no_recent_prescription``
   (there must be a prescription to renew);

and then the person is ``eligible``. ``last_qualifying_visit_month`` is the ``YYYY-MM`` of the
last qualifying visit not after today, whenever one exists (also when it is too old).

Pure: no CKAN or database import.
"""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import icd10

__all__ = ["Registration", "RenewalFacts", "Decision", "decide", "months_before",
           "VISIT_MONTHS", "PRESCRIPTION_MONTHS", "ACTIVE", "REASONS"]

VISIT_MONTHS = 3
PRESCRIPTION_MONTHS = 3
ACTIVE = "在管"
REASONS: dict[str, tuple[str, str]] = {
    "eligible": ("已登记在管慢病（{conditions}），近{visit}个月内有线下复诊且有慢病处方，可线上续方",
                 "registered and managed ({conditions}), an offline follow-up and a chronic "
                 "prescription within {visit} months: online renewal allowed"),
    "not_registered": ("未登记在管的慢性病（如高血压、糖尿病），不符合线上续方条件",
                       "no chronic condition registered under management: not eligible"),
    "no_recent_visit": ("近{visit}个月内无所登记慢病的线下复诊记录，请先到医疗机构复诊",
                        "no offline follow-up for the registered condition within {visit} "
                        "months: see a doctor first"),
    "no_recent_prescription": ("近{rx}个月内无慢病处方，需线下开具处方后方可续方",
                               "no chronic prescription within {rx} months: a prescription "
                               "must first be issued offline"),
}


@dataclass(frozen=True)
class Registration:
    condition_code: str
    condition_name: str
    status: str


@dataclass(frozen=True)
class RenewalFacts:
    registrations: tuple[Registration, ...]
    # the last outpatient visit date per diagnosis category ("I10" → date), up to today
    last_visit_by_category: Mapping[str, dt.date]
    last_chronic_prescription: dt.date | None


@dataclass(frozen=True)
class Decision:
    chronic_conditions: tuple[str, ...]
    last_qualifying_visit: dt.date | None
    eligible: bool
    reason_code: str
    reason: str
    reason_en: str

    @property
    def last_qualifying_visit_month(self) -> str | None:
        v = self.last_qualifying_visit
        return f"{v.year:04d}-{v.month:02d}" if v else None


def months_before(today: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months earlier (clamped to that month's last day)."""
    year, month0 = divmod(today.year * 12 + today.month - 1 - months, 12)
    last_day = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(today.day, last_day))


def _active_names(regs: Iterable[Registration]) -> tuple[tuple[str, str], ...]:
    """(Chinese, English) names of the conditions registered under management, in order."""
    names: list[tuple[str, str]] = []
    for r in regs:
        if r.status == ACTIVE:
            name = icd10.condition_name(r.condition_code, r.condition_name)
            rng = icd10.condition_of(r.condition_code)
            if name not in [n for n, _ in names]:
                names.append((name, rng.en if rng else name))
    return tuple(names)


def _last_qualifying(facts: RenewalFacts, today: dt.date) -> dt.date | None:
    ranges = [icd10.condition_of(r.condition_code) for r in facts.registrations
              if r.status == ACTIVE]
    cats = {icd10.category(r.condition_code) for r in facts.registrations if r.status == ACTIVE}
    best: dt.date | None = None
    for cat, day in facts.last_visit_by_category.items():
        if day > today:
            continue
        if any(rg is not None and cat in rg for rg in ranges) or cat in cats:
            best = day if best is None or day > best else best
    return best


def decide(facts: RenewalFacts, today: dt.date) -> Decision:
    """The decision for a person found in the domain, by the module's rule."""
    both = _active_names(facts.registrations)
    names = tuple(zh for zh, _ in both)
    last = _last_qualifying(facts, today) if names else None
    rx = facts.last_chronic_prescription
    if not names:
        code = "not_registered"
    elif last is None or last < months_before(today, VISIT_MONTHS):
        code = "no_recent_visit"
    elif rx is None or rx > today or rx < months_before(today, PRESCRIPTION_MONTHS):
        code = "no_recent_prescription"
    else:
        code = "eligible"
    zh, en = REASONS[code]
    fill = {"conditions": "、".join(names), "visit": VISIT_MONTHS, "rx": PRESCRIPTION_MONTHS}
    return Decision(names, last, code == "eligible", code, zh.format(**fill),
                    en.format(**dict(fill, conditions=", ".join(en for _, en in both))))
