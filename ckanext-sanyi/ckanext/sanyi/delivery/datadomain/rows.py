"""Rows of the domain's source tables as PostgreSQL ``COPY`` text, built event by event.

:class:`Rows` collects, per table, lines in the column order of :mod:`.sources` (tab
separated, ``\\N`` for NULL). Its event methods keep the tables consistent with each other: an
outpatient visit or a hospital stay always comes with its settlement (医保结算单据) and the
settlement's items (结算明细), whose amounts add up to the settlement's total; a prescription
is billed on the settlement of its visit.

Value conventions (what the operations read):

* ``sex`` ``"1"`` male / ``"2"`` female (GB/T 2261.1, as :func:`domain.id_number.sex`);
* ``insurance_type`` ``职工医保`` / ``城乡居民医保``; ``person_type`` ``在职`` / ``退休`` /
  ``城乡居民`` / ``学生`` / ``儿童``;
* ``medical_category`` ``普通门诊`` / ``门诊慢特病`` / ``普通住院`` / ``生育住院``;
* ``chronic`` (慢病处方标志) ``"1"`` / ``"0"``; chronic ``status`` ``在管`` / ``失访`` / ``终止管理``;
* ``severity`` ``一般`` / ``严重``; lab ``abnormal`` ``H`` / ``L`` / NULL;
* ``stay_days`` = discharge date minus admission date; a settlement's ``settle_date`` is the
  visit date (outpatient) or the discharge date (inpatient).

Pure: no CKAN or database import.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from . import reference as ref
from .sources import SOURCES

__all__ = ["Rows", "Person", "fen", "iso", "N", "PER_DAY"]

N = "\\N"
PER_DAY = {"qd": 1, "qn": 1, "bid": 2, "tid": 3}
_ISO: dict[int, str] = {}


def iso(ordinal: int) -> str:
    """``YYYY-MM-DD`` of a proleptic Gregorian ordinal (cached: the domain reuses few dates)."""
    s = _ISO.get(ordinal)
    if s is None:
        s = _ISO[ordinal] = dt.date.fromordinal(ordinal).isoformat()
    return s


_FEN: dict[int, str] = {}


def fen(amount: int) -> str:
    """Integer fen as a decimal yuan string (``12345`` -> ``"123.45"``); amounts under 1,000
    yuan, most of them, are cached."""
    s = _FEN.get(amount)
    if s is None:
        s = "%d.%02d" % divmod(amount, 100)
        if 0 <= amount < 100_000:
            _FEN[amount] = s
    return s


class Person:
    """The facts of one person the events repeat (identifiers, insurance, region)."""

    __slots__ = ("index", "person_no", "id_number", "sex", "birth", "insurance_type",
                 "person_type", "region_code", "fund_share")

    def __init__(self, index: int, id_number: str, sex: str, birth: int, insurance_type: str,
                 person_type: str, region_code: str) -> None:
        self.index = index
        self.person_no = f"4208{index:012d}"
        self.id_number = id_number
        self.sex = sex
        self.birth = birth  # ordinal
        self.insurance_type = insurance_type
        self.person_type = person_type
        self.region_code = region_code
        # share of an outpatient / inpatient bill the fund pays (per mille)
        self.fund_share = (500, 750) if insurance_type == "职工医保" else (400, 600)


# Non-drug settlement items: code, name, category.
CONSULT = ("001101000010000", "一般诊疗费", "诊察费")
LAB_FEE = ("002500000000000", "检验费", "化验费")
EXAM_FEE = ("002100000000000", "检查费", "检查费")
BED = ("001103000010000", "床位费", "床位费")
NURSING = ("001202000010000", "护理费", "护理费")
TREATMENT = ("003100000000000", "治疗费", "治疗费")
SURGERY = ("003300000000000", "手术费", "手术费")
DRUGS_WARD = ("XY0000000000000", "住院西药费", "西药费")
DELIVERY = ("003311000000000", "阴道分娩术", "手术费")
CAESAREAN = ("003311020000000", "剖宫产术", "手术费")

Item = tuple[tuple[str, str, str], int, int]  # (code, name, category), quantity, unit price fen


class Rows:
    """COPY lines per table for a chunk of persons."""

    def __init__(self) -> None:
        self.lines: dict[str, list[str]] = {s.table: [] for s in SOURCES}
        self._serial = 0

    def text(self, table: str) -> str:
        lines = self.lines[table]
        return "\n".join(lines) + "\n" if lines else ""

    def count(self) -> dict[str, int]:
        return {t: len(v) for t, v in self.lines.items()}

    # -- master data -------------------------------------------------------------------
    def person(self, p: Person, name: str, region_name: str, address: str, employer: str | None,
               phone: str, enrolled_on: int) -> None:
        self.lines["persons"].append("\t".join((
            p.person_no, p.id_number, name, p.sex, iso(p.birth), p.insurance_type,
            p.person_type, p.region_code, region_name, address, employer or N, phone,
            iso(enrolled_on))))

    def registration(self, p: Person, k: int, code: str, registered_on: int,
                     institution: str, status: str) -> None:
        self.lines["chronic_registrations"].append("\t".join((
            f"GL{p.index:012d}{k}", p.person_no, p.id_number, code, ref.CHRONIC[code],
            iso(registered_on), institution, status)))

    # -- events ------------------------------------------------------------------------
    def visit(self, p: Person, k: int, inst: ref.Institution, dept: str, day: int, dx: str,
              doctor: str, *, chronic: bool = False,
              drugs: Sequence[ref.Drug] = (), days: Sequence[int] = (),
              extra: Sequence[Item] = ()) -> str:
        """An outpatient visit, its prescriptions and its settlement; returns the visit id."""
        vid = f"MZ{p.index:012d}{k:04d}"
        d = iso(day)
        items: list[Item] = [(CONSULT, 1, 1000 if inst.kind in ("community", "township")
                              else 1500)]
        flag = "1" if chronic else "0"
        pres = self.lines["prescriptions"]
        for n, drug in enumerate(drugs):
            ndays = days[n] if n < len(days) else drug.days
            pres.append("\t".join((
                f"CF{p.index:012d}{k:04d}{n}", vid, p.person_no, p.id_number, inst.code,
                inst.name, d, drug.code, drug.generic_name, drug.dose, drug.frequency,
                str(ndays), flag)))
            items.append(((drug.code, drug.generic_name, "西药费"),
                          ndays * PER_DAY[drug.frequency], drug.unit_price_fen))
        items.extend(extra)
        total = self._settle(p, "S" + vid, vid, inst, "门诊慢特病" if chronic else "普通门诊",
                             day, day, items, p.fund_share[0] + (150 if chronic else 0))
        self.lines["outpatient_visits"].append("\t".join((
            vid, p.person_no, p.id_number, inst.code, inst.name, dept, d, dx,
            ref.DIAGNOSES[dx], doctor, fen(total))))
        return vid

    def stay(self, p: Person, k: int, inst: ref.Institution, dept: str, admitted: int,
             discharged: int, dx: str, doctor: str, items: Sequence[Item], *,
             maternity: bool = False, method: str = "1") -> str:
        """A hospital stay (入院登记 + 出院记录) and its settlement; returns the 住院号."""
        aid = f"ZY{p.index:012d}{k:02d}"
        name = ref.DIAGNOSES[dx]
        self.lines["admissions"].append("\t".join((
            aid, p.person_no, p.id_number, inst.code, inst.name, dept, iso(admitted), dx, name)))
        self.lines["discharges"].append("\t".join((
            aid, p.person_no, p.id_number, inst.code, inst.name, iso(discharged),
            str(discharged - admitted), dx, name, method, doctor)))
        self._settle(p, "S" + aid, aid, inst, "生育住院" if maternity else "普通住院",
                     discharged, admitted, items, 850 if maternity else p.fund_share[1])
        return aid

    def _settle(self, p: Person, sid: str, ref_id: str, inst: ref.Institution, category: str,
                day: int, first_day: int, items: Sequence[Item], fund_permille: int) -> int:
        total = 0
        out = self.lines["settlement_items"]
        span = max(day - first_day, 0)
        for n, ((code, name, cat), qty, price) in enumerate(items):
            amount = qty * price
            total += amount
            occurred = first_day + (n * 7919 % (span + 1) if span else 0)
            out.append("\t".join((f"{sid}{n:02d}", sid, p.person_no, code, name, cat,
                                  str(qty), fen(price), fen(amount), iso(occurred))))
        fund = total * fund_permille // 1000
        self.lines["settlements"].append("\t".join((
            sid, "B" + sid[1:], ref_id, p.person_no, p.id_number, inst.code, inst.name,
            category, p.insurance_type, iso(day), fen(total), fen(fund), fen(total - fund))))
        return total

    def exam(self, p: Person, k: int, day: int, institution: str, item: ref.Item,
             value: str) -> None:
        self.lines["exams"].append("\t".join((
            f"TJ{p.index:012d}{k:03d}{item.code}", p.person_no, p.id_number, iso(day),
            institution, item.code, item.name, value, item.unit)))

    def lab(self, p: Person, visit_id: str, day: int, institution: str, item: ref.Item,
            value: float, places: int = 1) -> None:
        flag = "H" if value > item.high else "L" if value < item.low else N
        self.lines["lab_results"].append("\t".join((
            f"JY{visit_id}{item.code}", p.person_no, p.id_number, visit_id, iso(day),
            institution, item.code, item.name, f"{value:.{places}f}", item.unit,
            f"{item.low:g}-{item.high:g}", flag)))

    def adverse_event(self, p: Person, drug: ref.Drug, onset: int, reaction: str,
                      severity: str, outcome: str, reporter: str) -> None:
        self.lines["adverse_events"].append("\t".join((
            f"ADR{p.index:012d}{onset}", p.person_no, p.id_number, drug.code,
            drug.generic_name, iso(onset), reaction, severity, outcome, reporter)))

    def market_drugs(self) -> None:
        for d in ref.DRUGS:
            self.lines["market_drugs"].append("\t".join((
                d.code, d.generic_name, d.trade_name, d.dosage_form, d.specification,
                d.manufacturer, d.approval_no, d.atc_code)))
