"""Bilingual row reasons shown in one language: field labels and each message cut to the half
the page speaks, whatever the reason joins."""
from __future__ import annotations

import pytest

from ckanext.sanyi.common.i18n_text import MISSING, bi, reason_text

pytestmark = pytest.mark.unit

UNKNOWN = "数源单位 / Source unit: " + bi("未知的数源单位“市卫建委”；最接近的单位：市卫健委",
                                      "Unknown source unit '市卫建委'; closest: 市卫健委")


@pytest.mark.parametrize("text, zh, en", [
    (bi("请选择文件", "Choose a file"), "请选择文件", "Choose a file"),
    (UNKNOWN, "数源单位：未知的数源单位“市卫建委”；最接近的单位：市卫健委",
     "Source unit: Unknown source unit '市卫建委'; closest: 市卫健委"),
    (f"数源单位 / Source unit: {MISSING} | 数据资源名称 / Resource title: {MISSING}",
     "数源单位：必填项；数据资源名称：必填项", "Source unit: Missing value; Resource title: Missing value"),
    ("提供方式 / Delivery method: " + bi("未知的值：x", "unknown value: x") + "; "
     + bi("至少一项", "at least one"),
     "提供方式：未知的值：x；至少一项", "Delivery method: unknown value: x; at least one"),
    ("plain text", "plain text", "plain text"),
])
def test_reasons_in_one_language(text, zh, en):
    assert reason_text(text, zh=True) == zh
    assert reason_text(text, zh=False) == en
    assert " / " not in reason_text(text, zh=True) + reason_text(text, zh=False)
