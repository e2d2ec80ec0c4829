"""Merchant accounts (数商): a registered user with a verified company profile.

* ``register`` creates the profile (status ``pending``) or updates it. Changing the company
  name or the 统一社会信用代码 of a verified or rejected profile sends it back to
  ``pending``; contact details and size change without re-verification. Staff of the bureau,
  the operator or a data unit cannot be merchants.
* ``verify`` (bureau): ``approve`` → ``verified``, ``reject`` (comment required) →
  ``rejected``; a profile already in the requested status is refused (409). Only a verified
  merchant's applications can be submitted.
* A credit code belongs to one merchant only.

Every change is audited (object_type ``merchant``) and notified.
"""
from __future__ import annotations

import uuid
from typing import Any

import ckan.model as model
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..common import audit
from ..domain.approval import RefusalKind, TransitionRefused
from ..domain.choice_labels import code
from ..domain.errors import DomainError
from . import access, forms, licence, notify
from .forms import Errors, Invalid, NotFound
from .model import merchant_table as t

__all__ = ["register", "verify", "get", "as_dict", "list_merchants", "STATUS_TEXT"]

STATUS_TEXT = {"pending": ("待核验", "pending verification"), "verified": ("已核验", "verified"),
               "rejected": ("未通过核验", "rejected")}
_AUDITED = ("company_name", "credit_code", "contact_name", "contact_phone", "contact_email",
            "enterprise_size", "status", "verify_comment")


def get(merchant_id: str, *, lock: bool = False) -> dict[str, Any]:
    stmt = sa.select(t).where(t.c.id == merchant_id)
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound("id", f"未找到该数商：{merchant_id}", f"Merchant not found: {merchant_id}")
    return dict(row)


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    user = model.Session.get(model.User, row["user_id"])
    out = {k: row[k] for k in ("id", "company_name", "credit_code", "contact_name", "contact_phone",
                               "contact_email", "enterprise_size", "status", "verify_comment",
                               "verified_by")}
    out.update(user_name=user.name if user else None,
               enterprise_size_label=forms.SIZES.get(row["enterprise_size"], ("", ""))[0],
               status_label=STATUS_TEXT[row["status"]][0],
               status_label_en=STATUS_TEXT[row["status"]][1],
               verified_at=row["verified_at"].isoformat() if row["verified_at"] else None,
               created=row["created"].isoformat() if row["created"] else None,
               modified=row["modified"].isoformat() if row["modified"] else None)
    shown = licence.current(row["id"])
    out["business_licence"] = {k: v for k, v in shown.items() if k != "storage_key"} \
        if shown else None
    return out


def _audited(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: row.get(k) for k in _AUDITED}


def register(user: model.User, data: dict[str, Any]) -> dict[str, Any]:
    if access.is_staff(user):
        raise TransitionRefused(RefusalKind.ACTOR, "数据局、运营机构和数源单位的工作人员不能注册为数商",
                                "Staff of the bureau, the operator or a data unit cannot be merchants")
    errors = Errors()
    profile = forms.merchant_profile(data, errors)
    new_licence = licence.parse(data, errors)
    errors.check()
    existing = access.merchant_for(user)
    if existing:
        existing = get(existing["id"], lock=True)
    clash = model.Session.execute(sa.select(t.c.id).where(
        t.c.credit_code == profile["credit_code"], t.c.user_id != user.id)).first()
    if clash:
        raise Invalid({"credit_code": [DomainError(
            "credit_code", "该统一社会信用代码已被其他数商注册",
            "This credit code is already registered by another merchant")]})
    if existing is None:
        row = dict(profile, id=str(uuid.uuid4()), user_id=user.id, status="pending",
                   verify_comment="")
        try:
            with model.Session.begin_nested():
                model.Session.execute(t.insert().values(**row))
        except IntegrityError:
            raise Invalid({"credit_code": [DomainError(
                "credit_code", "该统一社会信用代码或账号已注册为数商",
                "This credit code or account is already registered as a merchant")]}) from None
        action = "sanyi_merchant_register"
    else:
        identity_changed = any(existing[k] != profile[k] for k in ("company_name", "credit_code")) \
            or new_licence is not None  # a new licence is verified again
        status = "pending" if identity_changed or existing["status"] == "rejected" \
            else existing["status"]
        changes = dict(profile, status=status, modified=sa.func.clock_timestamp())
        if status == "pending":
            changes.update(verified_by=None, verified_at=None)
        model.Session.execute(t.update().where(t.c.id == existing["id"]).values(**changes))
        row, action = dict(existing, **profile, status=status), "sanyi_merchant_update"
    after = _audited(row)
    if new_licence is not None:
        saved = licence.save(row["id"], new_licence, user.name)
        after = dict(after or {}, business_licence={"name": saved["name"],
                                                    "sha256": saved["sha256"]})
    audit.record(user.name, action, "merchant", row["id"], before=_audited(existing), after=after)
    if row["status"] == "pending" and (existing is None or existing["status"] != "pending"):
        notify.notify(access.bureau_user_ids(), "merchant", row["id"],
                      f"数商“{row['company_name']}”待核验", f"Merchant {row['company_name']} "
                      "awaits verification", "/bureau/merchants")
    return get(row["id"])


def verify(user: model.User, merchant_id: str, decision: str, comment: str = "") -> dict[str, Any]:
    decision = code("decision", decision)
    if decision not in ("approve", "reject"):
        raise Invalid({"decision": [DomainError(
            "decision", f"核验结论须为 approve（通过）或 reject（不通过）：{decision!r}",
            f"decision must be approve or reject: {decision!r}")]})
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if decision == "reject" and not comment:
        raise Invalid({"comment": [DomainError("comment", "不通过核验必须填写理由",
                                               "A reason is required to reject a merchant")]})
    row = get(merchant_id, lock=True)
    target = "verified" if decision == "approve" else "rejected"
    if row["status"] == target:
        raise TransitionRefused(RefusalKind.STATE, f"该数商已是“{STATUS_TEXT[target][0]}”状态",
                                f"The merchant is already {target}")
    model.Session.execute(t.update().where(t.c.id == merchant_id).values(
        status=target, verify_comment=comment, verified_by=user.name,
        verified_at=sa.func.clock_timestamp(), modified=sa.func.clock_timestamp()))
    after = dict(row, status=target, verify_comment=comment)
    audit.record(user.name, "sanyi_merchant_verify", "merchant", merchant_id,
                 before=_audited(row), after=_audited(after))
    zh, en = (("已通过核验", "has been verified") if target == "verified"
              else (f"未通过核验：{comment}", f"was not verified: {comment}"))
    notify.notify([row["user_id"]], "merchant", merchant_id, f"您的数商资料{zh}",
                  f"Your merchant profile {en}", "/merchant/register")
    return get(merchant_id)


def list_merchants(status: str | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    stmt = sa.select(t)
    count = sa.select(sa.func.count()).select_from(t)
    if status:
        stmt, count = stmt.where(t.c.status == status), count.where(t.c.status == status)
    total = int(model.Session.execute(count).scalar_one())
    rows = model.Session.execute(stmt.order_by(t.c.created.desc(), t.c.id)
                                 .limit(limit).offset(offset)).mappings()
    return total, [dict(r) for r in rows]
