"""The fixed test persons every generated domain holds, with exactly the documented facts.

Integrators and the operations' tests rely on them (README, "演示数据域"). Dates are absolute;
an event dated after the generation's ``today`` is left out (a stay only when it has ended).

* 420802195803124021 刘桂兰: 高血压 + 2型糖尿病 (在管), two stays in 2024-10 and 2026-03, monthly
  chronic follow-ups with prescriptions from 2024-01 on day 5;
* 420804197206152317 张建军: no chronic registration, one visit in 2026 (2026-04-08), no stay;
* 420881199009235625 陈静: one stay, a delivery at 市妇幼保健院 in 2025-06;
* 420822196511080012: never generated (:data:`ABSENT`).

Pure: no CKAN or database import.
"""
from __future__ import annotations

import datetime as dt
import random

from . import reference as ref
from .rows import BED, DELIVERY, DRUGS_WARD, EXAM_FEE, LAB_FEE, NURSING, TREATMENT, Person, Rows

__all__ = ["FIXED_IDS", "ABSENT", "RESERVED_IDS", "write"]

ABSENT = "420822196511080012"
FIXED_IDS = ("420802195803124021", "420804197206152317", "420881199009235625")
RESERVED_IDS = (*FIXED_IDS, ABSENT)  # no generated person may have one of these

def _o(text: str) -> int:
    return dt.date.fromisoformat(text).toordinal()


def _inst(name: str) -> ref.Institution:
    inst = ref.institution(name)
    assert inst is not None, name
    return inst


def write(rows: Rows, today: dt.date, seed: int) -> None:
    """Append the three fixed persons' rows (events up to ``today``) to ``rows``."""
    rng = random.Random(f"{seed}/fixed")
    t = today.toordinal()
    _hypertensive_diabetic(rows, t, rng)
    _employee(rows, t, rng)
    _mother(rows, t, rng)


def _hypertensive_diabetic(rows: Rows, t: int, rng: random.Random) -> None:
    p = Person(1, FIXED_IDS[0], "2", _o("1958-03-12"), "职工医保", "退休", "420802")
    rows.person(p, "刘桂兰", "东宝区", "湖北省荆门市东宝区龙泉街道象山大道88号", "荆门市第二纺织厂",
                "13907161208", _o("2001-01-01"))
    center = _inst("东宝区社区卫生服务中心")
    rows.registration(p, 1, "I10", _o("2019-05-10"), center.name, "在管")
    rows.registration(p, 2, "E11", _o("2020-09-01"), center.name, "在管")
    stays = (("市中医医院", "内分泌科", "2024-10-08", "2024-10-15", "E11.9"),
             ("市第一人民医院", "心血管内科", "2026-03-02", "2026-03-11", "I10"))
    for k, (name, dept, start, end, dx) in enumerate(stays, 1):
        a, d = _o(start), _o(end)
        if d > t:
            continue
        inst = _inst(name)
        aid = rows.stay(p, k, inst, dept, a, d, dx, "王志明" if k == 1 else "李国华",
                        [(BED, d - a, 6000), (NURSING, d - a, 3000),
                         (DRUGS_WARD, 1, 168000 + 10000 * k), (LAB_FEE, 1, 56000),
                         (EXAM_FEE, 1, 42000), (TREATMENT, 1, 23000)])
        for item, value in (("GLU", 9.2), ("HbA1c", 7.8), ("CREA", 76.0), ("ALT", 28.0)):
            rows.lab(p, aid, a, inst.name, _lab(item), value)
    amlodipine, metformin = ref.drug("苯磺酸氨氯地平片"), ref.drug("盐酸二甲双胍片")
    year, month, k = 2024, 1, 1
    while True:
        day = dt.date(year, month, 5).toordinal()
        if day > t:
            break
        vid = rows.visit(p, k, center, "全科", day, "I10" if month % 2 else "E11", "D0101023",
                         chronic=True, drugs=(amlodipine, metformin), days=(30, 30))
        if month in (1, 4, 7, 10):
            rows.lab(p, vid, day, center.name, _lab("HbA1c"), 7.4 + rng.random() * 0.5)
            rows.lab(p, vid, day, center.name, _lab("GLU"), 7.7 + rng.random() * 0.7)
        k += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for n, year in enumerate(range(2023, dt.date.fromordinal(t).year + 1)):
        day = dt.date(year, 4, 16).toordinal()
        if day <= t:
            _exam(rows, p, n, day, center.name, rng, sbp=150, dbp=90, fbg=8.0, bmi=25.9,
                  tc=5.5)


