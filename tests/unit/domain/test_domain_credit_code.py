"""统一社会信用代码 (GB 32100-2015)."""
from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ckanext.sanyi.domain.credit_code import (
    CHARSET,
    WEIGHTS,
    compute_check_char,
    is_valid_credit_code,
    registration_authority,
    validate_credit_code,
)
from ckanext.sanyi.domain.errors import DomainError

# Published codes; each check character was verified by computation.
PUBLISHED = [
    "91350100M000100Y43",
    "91110000600037341L",
    "914403001922038216",
    "91110108551385082Q",
]


def test_charset_and_weights_follow_the_standard():
    assert len(CHARSET) == 31 and not set("IOZSV") & set(CHARSET)
    assert list(WEIGHTS) == [pow(3, i, 31) for i in range(17)]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_validate(code):
    assert validate_credit_code(code) == code
    assert compute_check_char(code[:17]) == code[17]
    assert is_valid_credit_code(code)


def test_normalisation_upper_case_whitespace_and_full_width():
    assert validate_credit_code(" 91350100m000100y43\n") == "91350100M000100Y43"
    full_width = "９１１１００００６０００３７３４１Ｌ"
    assert validate_credit_code(full_width) == "91110000600037341L"


@pytest.mark.parametrize("bad, reason", [
    ("", "18"), ("9135010", "18"), ("91350100M000100Y431", "18"),
])
def test_wrong_length(bad, reason):
    with pytest.raises(DomainError) as err:
        validate_credit_code(bad)
    assert err.value.field == "credit_code"
    assert reason in err.value.en and "18 位" in err.value.zh


@pytest.mark.parametrize("bad, char, pos", [
    ("91350100I000100Y43", "I", 9), ("O1350100M000100Y43", "O", 1),
    ("91350100M000100Z43", "Z", 16), ("9135010SM000100Y43", "S", 8),
    ("91350100M000100Y4V", "V", 18), ("91350100M00010-Y43", "-", 15),
])
def test_bad_character_names_char_and_position(bad, char, pos):
    with pytest.raises(DomainError) as err:
        validate_credit_code(bad)
    assert repr(char) in err.value.en and f"position {pos}" in err.value.en
    assert f"第 {pos} 位" in err.value.zh


def test_check_char_mismatch_names_expected():
    with pytest.raises(DomainError) as err:
        validate_credit_code("91350100M000100Y44")
    assert "expected 3" in err.value.en and "应为 3" in err.value.zh
    assert not is_valid_credit_code("91350100M000100Y44")


def test_non_string_and_compute_errors():
    with pytest.raises(DomainError):
        validate_credit_code(913501000)  # type: ignore[arg-type]
    with pytest.raises(DomainError, match="17"):
        compute_check_char("1234")
    with pytest.raises(DomainError, match="position 3"):
        compute_check_char("91I501000000100Y4")


def test_registration_authority_is_informative_not_enforced():
    assert registration_authority("91350100M000100Y43") == "工商（市场监管）"
    assert registration_authority("11100000000013127D") == "机构编制"
    code = "B" + "1350100M000100Y4"
    code += compute_check_char(code)
    assert validate_credit_code(code) == code  # unknown department code still validates
    assert registration_authority(code) is None
    assert registration_authority("") is None


def test_domain_error_shape():
    with pytest.raises(DomainError) as err:
        validate_credit_code("x")
    e = err.value
    assert e.as_dict() == {"field": "credit_code", "zh": e.zh, "en": e.en}
    assert e.message("zh") == e.zh and e.message("en") == e.en
    assert "credit_code" in str(e)
    again = pickle.loads(pickle.dumps(e))
    assert (again.field, again.zh, again.en) == (e.field, e.zh, e.en)


body17 = st.text(alphabet=CHARSET, min_size=17, max_size=17)


@given(body17, st.sampled_from(CHARSET))
def test_computed_check_char_validates_and_others_fail(body, other):
    check = compute_check_char(body)
    assert validate_credit_code(body + check) == body + check
    assert validate_credit_code((body + check).lower()) == body + check
    if other != check:
        with pytest.raises(DomainError, match=f"expected {check}"):
            validate_credit_code(body + other)


@given(body17, st.integers(0, 17), st.sampled_from(CHARSET))
def test_any_single_substitution_is_detected(body, pos, char):
    code = body + compute_check_char(body)
    changed = code[:pos] + char + code[pos + 1:]
    assert is_valid_credit_code(changed) == (changed == code)
