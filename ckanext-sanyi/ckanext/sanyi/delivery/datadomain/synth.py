"""Synthetic persons of a 荆门-sized prefecture and their medical history, as COPY rows.

Rates are per person and year, chosen so that a sample of N persons looks like the
prefecture (about 2.6 M people in 2020):

* age from the 2020 census pyramid (5-year bands), 51.2 % men; region by population share;
* 高血压 registered for about 25 % of people over 45 (less below), 2型糖尿病 for about 10 %;
  patients under management (在管) have a follow-up visit at their community or township
  centre most months, with the chronic prescriptions of their regimen;
* ordinary outpatient visits ~ Poisson with an age-dependent mean (about 1-3 a year),
  prescriptions fitting the diagnosis; hospital stays rarer and more frequent with age,
  deliveries for women 20-40; every visit or stay settled (结算单据 and 结算明细);
* yearly exams for a share of adults (most of the elderly and of chronic patients), lab
  results on chronic follow-ups, hospital visits and admissions;
* adverse drug reactions for about 0.5 % of the people who got a prescription, mostly 一般.

Events fall in the :data:`HISTORY_YEARS` years up to ``today``. Everything is drawn from a
:class:`random.Random` seeded by the seed and the chunk number, never the global one: the
same (seed, persons, today) gives the same rows. Pure: no CKAN or database import.
"""
from __future__ import annotations

import bisect
import datetime as dt
import math
import random

from ...domain.id_number import check_char
from . import reference as ref
from . import rows as fee
from .rows import Person, Rows

__all__ = ["HISTORY_YEARS", "since", "chunk", "HYPERTENSION", "DIABETES"]

HISTORY_YEARS = 3
_BANDS = (5.52, 6.30, 6.12, 5.17, 5.29, 6.44, 8.83, 6.98, 6.60, 8.24, 8.61, 7.13, 5.24, 5.00,
          3.44, 2.20, 1.47, 0.82, 0.28, 0.07)  # % of people per 5-year age band, 2020 census
_BAND_CUM = [sum(_BANDS[:i + 1]) for i in range(len(_BANDS))]
_REGION_CUM = [sum(r.share for r in ref.REGIONS[:i + 1]) for i in range(len(ref.REGIONS))]

# Registration rate by age (lower bound of each step).
HYPERTENSION = ((0, 0.0), (18, 0.01), (35, 0.06), (45, 0.16), (55, 0.26), (65, 0.33),
                (75, 0.38))
DIABETES = ((0, 0.0), (18, 0.003), (35, 0.025), (45, 0.07), (55, 0.105), (65, 0.13))
_OUTPATIENT = ((0, 3.0), (5, 1.5), (15, 1.0), (25, 1.2), (45, 1.8), (60, 2.6), (75, 3.2))
_STAYS = ((0, 0.08), (5, 0.03), (15, 0.03), (45, 0.08), (60, 0.15), (75, 0.25))
_BIRTHS = ((0, 0.0), (20, 0.05), (25, 0.07), (30, 0.05), (35, 0.02), (41, 0.0))

_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
             "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
             "钱严覃武戴莫孔向汤")
_MALE = "伟强磊军勇杰涛明超华建国志平辉刚鹏波斌宇浩凯俊峰林健文海东飞龙成亮博晨轩睿航子阳"
_FEMALE = "芳娜敏静丽艳娟霞秀英玲桂兰红梅琳燕萍雪慧婷倩颖洁佳琪欣怡雨晴彤萱"
_ROADS = ("象山大道", "月亮湖路", "白云大道", "长宁大道", "金虾路", "杨湾路", "深圳大道", "天鹅路",
          "人民路", "中天街", "解放路", "建设路", "文化路", "兴隆路")
_FIRMS = tuple(f"荆门{a}{b}有限公司" for a in ("宏图", "兴达", "恒泰", "汉江", "楚天", "象山", "龙泉",
                                            "瑞丰", "东方", "金龙")
               for b in ("机械", "化工", "建材", "食品", "物流", "纺织", "电子", "商贸", "建设"))

_PRIMARY = {r.code: tuple(i for i in ref.INSTITUTIONS if i.region_code == r.code
                          and i.kind in ("community", "township")) for r in ref.REGIONS}
