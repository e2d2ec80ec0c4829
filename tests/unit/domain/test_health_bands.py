"""个人健康画像's bands (domain/health.py): the guideline boundaries, yearly bands, trends and
warnings."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from ckanext.sanyi.domain import health


@pytest.mark.parametrize("sbp, dbp, band", [
    (119, 79, "正常"), (120, 79, "正常高值"), (119, 80, "正常高值"), (139, 89, "正常高值"),
    (140, 70, "1级"), (130, 90, "1级"), (159, 99, "1级"),
    (160, 80, "2级"), (120, 100, "2级"), (179, 109, "2级"),
    (180, 80, "3级"), (120, 110, "3级"),
    (150, None, "1级"), (None, 85, "正常高值"),
])
def test_blood_pressure_classes(sbp, dbp, band):
    assert health.bp_band(None if sbp is None else D(sbp), None if dbp is None else D(dbp)) == band


def test_no_reading_no_class():
    assert health.bp_band(None, None) is None


@pytest.mark.parametrize("value, band", [
    ("3.8", "偏低"), ("3.9", "正常"), ("6.09", "正常"), ("6.1", "空腹血糖受损"),
    ("6.99", "空腹血糖受损"), ("7.0", "糖尿病水平"), ("12", "糖尿病水平")])
def test_fasting_glucose_bands(value, band):
    assert health.glucose_band(D(value)) == band


@pytest.mark.parametrize("value, band", [
    ("18.4", "偏瘦"), ("18.5", "正常"), ("23.9", "正常"), ("24", "超重"), ("27.9", "超重"),
    ("28", "肥胖")])
def test_bmi_bands(value, band):
    assert health.bmi_band(D(value)) == band


def test_yearly_bands_and_trends():
    bands = health.yearly_bands({
        2025: {"SBP": D("150"), "DBP": D("88"), "FBG": D("6.5")},
        2023: {"SBP": D("128"), "DBP": D("78"), "FBG": D("5.0"), "BMI": D("25")},
        2026: {"SBP": D("165"), "DBP": D("95"), "FBG": D("7.4"), "BMI": D("25.5")},
    })
    assert bands["blood_pressure"] == [{"year": 2023, "band": "正常高值"},
                                       {"year": 2025, "band": "1级"},
                                       {"year": 2026, "band": "2级"}]
    assert [b["band"] for b in bands["fasting_glucose"]] == ["正常", "空腹血糖受损", "糖尿病水平"]
    assert bands["bmi"] == [{"year": 2023, "band": "超重"}, {"year": 2026, "band": "超重"}]
    assert health.trend("blood_pressure", bands["blood_pressure"]) == "上升"
    assert health.trend("bmi", bands["bmi"]) == "稳定"
    assert health.trend("bmi", bands["bmi"][:1]) == "数据不足"
    assert health.trend("fasting_glucose", [{"year": 1, "band": "糖尿病水平"},
                                            {"year": 2, "band": "正常"}]) == "下降"


def test_warnings():
    def codes(bands, conditions):
        return [w["code"] for w in health.warnings(bands, conditions)]
    high = {"blood_pressure": [{"year": 2026, "band": "1级"}]}
    assert codes(high, []) == ["bp_unregistered"]
    assert codes(high, ["高血压"]) == ["bp_uncontrolled"]
    assert codes({"blood_pressure": [{"year": 2025, "band": "正常"},
                                     {"year": 2026, "band": "正常高值"}]}, []) == ["bp_rising"]
    glu = {"fasting_glucose": [{"year": 2026, "band": "糖尿病水平"}]}
    assert codes(glu, []) == ["glucose_unregistered"]
    assert codes(glu, ["2型糖尿病"]) == ["glucose_uncontrolled"]
    assert codes({"fasting_glucose": [{"year": 2026, "band": "空腹血糖受损"}]}, []) == \
        ["glucose_impaired"]
    assert codes({"bmi": [{"year": 2026, "band": "肥胖"}]}, []) == ["obesity"]
    assert codes({"blood_pressure": [], "fasting_glucose": [], "bmi": []}, []) == []
    for w in health.warnings(high, []):
        assert w["zh"] and w["en"]


def test_mean():
    assert health.mean([D("140"), D("150"), D("161")]) == D("150.3333333333333333333333333")
    with pytest.raises(ValueError):
        health.mean([])
