"""Monthly statements (月度账单) of entitlements billed by their actual calls.

Which entitlements: industrial use billed per call (``quota_unit`` call) approved under the
product's ``monthly`` settlement (:mod:`..pricing.actual`): their application was approved
without a quote or an order (nothing prepaid). An entitlement whose quota was quoted and paid
at approval (prepaid) never gets a statement: its calls beyond the quota are refused by the
quota, never billed.

The statement rule: the month is a calendar month in Beijing time (``YYYY-MM``, from 00:00
on its first day to 00:00 on the next month's first day, Asia/Shanghai). Its quantity is the
quota units of the entitlement's **granted** calls in the ledger in that month (one per call;
refused calls count nothing). The amount is the fee engine's quote for that quantity as one
whole (progressive bands summed across the bands, 累进阶梯、分档累加: the month's first
calls in band 1, the next in band 2, ...), under the price and ceiling in force on the
month's first day (or the entitlement's first day, if it starts later in the month), each
band rounded half-up to the fen. A month with no granted call, or a free price, gives a
statement of 0 with nothing to pay (``no_charge``); otherwise the statement becomes an order
(``kind`` statement) payable like any other (Stripe or bank transfer).

Idempotent: at most one statement per entitlement and month (a unique constraint, and the
entitlement row is locked while its statement is made), so billing a month again, or twice at
once, changes nothing. Only a month that has ended can be billed. The counted calls and the
amount never change (a trigger refuses it); paying the order marks the statement paid.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..applications import access, entitlements, notify
from ..applications.model import application_table as apt
from ..applications.model import entitlement_table as et
from ..applications.model import merchant_table as mt
from ..common import audit, clock, paging, roles, signals
from ..common.ids import id_problem
from ..common.money import yuan
from ..domain.approval_model import RefusalKind, TransitionRefused
from ..domain.errors import DomainError, Errors
from .model import STATEMENT_STATUSES
from .model import ledger_table as lt
from .model import statement_table as st

__all__ = ["parse_month", "month_days", "metered", "month_calls", "statement_for", "bill_month",
           "mark_paid", "list_statements", "as_dict", "may_list", "may_bill", "STATUS_TEXT"]

log = logging.getLogger(__name__)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
STATUS_TEXT = {"awaiting_payment": ("待缴费", "awaiting payment"), "paid": ("已缴费", "paid"),
               "no_charge": ("无需缴费", "nothing to pay")}


# -- months -----------------------------------------------------------------------------------
def parse_month(value: Any, field: str = "month") -> str:
    """``"2026-11"``; :class:`DomainError` naming ``field`` otherwise."""
    text = value.strip() if isinstance(value, str) else ""
    match = _MONTH.match(text)
    if not match or not 2000 <= int(match.group(1)) <= 2200:
        raise DomainError(field, f"月份须为 YYYY-MM（如 2026-11）：{str(value)[:20]!r}",
                          f"the month must be YYYY-MM (e.g. 2026-11): {str(value)[:20]!r}")
    return text


def month_days(month: str) -> tuple[dt.date, dt.date]:
    """The first and the last day of ``month``."""
    year, number = int(month[:4]), int(month[5:])
    first = dt.date(year, number, 1)
    following = dt.date(year + number // 12, number % 12 + 1, 1)
    return first, following - dt.timedelta(days=1)


def _start_utc(day: dt.date) -> dt.datetime:
    """The UTC instant at which the Beijing day ``day`` starts."""
    return dt.datetime.combine(day, dt.time(0), clock.local_tz()).astimezone(dt.timezone.utc)


# -- which entitlements, how many calls --------------------------------------------------------
_METERED = sa.and_(et.c.use == "industrial", et.c.quota_unit == "call",
                   apt.c.quote.is_(None), apt.c.order_id.is_(None))


def metered(entitlement_id: str) -> bool:
    """Is the entitlement billed by monthly statements?"""
    return model.Session.execute(
        sa.select(sa.func.count()).select_from(et.join(apt, apt.c.id == et.c.application_id))
        .where(et.c.id == entitlement_id, _METERED)).scalar_one() > 0


def month_calls(entitlement_id: str, month: str) -> int:
    """Quota units of the entitlement's granted calls in ``month`` (Beijing time)."""
    first, last = month_days(month)
    return int(model.Session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(lt.c.units), 0))
        .where(lt.c.entitlement_id == entitlement_id, lt.c.outcome == "granted",
               lt.c.at >= _start_utc(first),
               lt.c.at < _start_utc(last + dt.timedelta(days=1)))).scalar_one())