_CITY = tuple(i for i in ref.INSTITUTIONS if i.kind == "hospital" and i.region_code == "420802")
_COUNTY = {r.code: next((i for i in ref.INSTITUTIONS if i.kind == "hospital"
                         and i.region_code == r.code and r.code not in ("420802", "420804")),
                        None) for r in ref.REGIONS}
_MATERNITY = ref.institution("市妇幼保健院")
_DOCTOR_NAMES = ("王志明", "李国华", "张丽", "刘洋", "陈晓东", "杨帆", "赵红梅", "周文", "吴建平",
                 "徐静", "孙立新", "胡敏")

_VISIT_DX = {  # (diagnosis, weight) by age group
    "child": (("J06.9", 35), ("J20.9", 15), ("A09", 12), ("H10.9", 5), ("K02.9", 8),
              ("L30.9", 8), ("J18.9", 4), ("J35.0", 5)),
    "adult": (("J06.9", 25), ("K29.7", 12), ("M54.5", 10), ("L30.9", 7), ("N39.0", 6),
              ("R51", 6), ("S93.4", 5), ("K30", 6), ("H10.9", 4), ("J20.9", 8), ("E78.5", 4),
              ("K02.9", 5)),
    "old": (("J06.9", 15), ("J20.9", 10), ("K29.7", 10), ("M17.9", 12), ("M54.5", 10),
            ("J44.9", 8), ("I25.1", 10), ("E78.5", 8), ("R51", 5), ("K30", 5), ("N39.0", 4)),
}
_STAY_DX = {
    "child": (("J18.9", 50), ("J35.0", 15), ("A09", 15)),
    "adult": (("K35.8", 15), ("K80.2", 15), ("J18.9", 12), ("S72.0", 4), ("M54.5", 8),
              ("C16.9", 3), ("C34.9", 3), ("I63.9", 5), ("K29.7", 8), ("N39.0", 5),
              ("I25.1", 6)),
    "old": (("I63.9", 15), ("I25.1", 14), ("J18.9", 12), ("J44.9", 12), ("I50.9", 7),
            ("C34.9", 5), ("C16.9", 4), ("S72.0", 6), ("N18.9", 4), ("I21.9", 4), ("K80.2", 5),
            ("I61.9", 2)),
}
_DEPT = {"J": "呼吸内科", "I": "心血管内科", "E": "内分泌科", "K": "消化内科", "M": "骨科",
         "S": "骨科", "N": "肾内科", "C": "肿瘤科", "L": "皮肤科", "H": "眼科", "R": "神经内科",
         "A": "消化内科", "O": "产科", "P": "儿科", "Z": "产科"}
_DEPT_EXACT = {"I63.9": "神经内科", "I61.9": "神经内科", "K35.8": "普外科", "K80.2": "普外科",
               "N39.0": "泌尿外科", "J35.0": "耳鼻咽喉科", "K02.9": "口腔科"}
_SURGICAL = {"K35.8", "K80.2", "S72.0", "C16.9", "C34.9"}
_STAY_DAYS = {"C": (8, 20), "I63.9": (10, 20), "I61.9": (12, 24), "S72.0": (10, 21),
              "K35.8": (4, 8), "J18.9": (5, 10), "I21.9": (8, 14)}
_HTN_DRUGS = (("苯磺酸氨氯地平片", 50), ("硝苯地平控释片", 20), ("厄贝沙坦片", 20), ("缬沙坦胶囊", 10))
_DM_DRUGS = (("盐酸二甲双胍片", 60), ("格列美脲片", 20), ("阿卡波糖片", 15), ("甘精胰岛素注射液", 5))
_FOR_DX = {dx: tuple(d for d in ref.DRUGS if dx[:3] in d.for_conditions)
           for dx in ref.DIAGNOSES}
_LAB = {i.code: i for i in ref.LAB_ITEMS}
_Y2000, _Y2012 = dt.date(2000, 1, 1).toordinal(), dt.date(2012, 1, 1).toordinal()


def _cum(pairs: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], list[int]]:
    names = tuple(p[0] for p in pairs)
    return names, [sum(p[1] for p in pairs[:i + 1]) for i in range(len(pairs))]


