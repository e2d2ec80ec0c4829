"""Chinese labels name the codes they label (domain/choice_labels.py): the halves of a use in
any separator, full-width text, English labels; anything else is left for the caller's own
check to refuse."""
from __future__ import annotations

import pytest

from ckanext.sanyi.domain.choice_labels import KINDS, code, labels


@pytest.mark.parametrize("kind, value, expected", [
    ("use", "公共治理、公益事业", "public_interest"), ("use", "公共治理/公益事业", "public_interest"),
    ("use", "公共治理，公益事业", "public_interest"), ("use", " 产业发展、行业发展 ", "industrial"),
    ("use", "industrial", "industrial"), ("use", "Public Interest", "public_interest"),
    ("billing_unit", "次", "call"), ("billing_unit", "按服务次数", "call"),
    ("billing_unit", "按数据调用量（条）", "record"), ("billing_unit", "按数据调用量(条)", "record"),
    ("billing_unit", "个月", "month"), ("billing_unit", "per year", "year"),
    ("decision", "通过", "approve"), ("decision", "退回修改", "return"),
    ("enterprise_size", "小型企业", "small"), ("outcome", "放行", "granted"),
])
def test_labels_name_their_codes(kind, value, expected):
    assert code(kind, value) == expected


@pytest.mark.parametrize("kind, value", [("use", "挖矿"), ("billing_unit", "斤"), ("use", 5),
                                         ("use", None), ("billing_unit", ["次"]),
                                         ("no_such_kind", "次")])
def test_anything_else_is_left_unchanged(kind, value):
    assert code(kind, value) == value


def test_no_label_names_two_codes_of_a_kind():
    for kind, choices in KINDS.items():
        seen: dict[str, str] = {}
        for c, names in choices.items():
            for name in (c, *names):
                key = code(kind, name)
                assert key == c, (kind, name, key)
                assert seen.setdefault(name, c) == c
        assert labels(kind) == choices