def _quote(ent: dict[str, Any], calls: int, on: dt.date) -> dict[str, Any]:
    if calls == 0:
        return {"quantity": 0, "unit": "call", "amount_fen": 0, "amount_yuan": "0.00",
                "currency": "CNY", "lines": [], "free": False, "date": on.isoformat()}
    return dict(tk.get_action("sanyi_price_quote")(
        {"ignore_auth": True}, {"product": ent["product_id"], "use": "industrial",
                                "unit": "call", "quantity": calls, "date": on.isoformat()}))


def _merchant_user_id(merchant_id: str) -> str | None:
    row = model.Session.execute(sa.select(mt.c.user_id).where(mt.c.id == merchant_id)).first()
    return row.user_id if row else None


# -- statements -------------------------------------------------------------------------------
def _existing(entitlement_id: str, month: str) -> dict[str, Any] | None:
    row = model.Session.execute(sa.select(st).where(st.c.entitlement_id == entitlement_id,
                                                    st.c.month == month)).mappings().first()
    return dict(row) if row else None


def statement_for(entitlement_id: str, month: str, actor: str) -> tuple[dict[str, Any] | None, bool]:
    """The entitlement's statement of ``month`` (made now if it has none): ``(row, made)``;
    ``(None, False)`` when the entitlement is not billed monthly or the month is outside its
    period. Writes in CKAN's session, not committed; the entitlement row stays locked until
    the transaction ends. A quote the fee engine refuses raises ``tk.ValidationError``."""
    ent = entitlements.get(entitlement_id, lock=True)
    if ent is None or not metered(entitlement_id):
        return None, False
    found = _existing(entitlement_id, month)
    if found is not None:
        return found, False
    first, last = month_days(month)
    start, end = max(first, ent["period_start"]), min(last, ent["period_end"])
    if start > end:
        return None, False
    calls = month_calls(entitlement_id, month)
    quote = dict(_quote(ent, calls, start), month=month, calls=calls,
                 entitlement_id=entitlement_id)
    amount = int(quote.get("amount_fen") or 0)
    statement_id = str(uuid.uuid4())
    order_id = None
    if amount > 0:
        order = signals.answer(signals.statement_charged, statement_id,
                               application_id=ent["application_id"], quote=quote, actor=actor,
                               merchant=_merchant_user_id(ent["merchant_id"]))
        if not order:
            raise RuntimeError("no payments feature answered for the statement's order")
        order_id = str(order["id"])
    row = {"id": statement_id, "entitlement_id": entitlement_id,
           "application_id": ent["application_id"], "merchant_id": ent["merchant_id"],
           "product_id": ent["product_id"], "product_name": ent["product_name"],
           "month": month, "calls": calls, "amount_fen": amount, "quote": quote,
           "order_id": order_id, "status": "awaiting_payment" if amount else "no_charge",
           "created_by": actor}
    model.Session.execute(st.insert().values(**row))
    audit.record(actor, "sanyi_statement_create", "statement", statement_id, before=None,
                 after={k: row[k] for k in ("entitlement_id", "application_id", "month",
                                            "calls", "amount_fen", "order_id", "status")})
    user_id = _merchant_user_id(ent["merchant_id"])
    if amount:
        notify.notify([user_id or ""], "statement", statement_id,
                      f"{month} 月度账单：{ent['product_name']} 调用 {calls:,} 次，应缴 {yuan(amount)} 元",
                      f"Statement of {month}: {ent['product_name']}, {calls:,} calls, "
                      f"{yuan(amount)} yuan to pay", "/merchant/orders")
    return _existing(entitlement_id, month), True


def bill_month(month: Any, actor: str, *, today: dt.date | None = None) -> dict[str, Any]:
    """Make the statements of ``month`` for every entitlement billed monthly whose period
    overlaps it, each in its own transaction (committed). Returns ``{"month", "made",
    "existing", "failed"}`` (statement dicts; failures as ``{"entitlement_id", "error"}``).
    A month that has not ended (Beijing time) is refused (field ``month``)."""
    month = parse_month(month)
    first, last = month_days(month)
    if last >= (today or clock.today()):
        raise DomainError("month", f"{month} 尚未结束，不能出账",
                          f"{month} has not ended yet; it cannot be billed")
    ids = [r[0] for r in model.Session.execute(
        sa.select(et.c.id).select_from(et.join(apt, apt.c.id == et.c.application_id))
        .where(_METERED, et.c.period_start <= last, et.c.period_end >= first)
        .order_by(et.c.created, et.c.id))]
    model.Session.rollback()
    report: dict[str, Any] = {"month": month, "made": [], "existing": [], "failed": []}
    for ent_id in ids:
        try:
            row, made = statement_for(ent_id, month, actor)
            model.Session.commit()
        except Exception as err:
            model.Session.rollback()
            log.exception("statement of %s for %s failed", month, ent_id)
            report["failed"].append({"entitlement_id": ent_id, "error": _error_text(err)})
            continue
        if row is not None:
            report["made" if made else "existing"].append(as_dict(row))
    return report