_VISIT_CUM = {k: _cum(v) for k, v in _VISIT_DX.items()}
_STAY_CUM = {k: _cum(v) for k, v in _STAY_DX.items()}
_HTN_CUM, _DM_CUM = _cum(_HTN_DRUGS), _cum(_DM_DRUGS)


def _pick(rng: random.Random, table: tuple[tuple[str, ...], list[int]]) -> str:
    names, cum = table
    return names[bisect.bisect_right(cum, rng.random() * cum[-1])]


def _step(table: tuple[tuple[int, float], ...], age: int) -> float:
    value = 0.0
    for lo, v in table:
        if age < lo:
            break
        value = v
    return value


def _poisson(rng: random.Random, lam: float) -> int:
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def since(today: dt.date) -> dt.date:
    """The first day of the event window (``today`` minus :data:`HISTORY_YEARS` years)."""
    try:
        return today.replace(year=today.year - HISTORY_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - HISTORY_YEARS, day=28)


def _group(age: int) -> str:
    return "child" if age < 15 else "adult" if age < 60 else "old"


def _dept(inst: ref.Institution, dx: str, age: int) -> str:
    if inst.kind in ("community", "township"):
        return "全科"
    if age < 15:
        return "儿科"
    return _DEPT_EXACT.get(dx) or _DEPT[dx[0]]


class _Chunk:
    """One chunk's generator state: its rng, the window and the identity numbers in use."""

    def __init__(self, rows: Rows, rng: random.Random, today: dt.date, used: set[int]) -> None:
        self.rows, self.rng, self.used = rows, rng, used
        self.t = today.toordinal()
        self.ws = since(today).toordinal()
        self.years = list(range(since(today).year, today.year + 1))
        self.doctors = {i.code: f"D{n:02d}" for n, i in enumerate(ref.INSTITUTIONS)}

    def name(self, male: bool) -> str:
        rng = self.rng
        chars = _MALE if male else _FEMALE
        given = rng.choice(chars) if rng.random() < 0.3 else rng.choice(chars) + rng.choice(chars)
        return rng.choice(_SURNAMES) + given

    def id_number(self, region: str, birth: int, male: bool) -> str:
        born = dt.date.fromordinal(birth).strftime("%Y%m%d")
        while True:
            seq = 2 * self.rng.randrange(0, 500) + 1 if male else 2 * self.rng.randrange(1, 500)
            first17 = f"{region}{born}{seq:03d}"
            key = int(first17)
            if key not in self.used:
                self.used.add(key)
                return first17 + check_char(first17)

    def person(self, index: int) -> None:
        rng, t = self.rng, self.t
        age_band = bisect.bisect_right(_BAND_CUM, rng.random() * _BAND_CUM[-1])
        birth = t - int((age_band * 5 + rng.random() * 5) * 365.2425)
        age = int((t - birth) / 365.2425)
        male = rng.random() < 0.512
        region = ref.REGIONS[min(bisect.bisect_right(_REGION_CUM, rng.random()),
                                 len(ref.REGIONS) - 1)]
        retire = 60 if male else 55
        employer = None
        if age < 18:
            insurance, kind = "城乡居民医保", "儿童" if age < 6 else "学生"
        elif age < retire and rng.random() < 0.35:
            insurance, kind, employer = "职工医保", "在职", rng.choice(_FIRMS)
        elif age >= retire and rng.random() < 0.25:
            insurance, kind, employer = "职工医保", "退休", rng.choice(_FIRMS)
        else:
            insurance, kind = "城乡居民医保", "学生" if age < 23 and rng.random() < 0.3 else "城乡居民"
        p = Person(index, self.id_number(region.code, birth, male), "1" if male else "2", birth,
                   insurance, kind, region.code)
        enrolled = min(t, max(birth + 30, _Y2000) + rng.randint(0, 1500))
        address = (f"湖北省荆门市{region.name}{rng.choice(region.towns)}{rng.choice(_ROADS)}"
                   f"{rng.randint(1, 300)}号")
        phone = f"1{rng.choice('35789')}{rng.randrange(10 ** 9):09d}"
        self.rows.person(p, self.name(male), region.name, address, employer, phone, enrolled)
        _History(self, p, age, male).write()


