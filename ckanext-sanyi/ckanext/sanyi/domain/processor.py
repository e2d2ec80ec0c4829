"""Data processors (数据加工处理人员): the rules of who may view desensitized samples.

A processor qualifies in three steps, each by a different party:

1. **identity verified** by the operator (运营机构): real name, identity document (kind and
   number; a 居民身份证 number must pass GB 11643), employer — :func:`check_register`;
2. **filed** with the bureau (数据局备案): the filing number — :func:`check_file`;
3. **confidentiality agreement accepted** in the portal by the person themself, in its current
   version (:data:`AGREEMENT_VERSION`), only after 1 and 2 — :func:`check_accept`.

Status: ``pending`` (registered, steps 2-3 open) → ``active`` (all three) → ``revoked``. A
revoked processor may be registered again and starts over; an active one may accept a newer
agreement (and must, to keep viewing samples: :func:`qualifies`).

Pure: no CKAN import. Refusals are :class:`DomainError` with Chinese and English messages
(field ``status`` for a step not allowed now).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from .errors import DomainError
from .id_number import validate_id_number
from .masking import FieldKind, mask_value

__all__ = ["DOCUMENT_KINDS", "STATUS_TEXT", "STEPS", "AGREEMENT_VERSION", "AGREEMENT_TITLE",
           "AGREEMENT_CLAUSES", "QUALIFY", "clean_text", "document", "masked_document",
           "filing_no", "check_register", "check_file", "check_accept", "check_revoke",
           "qualifies", "missing_steps"]

DOCUMENT_KINDS: dict[str, tuple[str, str]] = {
    "resident_id_card": ("居民身份证", "Resident identity card"),
    "passport": ("护照", "Passport"),
    "hk_macao_permit": ("港澳居民来往内地通行证", "Mainland travel permit (Hong Kong, Macao)"),
    "taiwan_permit": ("台湾居民来往大陆通行证", "Mainland travel permit (Taiwan)"),
    "foreign_permanent_resident": ("外国人永久居留身份证", "Foreign permanent resident ID card"),
}
STATUS_TEXT: dict[str, tuple[str, str]] = {
    "pending": ("待完成登记", "registration incomplete"),
    "active": ("有效", "active"),
    "revoked": ("已撤销", "revoked"),
}
STEPS: dict[str, tuple[str, str]] = {
    "verified": ("由运营机构核验身份", "identity verified by the operator"),
    "filed": ("在数据局备案", "filed with the data bureau"),
    "agreement": ("在门户签署保密协议", "confidentiality agreement accepted in the portal"),
}
QUALIFY = ("只有登记的数据加工处理人员可以查看脱敏样例：须由运营机构核验身份、在数据局备案，"
           "并在门户签署保密协议。",
           "Only registered data processors may view samples: identity verified by the "
           "operator, filed with the data bureau, and the confidentiality agreement accepted "
           "in the portal.")

AGREEMENT_VERSION = "2026-1"
AGREEMENT_TITLE = ("数据样例保密协议", "Confidentiality agreement for data samples")
AGREEMENT_CLAUSES: tuple[tuple[str, str], ...] = (
    ("样例仅用于开发、测试经批准的数据产品，不得用于其他目的。",
     "Samples are used only to develop and test approved data products, for no other purpose."),
    ("不得复制、截屏、下载、转发或以任何方式向他人提供样例或其任何部分。",
     "Samples or any part of them are not copied, captured, downloaded, forwarded or given to "
     "anyone in any way."),
    ("不得尝试识别样例所涉及的自然人，不得将样例与其他数据关联以重新识别个人。",
     "No attempt is made to identify the persons a sample concerns, nor to link it with other "
     "data to re-identify anyone."),
    ("每份样例带有标识查看人的水印；每次查看均被记录，泄露的样例可追溯至查看人。",
     "Every sample carries a watermark that identifies its viewer; every view is recorded, and "
     "a leaked sample can be traced to its viewer."),
    ("发现样例泄露或疑似泄露时，立即报告运营机构和数据局。",
     "A leak, or a suspected one, is reported at once to the operator and the data bureau."),
    ("违反本协议的，运营机构可撤销数据加工处理人员登记，并依法追究责任。",
     "A breach lets the operator revoke the registration as a data processor; liability under "
     "the law remains."),
)

_NUMBER = re.compile(r"^[A-Z0-9]{6,20}$")
_FILING = re.compile(r"^[\w\-〔〕()（）\[\]【】/·.号第]{4,64}$")


def clean_text(value: object, field: str, zh: str, en: str, *, max_len: int = 200,
               required: bool = True) -> str:
    """``value`` stripped, if it is text PostgreSQL can store and at most ``max_len`` long;
    "" when not given and not ``required``; :class:`DomainError` on ``field`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise DomainError(field, f"{zh}为必填项", f"{en} is required")
        return ""
    if not isinstance(value, str):
        raise DomainError(field, f"{zh}须为文本", f"{en} must be text")
    text = value.strip()
    if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text) \
            or any(ord(c) < 32 for c in text):
        raise DomainError(field, f"{zh}包含无效字符", f"{en} contains an invalid character")
    if len(text) > max_len:
        raise DomainError(field, f"{zh}过长（最多 {max_len} 个字符）",
                          f"{en} is too long ({max_len} characters at most)")
    return text


def document(kind: object, number: object) -> tuple[str, str]:
    """``(kind, number normalised)`` of an identity document; :class:`DomainError` on
    ``document_kind`` or ``document_number``."""
    if not isinstance(kind, str) or kind not in DOCUMENT_KINDS:
        raise DomainError("document_kind",
                          "证件类型须为：" + "、".join(f"{k}（{v[0]}）" for k, v in DOCUMENT_KINDS.items()),
                          "document_kind must be one of: " + ", ".join(DOCUMENT_KINDS))
    if kind == "resident_id_card":
        text = clean_text(number, "document_number", "证件号码", "Document number", max_len=18)
        return kind, validate_id_number(text, "document_number")
    text = clean_text(number, "document_number", "证件号码", "Document number", max_len=20)
    text = re.sub(r"[\s\-]", "", text).upper()
    if not _NUMBER.match(text):
        raise DomainError("document_number", "证件号码应为6至20位字母或数字",
                          "The document number must be 6 to 20 letters or digits")
    return kind, text


def masked_document(kind: str, number: str) -> str:
    """What is kept of the number: a 居民身份证 as 420***********4021, others their last 4."""
    if kind == "resident_id_card":
        return str(mask_value(number, FieldKind.ID_CARD))
    return str(mask_value(number, FieldKind.PERSONAL_NO))


def filing_no(value: object) -> str:
    """A filing number (备案号) such as 荆数备〔2026〕第001号 or JMSJ-2026-001."""
    text = clean_text(value, "filing_no", "备案号", "Filing number", max_len=64)
    if not _FILING.match(text):
        raise DomainError("filing_no", "备案号应为4至64位文字、字母、数字或〔〕-/等符号",
                          "filing_no must be 4 to 64 letters, digits or the signs 〔〕-/")
    return text


def _state(zh: str, en: str) -> DomainError:
    return DomainError("status", zh, en)


def check_register(status: str | None) -> None:
    """Whether identity may be (re)recorded: not for an active processor (revoke first)."""
    if status == "active":
        raise _state("该用户已是有效的数据加工处理人员；如需重新核验身份，请先撤销登记",
                     "This user is already an active data processor; revoke the "
                     "registration first to verify the identity again")


def check_file(status: str | None) -> None:
    """Whether the filing may be recorded: only while registered and not yet active."""
    if status is None:
        raise _state("该用户尚未由运营机构核验身份，不能备案",
                     "The operator has not verified this user's identity: nothing to file")
    if status != "pending":
        raise _state(f"登记状态为“{STATUS_TEXT[status][0]}”，不能备案",
                     f"The registration is {STATUS_TEXT[status][1]}: it cannot be filed now")


def check_accept(row: Mapping[str, object] | None, version: object) -> None:
    """Whether the person may accept ``version`` of the agreement now: verified, filed, not
    revoked, the current version, not already accepted."""
    if version != AGREEMENT_VERSION:
        raise DomainError("agreement_version",
                          f"请阅读并签署当前版本（{AGREEMENT_VERSION}）的保密协议",
                          f"Read and accept the current version ({AGREEMENT_VERSION}) of the "
                          "agreement")
    if row is None:
        raise _state("您尚未由运营机构核验身份，暂不能签署保密协议",
                     "The operator has not verified your identity yet: the agreement cannot be "
                     "accepted")
    if row.get("status") == "revoked":
        raise _state("您的数据加工处理人员登记已撤销", "Your registration as a data processor "
                     "was revoked")
    if not row.get("filing_no"):
        raise _state("您尚未在数据局备案，暂不能签署保密协议",
                     "You are not filed with the data bureau yet: the agreement cannot be "
                     "accepted")
    if row.get("agreement_version") == AGREEMENT_VERSION and row.get("agreement_accepted_at"):
        raise _state("您已签署当前版本的保密协议", "You have already accepted the current "
                     "version of the agreement")


def check_revoke(status: str | None, reason: object) -> str:
    """The reason (required) of revoking a registration that is not revoked already."""
    text = clean_text(reason, "reason", "撤销理由", "The reason for revoking", max_len=500)
    if status is None:
        raise _state("该用户没有数据加工处理人员登记", "This user has no registration as a "
                     "data processor")
    if status == "revoked":
        raise _state("该登记已撤销", "The registration is already revoked")
    return text


def qualifies(row: Mapping[str, object] | None) -> bool:
    """An active processor who accepted the current version of the agreement."""
    if not row:
        return False
    return row.get("status") == "active" and row.get("agreement_version") == AGREEMENT_VERSION \
        and bool(row.get("agreement_accepted_at"))


def missing_steps(row: Mapping[str, object] | None) -> list[str]:
    """The keys of :data:`STEPS` still to do (all three for no registration or a revoked
    one)."""
    if row is None or row.get("status") == "revoked":
        return list(STEPS)
    missing = []
    if not row.get("filing_no"):
        missing.append("filed")
    if row.get("agreement_version") != AGREEMENT_VERSION or not row.get("agreement_accepted_at"):
        missing.append("agreement")
    return missing
