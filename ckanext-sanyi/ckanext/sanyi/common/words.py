"""The one place a stored code becomes words, and a figure the way people read it.

* :func:`word` — a code of a kind (``application_status``, ``order_status``,
  ``billing_unit``, ``audit_action`` ...) in Chinese or English; the tables are the ones the
  features define (imported here, not copied), plus those of the pages.
* :func:`money` — ``¥6,500.00`` (zh) / ``CNY 6,500.00`` (en) from integer fen or yuan text.
* :func:`datetime` — Beijing time ``2026-12-02 02:25`` (:mod:`.clock`).
* :func:`fallback` — a value missing in English: the Chinese one, visibly marked.

Pure apart from reading the UI language (callers pass ``zh`` or the helpers pick it).
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from feeengine.money import format_yuan

from ..domain.approval_model import Status
from . import clock

__all__ = ["kinds", "word", "words", "money", "money_yuan", "datetime", "fallback", "transition",
           "unit_price", "quantity", "bands"]

# the noun a billing unit counts (a quantity of it: "10,000 次" / "10,000 calls")
UNIT_NOUNS: dict[str, tuple[str, str]] = {
    "call": ("次", "call"), "record": ("条", "record"), "copy": ("份", "copy"),
    "month": ("月", "month"), "year": ("年", "year")}
ORDER_STATUS = {"awaiting_payment": ("待支付", "Awaiting payment"), "paid": ("已支付", "Paid"),
                "refunded": ("已退款", "Refunded"), "cancelled": ("已取消", "Cancelled"),
                "partially_refunded": ("部分退款", "Partly refunded")}
REFUND_STATUS = {"pending": ("待退款", "Pending"), "done": ("已退款", "Done"),
                 "failed": ("退款失败", "Failed")}
PAY_METHOD = {"stripe": ("在线支付（Stripe）", "Online (Stripe)"),
              "bank_transfer": ("对公转账", "Bank transfer")}
PRODUCT_STATUS = {"draft": ("草稿", "draft"), "filed": ("已备案", "filed"),
                  "approved": ("已批准（上架）", "approved (listed)"),
                  "delisted": ("已下架", "delisted")}
DATASET_STATE = {"active": ("已发布", "published"), "draft": ("草稿", "draft"),
                 "deleted": ("已删除", "deleted")}
APPLICATION_STATUS = {s.value: (s.zh, s.value.replace("_", " ")) for s in Status}
UNIT_DECISION = {"approved": ("通过", "approved"), "rejected": ("驳回", "rejected"),
                 "returned": ("退回修改", "returned"), "pending": ("待审核", "pending")}
REVENUE_LEVEL = {"ok": ("正常", "OK"), "warning": ("已达预警线", "Warning level reached"),
                 "exceeded": ("已超上限", "Cap exceeded")}
PROCESSOR_STATUS = {"pending": ("待核验", "pending"), "active": ("使用中", "active"),
                    "filed": ("已备案", "filed"), "revoked": ("已撤销", "revoked")}


def _tables() -> dict[str, dict[str, tuple[str, str]]]:
    # the features' own tables, by reference (imported lazily: they import CKAN)
    from ..applications import entitlements, forms, merchants
    from ..supervision.audit_text import ACTIONS, OBJECT_TYPES
    return {
        "application_status": APPLICATION_STATUS, "order_status": ORDER_STATUS,
        "refund_status": REFUND_STATUS, "pay_method": PAY_METHOD,
        "product_status": PRODUCT_STATUS, "dataset_state": DATASET_STATE,
        "unit_decision": UNIT_DECISION, "processor_status": PROCESSOR_STATUS,
        "revenue_level": REVENUE_LEVEL,
        "entitlement_status": entitlements.STATUS_TEXT, "merchant_status": merchants.STATUS_TEXT,
        "billing_unit": forms.UNITS, "unit_noun": UNIT_NOUNS, "use": forms.USES,
        "enterprise_size": forms.SIZES, "audit_action": ACTIONS, "object_type": OBJECT_TYPES,
    }


_cache: dict[str, dict[str, tuple[str, str]]] = {}


def kinds() -> dict[str, dict[str, tuple[str, str]]]:
    """Every kind of code and its table ``{code: (zh, en)}``."""
    if not _cache:
        _cache.update(_tables())
    return _cache


def words(kind: str, code: Any) -> tuple[str, str]:
    """``(zh, en)`` of ``code``; an unknown code is shown as it is stored (both)."""
    text = "" if code is None else str(code)
    pair = kinds().get(kind, {}).get(text)
    return (pair[0], pair[1]) if pair else (text, text)


def word(kind: str, code: Any, zh: bool = True) -> str:
    """The words of ``code`` in the UI language: ``word("order_status", "paid")`` → 已支付."""
    pair = words(kind, code)
    return pair[0] if zh else pair[1]


def transition(codes: Any, zh: bool = True, kind: str = "application_status") -> str:
    """A path of states in words: ``draft → submitted`` → ``草稿 → 已提交``."""
    parts = [p.strip() for p in (codes.split("→") if isinstance(codes, str) else codes or [])]
    return " → ".join(word(kind, p.replace(" ", "_"), zh) for p in parts if p)


def _fen(value: Any) -> int | None:
    if value is None or value == "" or isinstance(value, float):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(Decimal(str(value).replace(",", "").strip()).scaleb(2)
                   .to_integral_exact())
    except (InvalidOperation, ValueError):
        return None


def money(fen: Any, zh: bool = True) -> str:
    """``650000`` → ``¥6,500.00`` (zh) / ``CNY 6,500.00`` (en); "—" when there is none."""
    if fen is None or fen == "":
        return "—"
    text = format_yuan(int(fen))
    return f"¥{text}" if zh else f"CNY {text}"


def money_yuan(yuan: Any, zh: bool = True) -> str:
    """The same from yuan text (``"6500.00"``, as the API gives ``*_yuan``)."""
    fen = _fen(yuan)
    return "—" if fen is None else money(fen, zh)


def unit_price(yuan: Any, unit: str, zh: bool = True) -> str:
    """``¥0.50/次`` / ``CNY 0.50 per call``."""
    noun = word("unit_noun", unit, zh)
    return f"{money_yuan(yuan, zh)}/{noun}" if zh else f"{money_yuan(yuan, zh)} per {noun}"


def quantity(n: Any, unit: str, zh: bool = True) -> str:
    """``15,000 次`` / ``15,000 calls``."""
    try:
        count = int(n)
    except (TypeError, ValueError):
        return f"{n} {word('unit_noun', unit, zh)}"
    noun = word("unit_noun", unit, zh)
    if not zh and count != 1 and noun in {v[1] for v in UNIT_NOUNS.values()}:
        noun += "s"
    return f"{count:,} {noun}"


def bands(schedule_bands: list[dict[str, Any]], unit: str, zh: bool = True) -> str:
    """A schedule's bands (prices in yuan): ``0.25`` for one band;
    ``10,000 次以内 0.60；以上 0.12`` / ``up to 10,000 calls 0.60; beyond 0.12`` for several."""
    if len(schedule_bands) == 1:
        return str(schedule_bands[0]["price"])
    parts = []
    for b in schedule_bands:
        if b["upto"] is None:
            parts.append(f"以上 {b['price']}" if zh else f"beyond {b['price']}")
        elif zh:
            parts.append(f"{quantity(b['upto'], unit)}以内 {b['price']}")
        else:
            parts.append(f"up to {quantity(b['upto'], unit, zh=False)} {b['price']}")
    return ("；" if zh else "; ").join(parts)


def datetime(value: Any) -> str:
    """A time as people read it: ``2026-12-02 02:25``, Beijing time."""
    return clock.format_datetime(value)


def fallback(en: Any, zh_text: Any) -> tuple[str, bool]:
    """The English value, or the Chinese one when there is none: ``(text, marked)``, where
    ``marked`` says the text is the Chinese stand-in (pages mark it)."""
    if en not in (None, ""):
        return str(en), False
    return ("" if zh_text is None else str(zh_text)), zh_text not in (None, "")
