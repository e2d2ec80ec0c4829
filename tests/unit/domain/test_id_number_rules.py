"""GB 11643 identity numbers (domain/id_number.py): the four fixed test persons' numbers and
numbers that must be refused, each with a message in both languages."""
from __future__ import annotations

import datetime as dt

import pytest

from ckanext.sanyi.domain.errors import DomainError
from ckanext.sanyi.domain.id_number import (
    birth_date,
    check_char,
    is_valid_id_number,
    sex,
    validate_id_number,
)

FIXED = {
    "420802195803124021": (dt.date(1958, 3, 12), "2"),
    "420804197206152317": (dt.date(1972, 6, 15), "1"),
    "420881199009235625": (dt.date(1990, 9, 23), "2"),
    "420822196511080012": (dt.date(1965, 11, 8), "1"),
}


@pytest.mark.parametrize("number", FIXED)
def test_the_fixed_numbers_are_valid(number):
    assert validate_id_number(number) == number
    assert (birth_date(number), sex(number)) == FIXED[number]
    assert check_char(number[:17]) == number[17]


def test_normalisation():
    # a check character X (ISO 7064 MOD 11-2 value 10), lower case and spaces accepted
    body = "11010519491231002"
    assert check_char(body) == "X"
    assert validate_id_number(f"  {body}x ") == body + "X"


@pytest.mark.parametrize("value, zh", [
    ("420802195803124022", "校验码不正确"),       # wrong check digit
    ("42080219580312402", "18位"),               # 17 characters
    ("4208021958031240211", "18位"),             # 19 characters
    ("42080219580312402A", "18位"),              # a letter that is not X
    ("020802195803124021", "18位"),              # leading zero
    ("420802195802304021", "出生日期"),           # 30 February
    ("420802195813124021", "出生日期"),           # month 13
    ("４２０８０２１９５８０３１２４０２１", "18位"),  # full-width digits
    ("", "必填"), (None, "必填"), (420802195803124021, "必填"),
])
def test_bad_numbers_are_refused_in_both_languages(value, zh):
    with pytest.raises(DomainError) as err:
        validate_id_number(value)
    assert err.value.field == "id_number"
    assert zh in err.value.zh and err.value.en
    assert not is_valid_id_number(value)


def test_the_field_name_is_kept():
    with pytest.raises(DomainError) as err:
        validate_id_number("x", field="holder_id")
    assert err.value.field == "holder_id"