def _employee(rows: Rows, t: int, rng: random.Random) -> None:
    p = Person(2, FIXED_IDS[1], "1", _o("1972-06-15"), "职工医保", "在职", "420804")
    rows.person(p, "张建军", "掇刀区", "湖北省荆门市掇刀区白庙街道月亮湖路16号", "荆门宏图机械有限公司",
                "13872905566", _o("1996-07-01"))
    visits = (("2024-07-03", "市第二人民医院", "骨科", "M54.5", "布洛芬缓释胶囊"),
              ("2025-11-20", "掇刀区社区卫生服务中心", "全科", "K29.7", "奥美拉唑肠溶胶囊"),
              ("2026-04-08", "市第二人民医院", "呼吸内科", "J06.9", "盐酸氨溴索片"))
    for k, (day, name, dept, dx, drug) in enumerate(visits, 1):
        if _o(day) <= t:
            rows.visit(p, k, _inst(name), dept, _o(day), dx, "D0202117",
                       drugs=(ref.drug(drug),))
    if _o("2025-05-12") <= t:
        _exam(rows, p, 0, _o("2025-05-12"), "市第二人民医院", rng, sbp=126, dbp=80, fbg=5.2,
              bmi=24.1, tc=4.7)


def _mother(rows: Rows, t: int, rng: random.Random) -> None:
    p = Person(3, FIXED_IDS[2], "2", _o("1990-09-23"), "城乡居民医保", "城乡居民", "420881")
    rows.person(p, "陈静", "钟祥市", "湖北省荆门市钟祥市郢中街道莫愁湖路9号", None, "15972411230",
                _o("2010-01-01"))
    maternity = _inst("市妇幼保健院")
    for k, day in enumerate(("2025-02-10", "2025-05-20"), 1):
        if _o(day) <= t:
            rows.visit(p, k, maternity, "产科", _o(day), "Z34.9", "D0401006",
                       extra=[(EXAM_FEE, 1, 18000)])
    if _o("2026-01-15") <= t:
        rows.visit(p, 3, _inst("钟祥市胡集镇卫生院"), "全科", _o("2026-01-15"), "J06.9",
                   "D1301002", drugs=(ref.drug("阿莫西林胶囊"),))
    a, d = _o("2025-06-14"), _o("2025-06-17")
    if d <= t:
        aid = rows.stay(p, 1, maternity, "产科", a, d, "O80", "周丽华",
                        [(BED, d - a, 5000), (NURSING, d - a, 3000), (DELIVERY, 1, 150000),
                         (LAB_FEE, 1, 32000), (DRUGS_WARD, 1, 26000)], maternity=True)
        rows.lab(p, aid, a, maternity.name, _lab("HGB"), 118.0 + rng.random() * 6, 0)


def _lab(code: str) -> ref.Item:
    return next(i for i in ref.LAB_ITEMS if i.code == code)


def _exam(rows: Rows, p: Person, k: int, day: int, institution: str, rng: random.Random, *,
          sbp: int, dbp: int, fbg: float, bmi: float, tc: float) -> None:
    """One yearly exam: each value within a few percent of the given one."""
    values = {"SBP": str(sbp + rng.randint(-4, 4)), "DBP": str(dbp + rng.randint(-3, 3)),
              "FBG": f"{fbg + rng.uniform(-0.3, 0.3):.1f}",
              "BMI": f"{bmi + rng.uniform(-0.3, 0.3):.1f}",
              "TC": f"{tc + rng.uniform(-0.2, 0.2):.2f}", "HR": str(rng.randint(70, 80))}
    for item in ref.EXAM_ITEMS:
        rows.exam(p, k, day, institution, item, values[item.code])
