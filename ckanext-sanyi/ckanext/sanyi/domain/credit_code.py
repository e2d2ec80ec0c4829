"""统一社会信用代码 (unified social credit code) per GB 32100-2015.

Layout: 1 登记管理部门码 + 1 机构类别码 + 6 登记管理机关行政区划码 + 9 主体标识码
(组织机构代码) + 1 校验码.  Validation is strict on length, character set and the
check character; it is deliberately *loose* on the leading codes: the first
character is checked only against the code character set, because the list of
登记管理部门 has grown since 2015 (2 外交, 3 司法行政, 4 文化, 6 旅游, 7 宗教,
8 工会, A 中央军委改革和编制办公室, N 农业 ...). :func:`registration_authority`
names the department where it is known.  The GB 11714 check of the embedded
organisation code and the region code are not verified.
"""
from __future__ import annotations

import unicodedata

from .errors import DomainError

__all__ = [
    "CHARSET",
    "WEIGHTS",
    "LENGTH",
    "REGISTRATION_AUTHORITIES",
    "compute_check_char",
    "validate_credit_code",
    "is_valid_credit_code",
    "registration_authority",
]

#: The 31 code characters (digits and capitals without I, O, Z, S, V).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Weights of positions 1-17 (3**(i) mod 31).
WEIGHTS: tuple[int, ...] = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18
_VALUE = {c: i for i, c in enumerate(CHARSET)}
_FIELD = "credit_code"

#: 登记管理部门码 → department (GB 32100-2015 and later assignments).
REGISTRATION_AUTHORITIES: dict[str, str] = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商（市场监管）",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}


def _normalise(s: str) -> str:
    """Strip, fold full-width forms (NFKC) and upper-case."""
    return unicodedata.normalize("NFKC", s).strip().upper()


def _bad_char(code: str, start: int = 0) -> None:
    for pos, ch in enumerate(code, start=start + 1):
        if ch not in _VALUE:
            raise DomainError(
                _FIELD,
                f"统一社会信用代码第 {pos} 位含非法字符 {ch!r}（不得使用 I、O、Z、S、V）",
                f"Credit code has an invalid character {ch!r} at position {pos} "
                "(I, O, Z, S and V are not used)",
            )


def compute_check_char(first17: str) -> str:
    """The check character for 17 code characters (case-insensitive)."""
    body = _normalise(first17)
    if len(body) != LENGTH - 1:
        raise DomainError(
            _FIELD,
            f"计算校验码需要 17 位本体代码，实际 {len(body)} 位",
            f"Computing the check character needs 17 characters, got {len(body)}",
        )
    _bad_char(body)
    total = sum(_VALUE[c] * w for c, w in zip(body, WEIGHTS, strict=False))
    return CHARSET[(31 - total % 31) % 31]


def validate_credit_code(s: str) -> str:
    """Return the normalised (NFKC, stripped, upper-case) code or raise :class:`DomainError`.

    Reasons, checked in order: not a string / wrong length, bad character,
    check character mismatch (the message names the expected character).
    """
    if not isinstance(s, str):
        raise DomainError(
            _FIELD,
            "统一社会信用代码必须是字符串",
            f"Credit code must be a string, got {type(s).__name__}",
        )
    code = _normalise(s)
    if len(code) != LENGTH:
        raise DomainError(
            _FIELD,
            f"统一社会信用代码应为 18 位，实际 {len(code)} 位",
            f"Credit code must be 18 characters long, got {len(code)}",
        )
    _bad_char(code)
    expected = compute_check_char(code[:17])
    if code[17] != expected:
        raise DomainError(
            _FIELD,
            f"统一社会信用代码校验码错误：第 18 位应为 {expected}，实际为 {code[17]}",
            f"Credit code check character mismatch: expected {expected}, got {code[17]}",
        )
    return code


def is_valid_credit_code(s: str) -> bool:
    """True when :func:`validate_credit_code` accepts ``s``."""
    try:
        validate_credit_code(s)
    except DomainError:
        return False
    return True


def registration_authority(code: str) -> str | None:
    """The 登记管理部门 named by the first character, if known."""
    return REGISTRATION_AUTHORITIES.get(_normalise(code)[:1]) if code else None