def _error_text(err: Exception) -> str:
    if isinstance(err, tk.ValidationError):
        return "; ".join(f"{k}: {v}" for k, v in (err.error_dict or {}).items())
    return str(err) or type(err).__name__


def mark_paid(statement_id: str, order_id: str, actor: str) -> dict[str, str]:
    """The statement's order was paid: awaiting_payment → paid (idempotent), audited."""
    done = model.Session.execute(
        st.update().where(st.c.id == statement_id, st.c.order_id == order_id,
                          st.c.status == "awaiting_payment")
        .values(status="paid", paid_at=clock.now_utc()))
    if done.rowcount:
        audit.record(actor, "sanyi_statement_paid", "statement", statement_id,
                     before={"status": "awaiting_payment"},
                     after={"status": "paid", "order_id": order_id})
    return {"outcome": "paid"}


# -- reading ----------------------------------------------------------------------------------
def _overseer(user: Any) -> bool:
    return roles.is_bureau_staff(user) or roles.is_operator_staff(user)


def may_list(user: Any) -> bool:
    return _overseer(user) or access.merchant_for(user) is not None


def may_bill(user: Any) -> bool:
    return roles.is_operator_staff(user)


def list_statements(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``{"count", "results"}``: statements ``user`` may see (bureau and operator: all; a
    merchant: its own), newest month first. Filters ``entitlement_id``, ``month``,
    ``status``; ``limit`` (≤ 100, default 50), ``offset``."""
    if not may_list(user):
        raise TransitionRefused(RefusalKind.ACTOR, "只有数商、数据局和运营机构可以查看月度账单",
                                "Only merchants, the bureau and the operator see statements")
    errors = Errors()
    conds = []
    value = data.get("entitlement_id")
    if value not in (None, ""):
        if id_problem(value):
            errors.add(DomainError("entitlement_id", "标识无效", "invalid identifier"))
        else:
            conds.append(st.c.entitlement_id == value.strip())
    if data.get("month") not in (None, ""):
        try:
            conds.append(st.c.month == parse_month(data.get("month")))
        except DomainError as err:
            errors.add(err)
    status = data.get("status")
    if status not in (None, ""):
        if status in STATEMENT_STATUSES:
            conds.append(st.c.status == status)
        else:
            errors.add(DomainError("status", f"状态须为 {'、'.join(STATEMENT_STATUSES)} 之一",
                                   f"status must be one of {', '.join(STATEMENT_STATUSES)}"))
    errors.check()
    page = paging.page(data, default_limit=50, max_limit=100)
    if not _overseer(user):
        merchant = access.merchant_for(user) or {"id": ""}
        conds.append(st.c.merchant_id == merchant["id"])
    where = sa.and_(sa.true(), *conds)
    total = int(model.Session.execute(
        sa.select(sa.func.count()).select_from(st).where(where)).scalar_one())
    rows = model.Session.execute(sa.select(st).where(where)
                                 .order_by(st.c.month.desc(), st.c.created.desc(), st.c.id)
                                 .limit(page.limit).offset(page.offset)).mappings()
    return {"count": total, "results": [as_dict(r) for r in rows]}


def as_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    zh, en = STATUS_TEXT[row["status"]]
    quote = row["quote"] or {}
    return {**{k: row[k] for k in ("id", "entitlement_id", "application_id", "merchant_id",
                                   "product_id", "product_name", "month", "calls",
                                   "order_id", "status")},
            "amount_fen": int(row["amount_fen"]), "amount_yuan": yuan(row["amount_fen"]),
            "status_label": zh, "status_label_en": en,
            "lines": [{k: line.get(k) for k in ("label_zh", "label_en", "quantity",
                                                "unit_price", "amount_fen", "amount_yuan")}
                      for line in quote.get("lines") or []],
            "price_version": (quote.get("version") or {}).get("id"),
            "created": row["created"].isoformat() if row["created"] else None,
            "paid_at": row["paid_at"].isoformat() if row["paid_at"] else None}
