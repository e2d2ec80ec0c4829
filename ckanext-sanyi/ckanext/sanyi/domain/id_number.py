"""Resident identity numbers (公民身份号码, GB 11643-1999): 18 characters, the last a check
character computed over the first 17 with ISO 7064 MOD 11-2.

Pure: no CKAN import. :func:`validate_id_number` raises :class:`DomainError` with a message in
Chinese and English; :func:`is_valid_id_number` answers a bool.
"""
from __future__ import annotations

import datetime as dt
import re

from .errors import DomainError

__all__ = ["check_char", "validate_id_number", "is_valid_id_number", "birth_date", "sex"]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[0-9X]$")


def check_char(first17: str) -> str:
    """The check character of the 17 leading digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("17 digits expected")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def _refuse(field: str, zh: str, en: str) -> DomainError:
    return DomainError(field, zh, en)


def validate_id_number(value: object, field: str = "id_number") -> str:
    """The normalised number (upper-case X, no surrounding spaces) or :class:`DomainError`."""
    if not isinstance(value, str) or not value.strip():
        raise _refuse(field, "身份证号为必填项", "id_number is required")
    text = value.strip().upper()
    if not _SHAPE.match(text):
        raise _refuse(field, "身份证号应为18位：17位数字加1位校验码（数字或X）",
                      "id_number must be 18 characters: 17 digits and a check digit or X")
    try:
        birth_date(text)
    except ValueError:
        raise _refuse(field, "身份证号中的出生日期无效",
                      "id_number holds an invalid date of birth") from None
    if check_char(text[:17]) != text[17]:
        raise _refuse(field, "身份证号校验码不正确", "id_number check digit is wrong")
    return text


def is_valid_id_number(value: object) -> bool:
    try:
        validate_id_number(value)
    except DomainError:
        return False
    return True


def birth_date(number: str) -> dt.date:
    """The date of birth encoded in characters 7-14 (``ValueError`` if it is not a date)."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex(number: str) -> str:
    """``"1"`` (male) or ``"2"`` (female), from the parity of the 17th character (GB/T 2261.1)."""
    return "1" if int(number[16]) % 2 else "2"
