"""个人健康画像与风险预警 ``health-profile``: exam values as bands per year, their trend, and
early warnings. Never a raw value, never a date finer than the year.

Bands:

* **blood pressure** (中国高血压防治指南 2018年修订版), the higher of the systolic and the diastolic
  band: 正常 (<120 and <80), 正常高值 (120–139 / 80–89), 1级 (140–159 / 90–99), 2级 (160–179 /
  100–109), 3级 (≥180 / ≥110);
* **fasting glucose** in mmol/L (中国2型糖尿病防治指南): 偏低 (<3.9), 正常 (3.9–<6.1),
  空腹血糖受损 (6.1–<7.0), 糖尿病水平 (≥7.0);
* **BMI** in kg/m² (中国成人超重和肥胖预防控制指南): 偏瘦 (<18.5), 正常 (18.5–<24), 超重 (24–<28),
  肥胖 (≥28).

A year's band is the band of the mean of that year's readings. The trend compares the first
and the last band of the years shown: 上升 (worse), 下降 (better), 稳定, or 数据不足 (fewer than two
years). Warnings (:func:`warnings`) combine the latest bands with the registered conditions.

Pure: no CKAN or database import.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

__all__ = ["BP_BANDS", "GLUCOSE_BANDS", "BMI_BANDS", "bp_band", "glucose_band", "bmi_band",
           "yearly_bands", "trend", "warnings", "mean", "YEARS"]

YEARS = 5  # the profile shows at most the last five calendar years
BP_BANDS = ("正常", "正常高值", "1级", "2级", "3级")
GLUCOSE_BANDS = ("偏低", "正常", "空腹血糖受损", "糖尿病水平")
BMI_BANDS = ("偏瘦", "正常", "超重", "肥胖")
# how far from normal each band lies (the trend compares these)
_SEVERITY = {"blood_pressure": {b: i for i, b in enumerate(BP_BANDS)},
             "fasting_glucose": {"偏低": 1, "正常": 0, "空腹血糖受损": 1, "糖尿病水平": 2},
             "bmi": {"偏瘦": 1, "正常": 0, "超重": 1, "肥胖": 2}}


def _band(value: Decimal, limits: Sequence[str], names: Sequence[str]) -> str:
    """``names[i]`` for the first ``limits[i]`` above ``value``; the last name past them all."""
    for limit, name in zip(limits, names, strict=False):
        if value < Decimal(limit):
            return name
    return names[-1]


def bp_band(systolic: Decimal | None, diastolic: Decimal | None) -> str | None:
    """The guideline's class of a reading (either value may be missing; both → None)."""
    bands = []
    if systolic is not None:
        bands.append(_band(systolic, ("120", "140", "160", "180"), BP_BANDS))
    if diastolic is not None:
        bands.append(_band(diastolic, ("80", "90", "100", "110"), BP_BANDS))
    return max(bands, key=BP_BANDS.index) if bands else None


def glucose_band(value: Decimal) -> str:
    return _band(value, ("3.9", "6.1", "7.0"), GLUCOSE_BANDS)


def bmi_band(value: Decimal) -> str:
    return _band(value, ("18.5", "24", "28"), BMI_BANDS)


def mean(values: Iterable[Decimal]) -> Decimal:
    vals = list(values)
    if not vals:
        raise ValueError("no values")
    return sum(vals, Decimal(0)) / len(vals)


def yearly_bands(by_year: Mapping[int, Mapping[str, Decimal]],
                 ) -> dict[str, list[dict[str, object]]]:
    """``{year: {"SBP": mean, "DBP": mean, "FBG": mean, "BMI": mean}}`` (any item may be
    missing) → ``{"blood_pressure": [{"year", "band"}...], "fasting_glucose": ..., "bmi": ...}``
    in year order."""
    out: dict[str, list[dict[str, object]]] = {"blood_pressure": [], "fasting_glucose": [],
                                               "bmi": []}
    for year in sorted(by_year):
        items = by_year[year]
        bp = bp_band(items.get("SBP"), items.get("DBP"))
        if bp is not None:
            out["blood_pressure"].append({"year": year, "band": bp})
        if items.get("FBG") is not None:
            out["fasting_glucose"].append({"year": year, "band": glucose_band(items["FBG"])})
        if items.get("BMI") is not None:
            out["bmi"].append({"year": year, "band": bmi_band(items["BMI"])})
    return out


def trend(measure: str, bands: Sequence[Mapping[str, object]]) -> str:
    if len(bands) < 2:
        return "数据不足"
    sev = _SEVERITY[measure]
    first, last = sev[str(bands[0]["band"])], sev[str(bands[-1]["band"])]
    return "上升" if last > first else "下降" if last < first else "稳定"


_WARNINGS = {
    "bp_unregistered": ("血压达到高血压水平，尚未登记高血压健康管理，建议就医确诊",
                        "blood pressure at hypertension level without a hypertension "
                        "registration: see a doctor"),
    "bp_uncontrolled": ("已登记高血压，最近一年血压未达标（≥140/90 mmHg）",
                        "registered hypertension, blood pressure not at target in the latest "
                        "year (>= 140/90 mmHg)"),
    "bp_rising": ("血压分级呈上升趋势", "blood pressure class rising"),
    "glucose_unregistered": ("空腹血糖达到糖尿病水平，尚未登记糖尿病健康管理，建议就医确诊",
                             "fasting glucose at diabetes level without a diabetes "
                             "registration: see a doctor"),
    "glucose_impaired": ("空腹血糖受损（糖尿病前期），建议生活方式干预并定期复查",
                         "impaired fasting glucose (prediabetes): lifestyle changes and "
                         "regular checks advised"),
    "glucose_uncontrolled": ("已登记糖尿病，最近一年空腹血糖未达标（≥7.0 mmol/L）",
                             "registered diabetes, fasting glucose not at target in the latest "
                             "year (>= 7.0 mmol/L)"),
    "obesity": ("体重指数达到肥胖水平", "BMI at obesity level"),
}


def warnings(bands: Mapping[str, Sequence[Mapping[str, object]]],
             conditions: Sequence[str]) -> list[dict[str, str]]:
    """Early warnings (``{"code", "zh", "en"}``) from the latest year's bands and the
    registered condition names."""
    hypertension = "高血压" in conditions
    diabetes = any("糖尿病" in c for c in conditions)
    codes: list[str] = []
    bp = bands.get("blood_pressure") or []
    if bp:
        latest = BP_BANDS.index(str(bp[-1]["band"]))
        if latest >= BP_BANDS.index("1级"):
            codes.append("bp_uncontrolled" if hypertension else "bp_unregistered")
        if trend("blood_pressure", bp) == "上升":
            codes.append("bp_rising")
    glu = bands.get("fasting_glucose") or []
    if glu:
        band = glu[-1]["band"]
        if band == "糖尿病水平":
            codes.append("glucose_uncontrolled" if diabetes else "glucose_unregistered")
        elif band == "空腹血糖受损" and not diabetes:
            codes.append("glucose_impaired")
    bmi = bands.get("bmi") or []
    if bmi and bmi[-1]["band"] == "肥胖":
        codes.append("obesity")
    return [{"code": c, "zh": _WARNINGS[c][0], "en": _WARNINGS[c][1]} for c in codes]