class _History:
    """One person's registrations and events in the window."""

    def __init__(self, c: _Chunk, p: Person, age: int, male: bool) -> None:
        self.c, self.p, self.age, self.male = c, p, age, male
        self.rng = c.rng
        self.ws = max(c.ws, p.birth)
        self.visits = 0
        self.rx: list[tuple[tuple[ref.Drug, ...], int, str]] = []
        rng = self.rng
        self.htn = rng.random() < _step(HYPERTENSION, age)
        self.dm = rng.random() < _step(DIABETES, age)
        self.sbp = 116 + 0.35 * max(age - 30, 0) + (24 if self.htn else 0) + rng.gauss(0, 8)
        self.fbg = 5.0 + (3.0 if self.dm else 0) + rng.gauss(0, 0.4)
        self.bmi = rng.gauss(23.3, 3.0) + (1.5 if self.htn or self.dm else 0)
        self.tc = 4.4 + 0.01 * age + rng.gauss(0, 0.6)

    def write(self) -> None:
        managed = self._registrations()
        if managed:
            self._follow_ups(*managed)
        self._outpatient()
        self._stays()
        if not self.male:
            self._delivery()
        self._exams(managed is not None)
        if self.rx and self.rng.random() < 0.005:
            self._adverse_event()

    def _primary(self) -> ref.Institution:
        return self.rng.choice(_PRIMARY[self.p.region_code])

    def _hospital(self) -> ref.Institution:
        county = _COUNTY[self.p.region_code]
        if county is not None and self.rng.random() < 0.7:
            return county
        return self.rng.choice(_CITY)

    def _doctor(self, inst: ref.Institution) -> str:
        return f"{self.c.doctors[inst.code]}{self.rng.randint(1, 120):05d}"

    def _registrations(self) -> tuple[ref.Institution, int, list[ref.Drug]] | None:
        if not (self.htn or self.dm):
            return None
        rng, p, t = self.rng, self.p, self.c.t
        center = _PRIMARY[p.region_code][0]
        lo, hi = max(_Y2012, p.birth + 6575), t - 30  # at 18 or older
        managed = True
        first = hi
        for k, (code, yes) in enumerate((("I10", self.htn), ("E11", self.dm)), 1):
            if not yes:
                continue
            on = rng.randint(lo, hi) if lo < hi else hi
            first = min(first, on)
            r = rng.random()
            status = "在管" if r < 0.9 else "失访" if r < 0.97 else "终止管理"
            managed = managed and status == "在管"
            self.c.rows.registration(p, k, code, on, center.name, status)
        if not managed:
            return None
        drugs = []
        if self.htn:
            drugs.append(ref.drug(_pick(rng, _HTN_CUM)))
        if self.dm:
            drugs.append(ref.drug(_pick(rng, _DM_CUM)))
        if rng.random() < 0.3:
            drugs.append(ref.drug("阿托伐他汀钙片"))
        return center, first, drugs

    def _follow_ups(self, center: ref.Institution, registered: int,
                    drugs: list[ref.Drug]) -> None:
        rng, p, c = self.rng, self.p, self.c
        start = dt.date.fromordinal(max(registered, self.ws))
        year, month, dom = start.year, start.month, rng.randint(1, 28)
        doctor = self._doctor(center)
        reg_month = dt.date.fromordinal(registered).month
        while True:
            day = dt.date(year, month, dom).toordinal()
            if day > c.t:
                break
            if day >= registered and day >= self.ws and rng.random() < 0.85:
                self.visits += 1
                dx = "I10" if self.htn and (not self.dm or month % 2) else "E11"
                vid = c.rows.visit(p, self.visits, center, "全科", day, dx, doctor,
                                   chronic=True, drugs=drugs)
                self.rx.append((tuple(drugs), day, center.name))
                if self.dm and month % 3 == 0:
                    c.rows.lab(p, vid, day, center.name, _LAB["HbA1c"],
                               5.2 + (self.fbg - 4.0) * 0.55 + rng.gauss(0, 0.3))
                    c.rows.lab(p, vid, day, center.name, _LAB["GLU"],
                               self.fbg + rng.gauss(0, 0.5))
                if self.htn and month == reg_month:
                    for code, mean, sd in (("CREA", 80, 15), ("UA", 330, 60), ("TG", 1.6, 0.5)):
                        c.rows.lab(p, vid, day, center.name, _LAB[code],
                                   max(mean + rng.gauss(0, sd), 0.1))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def _outpatient(self) -> None:
        rng, p, c = self.rng, self.p, self.c
        lam = _step(_OUTPATIENT, self.age) * (c.t - self.ws + 1) / 365.25
        group = _VISIT_CUM[_group(self.age)]
        for _ in range(_poisson(rng, lam)):
            day = rng.randint(self.ws, c.t)
            dx = _pick(rng, group)
            inst = self._primary() if rng.random() < 0.5 else self._hospital()
            options = _FOR_DX[dx]
            drugs: tuple[ref.Drug, ...] = ()
            if options and rng.random() < 0.7:
                drugs = (rng.choice(options),)
                if len(options) > 1 and rng.random() < 0.25:
                    second = rng.choice(options)
                    if second is not drugs[0]:
                        drugs += (second,)
            labs = inst.kind != "community" and inst.kind != "township" and rng.random() < 0.2
            self.visits += 1
            vid = c.rows.visit(p, self.visits, inst, _dept(inst, dx, self.age), day, dx,
                               self._doctor(inst), drugs=drugs,
                               extra=[(fee.LAB_FEE, 1, 4500)] if labs else ())
            if drugs:
                self.rx.append((drugs, day, inst.name))
            if labs:
                c.rows.lab(p, vid, day, inst.name, _LAB["WBC"], max(rng.gauss(7.0, 2.2), 1.0))
                c.rows.lab(p, vid, day, inst.name, _LAB["HGB"],
                           rng.gauss(145 if self.male else 128, 12), 0)

    def _stays(self) -> None:
        rng, p, c = self.rng, self.p, self.c
        rate = _step(_STAYS, self.age) * (1.4 if self.htn or self.dm else 1.0)
        n = min(_poisson(rng, rate * (c.t - self.ws + 1) / 365.25), 8)  # 9 is a delivery
        for k in range(1, n + 1):
            options = _STAY_CUM[_group(self.age)]
            dx = _pick(rng, options)
            if self.htn and rng.random() < 0.1:
                dx = "I10"
            elif self.dm and rng.random() < 0.1:
                dx = "E11.9"
            lo, hi = _STAY_DAYS.get(dx) or _STAY_DAYS.get(dx[0]) or (4, 12)
            los = rng.randint(lo, hi)
            if c.t - los < self.ws:
                continue
            admitted = rng.randint(self.ws, c.t - los)
            inst = self._hospital() if dx[0] != "C" else rng.choice(_CITY)
            tertiary = inst.level.startswith("三级")
            items = [(fee.BED, los, 6000 if tertiary else 4000), (fee.NURSING, los, 2500),
                     (fee.DRUGS_WARD, 1, los * rng.randint(20000, 60000)),
                     (fee.LAB_FEE, 1, rng.randint(30000, 80000)),
                     (fee.EXAM_FEE, 1, rng.randint(20000, 150000)),
                     (fee.TREATMENT, 1, rng.randint(10000, 50000))]
            if dx in _SURGICAL:
                items.append((fee.SURGERY, 1, rng.randint(300000, 1500000)))
            r = rng.random()
            method = "1" if r < 0.9 else "2" if r < 0.94 else "3" if r < 0.98 else "4"
            aid = c.rows.stay(p, k, inst, _dept(inst, dx, self.age), admitted, admitted + los,
                              dx, rng.choice(_DOCTOR_NAMES), items, method=method)
            for code, mean, sd in (("GLU", self.fbg, 0.6), ("CREA", 80, 18), ("ALT", 25, 10),
                                   ("WBC", 7.5, 2.5), ("HGB", 140 if self.male else 125, 14)):
                c.rows.lab(p, aid, admitted, inst.name, _LAB[code], max(mean + rng.gauss(0, sd),
                                                                       0.1))

    def _delivery(self) -> None:
        rng, p, c = self.rng, self.p, self.c
        mid_age = int((self.ws + c.t) / 2 - p.birth) // 365
        if rng.random() >= _step(_BIRTHS, mid_age) * (c.t - self.ws) / 365.25:
            return
        caesarean = rng.random() < 0.4
        los = rng.randint(4, 7) if caesarean else rng.randint(2, 4)
        lo = max(self.ws, p.birth + 7305)  # at 20 or older
        hi = min(c.t - los, p.birth + 14975)  # before 41
        if lo > hi:
            return
        admitted = rng.randint(lo, hi)
        inst = _MATERNITY if rng.random() < 0.5 or _COUNTY[p.region_code] is None \
            else _COUNTY[p.region_code]
        assert inst is not None
        items = [(fee.BED, los, 5000), (fee.NURSING, los, 3000),
                 (fee.CAESAREAN, 1, rng.randint(250000, 400000)) if caesarean
                 else (fee.DELIVERY, 1, rng.randint(120000, 180000)),
                 (fee.LAB_FEE, 1, rng.randint(20000, 40000)), (fee.DRUGS_WARD, 1, rng.randint(15000, 60000))]
        for before in (150, 60):
            day = admitted - before - rng.randint(0, 20)
            if day >= self.ws:
                self.visits += 1
                c.rows.visit(p, self.visits, inst, "产科", day, "Z34.9", self._doctor(inst),
                             extra=[(fee.EXAM_FEE, 1, 18000)])
        c.rows.stay(p, 9, inst, "产科", admitted, admitted + los, "O82" if caesarean else "O80",
                    rng.choice(_DOCTOR_NAMES), items, maternity=True)

    def _exams(self, managed: bool) -> None:
        rng, p, c = self.rng, self.p, self.c
        if self.age < 18:
            return
        share = max(0.6 if self.age >= 65 else 0.0, 0.7 if managed else 0.0,
                    0.45 if p.person_type == "在职" else 0.15)
        for n, year in enumerate(c.years):
            if rng.random() >= share:
                continue
            lo = max(self.ws, dt.date(year, 1, 1).toordinal())
            hi = min(c.t, dt.date(year, 12, 31).toordinal())
            if lo > hi:
                continue
            day = rng.randint(lo, hi)
            inst = self._hospital() if p.person_type == "在职" else self._primary()
            sbp = int(self.sbp + rng.gauss(0, 6))
            values = (str(sbp), str(int(0.55 * sbp + 12 + rng.gauss(0, 5))),
                      f"{max(self.fbg + rng.gauss(0, 0.4), 3.0):.1f}",
                      f"{max(self.bmi + rng.gauss(0, 0.4), 14.0):.1f}",
                      f"{max(self.tc + rng.gauss(0, 0.3), 2.0):.2f}",
                      str(int(74 + rng.gauss(0, 8))))
            for item, value in zip(ref.EXAM_ITEMS, values, strict=True):
                c.rows.exam(p, n, day, inst.name, item, value)

    def _adverse_event(self) -> None:
        rng, p, c = self.rng, self.p, self.c
        drugs, day, reporter = rng.choice(self.rx)
        drug = rng.choice(drugs)
        onset = min(day + rng.randint(1, 10), c.t)
        r = rng.random()
        outcome = "痊愈" if r < 0.55 else "好转" if r < 0.95 else "未好转" if r < 0.99 else "有后遗症"
        c.rows.adverse_event(p, drug, onset, rng.choice(ref.reactions(drug.atc_code)),
                             "一般" if rng.random() < 0.9 else "严重", outcome, reporter)


def chunk(rows: Rows, *, seed: int, number: int, first_index: int, count: int,
          today: dt.date, used: set[int]) -> None:
    """Append ``count`` random persons (indexes from ``first_index``) and their history.

    ``number`` is the chunk's position: with the seed it seeds the chunk's generator, so a
    chunk's rows do not depend on how the others were made. ``used`` holds the identity
    numbers taken so far (as integers of their first 17 digits) and is updated.
    """
    c = _Chunk(rows, random.Random(f"sanyi-domain/{seed}/{number}"), today, used)
    for i in range(first_index, first_index + count):
        c.person(i)
