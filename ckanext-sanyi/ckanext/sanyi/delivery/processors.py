"""The registry of data processors (数据加工处理人员) in CKAN's database.

The rules are in :mod:`ckanext.sanyi.domain.processor`; this module stores them in
``sanyi_data_processor`` (:mod:`.samples_model`). Identity documents are kept masked, with a
keyed digest (:func:`.sample_keys.document_key`) so one document registers one account; the
number itself is never stored nor written to the audit log. Every change is audited
(object_type ``data_processor``) in the caller's transaction. Times are stored in UTC
(``common.clock``) and shown in Asia/Shanghai.
"""
from __future__ import annotations

import hashlib
import hmac
import uuid
from typing import Any, Callable

import ckan.model as model
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..common import audit, clock
from ..common.user import as_user
from ..domain import processor as rules
from ..domain.errors import DomainError, Errors, NotFound
from .sample_keys import document_key
from .samples_model import processor_table as t

__all__ = ["get", "for_user", "register", "file", "accept_agreement", "revoke", "list_processors",
           "as_dict", "qualifies", "target_user", "load_demo", "DEMO_ACCOUNT"]

_AUDITED = ("user_id", "status", "real_name", "employer", "document_kind", "document_masked",
            "verified_by", "filing_no", "filed_by", "agreement_version", "agreement_accepted_at",
            "revoked_by", "revoke_reason")


def _digest(kind: str, number: str) -> str:
    return hmac.new(document_key(), f"{kind}\x1f{number}".encode(), hashlib.sha256).hexdigest()


def target_user(value: Any, field: str = "user") -> model.User:
    """The active user named (or with the id) ``value``; :class:`DomainError` otherwise."""
    name = rules.clean_text(value, field, "用户", "User", max_len=100)
    user = as_user(name)
    if user is None:
        raise NotFound(field, f"未找到该用户：{name}", f"User not found: {name}")
    return user


def get(processor_id: str, *, lock: bool = False) -> dict[str, Any]:
    stmt = sa.select(t).where(t.c.id == processor_id)
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound("id", f"未找到该数据加工处理人员：{processor_id}",
                       f"Data processor not found: {processor_id}")
    return dict(row)


def for_user(user: Any, *, lock: bool = False) -> dict[str, Any] | None:
    """The registration of ``user`` (object, name or id), or None."""
    obj = as_user(user)
    if obj is None:
        return None
    stmt = sa.select(t).where(t.c.user_id == obj.id)
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    return dict(row) if row else None


def qualifies(user: Any) -> bool:
    """``user`` is an active data processor who accepted the current agreement."""
    return rules.qualifies(for_user(user))


def _audited(row: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if row is None else {k: row.get(k) for k in _AUDITED}


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The public form of a registration: no digest; times in UTC (ISO) and as shown in
    Asia/Shanghai (``*_display``)."""
    user = model.Session.get(model.User, row["user_id"])
    kind = rules.DOCUMENT_KINDS.get(row["document_kind"], ("", ""))
    out = {k: row[k] for k in ("id", "user_id", "status", "real_name", "employer",
                               "document_kind", "document_masked", "verified_by", "filing_no",
                               "filed_by", "agreement_version", "revoked_by", "revoke_reason")}
    out.update(user_name=user.name if user else None,
               user_fullname=(user.fullname or user.name) if user else None,
               status_label=rules.STATUS_TEXT[row["status"]][0],
               status_label_en=rules.STATUS_TEXT[row["status"]][1],
               document_kind_label=kind[0], document_kind_label_en=kind[1],
               qualified=rules.qualifies(row), missing_steps=rules.missing_steps(row),
               current_agreement_version=rules.AGREEMENT_VERSION)
    for key in ("verified_at", "filed_at", "agreement_accepted_at", "revoked_at", "created",
                "modified"):
        out[key] = _iso(row[key])
        out[f"{key}_display"] = clock.format_datetime(row[key]) if row[key] else ""
    return out


def register(actor: model.User, data: dict[str, Any]) -> dict[str, Any]:
    """Record the identity the operator verified (``user``, ``real_name``, ``document_kind``,
    ``document_number``, ``employer``); a revoked registration starts over."""
    errors = Errors()
    user = errors.take(target_user, data.get("user"))
    real_name = errors.take(rules.clean_text, data.get("real_name"), "real_name", "姓名",
                            "Real name", max_len=100)
    employer = errors.take(rules.clean_text, data.get("employer"), "employer", "所在单位",
                           "Employer", max_len=200, required=False)
    doc = errors.take(rules.document, data.get("document_kind"), data.get("document_number"))
    if user is not None and user.id == actor.id:
        errors.add(DomainError("user", "不能为本人核验身份", "You cannot verify your own identity"))
    errors.check()
    assert user is not None and doc is not None
    existing = for_user(user, lock=True)
    rules.check_register(existing["status"] if existing else None)
    kind, number = doc
    now = clock.now_utc()
    values = dict(status="pending", real_name=real_name, employer=employer or "",
                  document_kind=kind, document_masked=rules.masked_document(kind, number),
                  document_digest=_digest(kind, number), verified_by=actor.name, verified_at=now,
                  filing_no=None, filed_by=None, filed_at=None, agreement_version=None,
                  agreement_accepted_at=None, revoked_by=None, revoked_at=None,
                  revoke_reason=None, modified=now)
    try:
        with model.Session.begin_nested():
            if existing is None:
                row_id = str(uuid.uuid4())
                model.Session.execute(t.insert().values(id=row_id, user_id=user.id,
                                                        created=now, **values))
            else:
                row_id = existing["id"]
                model.Session.execute(t.update().where(t.c.id == row_id).values(**values))
    except IntegrityError:
        raise DomainError("document_number", "该证件已登记给另一个账号",
                          "This identity document is registered to another account") from None
    row = get(row_id)
    audit.record(actor.name, "sanyi_processor_register", "data_processor", row_id,
                 before=_audited(existing), after=_audited(row))
    return row


def _change(actor: model.User, action: str, row: dict[str, Any],
            values: dict[str, Any]) -> dict[str, Any]:
    values["modified"] = clock.now_utc()
    model.Session.execute(t.update().where(t.c.id == row["id"]).values(**values))
    after = get(row["id"])
    audit.record(actor.name, action, "data_processor", row["id"], before=_audited(row),
                 after=_audited(after))
    return after


def _target(data: dict[str, Any]) -> dict[str, Any]:
    """The registration named by ``id`` or by ``user``, locked."""
    if data.get("id"):
        return get(rules.clean_text(data["id"], "id", "标识", "Id", max_len=100), lock=True)
    user = target_user(data.get("user"))
    row = for_user(user, lock=True)
    if row is None:
        raise NotFound("user", f"{user.name} 没有数据加工处理人员登记",
                       f"{user.name} has no registration as a data processor")
    return row


def file(actor: model.User, data: dict[str, Any]) -> dict[str, Any]:
    """Record the filing with the bureau (``filing_no``) of a pending registration."""
    number = rules.filing_no(data.get("filing_no"))
    row = _target(data)
    if row["user_id"] == actor.id:
        raise DomainError("user", "不能为本人备案", "You cannot file your own registration")
    rules.check_file(row["status"])
    return _change(actor, "sanyi_processor_file", row,
                   {"filing_no": number, "filed_by": actor.name, "filed_at": clock.now_utc()})


def accept_agreement(user: model.User, version: Any) -> dict[str, Any]:
    """The person accepts ``version`` of the confidentiality agreement; the registration
    becomes active."""
    row = for_user(user, lock=True)
    rules.check_accept(row, version)
    assert row is not None
    return _change(user, "sanyi_processor_accept_agreement", row,
                   {"agreement_version": rules.AGREEMENT_VERSION,
                    "agreement_accepted_at": clock.now_utc(), "status": "active"})


def revoke(actor: model.User, data: dict[str, Any]) -> dict[str, Any]:
    """Revoke a registration (``reason`` required)."""
    row = _target(data)
    reason = rules.check_revoke(row["status"], data.get("reason"))
    return _change(actor, "sanyi_processor_revoke", row,
                   {"status": "revoked", "revoked_by": actor.name,
                    "revoked_at": clock.now_utc(), "revoke_reason": reason})


def list_processors(status: str | None = None, limit: int = 50,
                    offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    stmt = sa.select(t)
    count = sa.select(sa.func.count()).select_from(t)
    if status:
        stmt, count = stmt.where(t.c.status == status), count.where(t.c.status == status)
    total = int(model.Session.execute(count).scalar_one())
    rows = model.Session.execute(stmt.order_by(t.c.created.desc(), t.c.id)
                                 .limit(limit).offset(offset)).mappings()
    return total, [dict(r) for r in rows]


# -- demo -----------------------------------------------------------------------------------
DEMO_ACCOUNT = ("processor", "Sanyi-processor-2026", "数据加工处理人员 Data processor")
_DEMO_IDENTITY = {"real_name": "李明", "document_kind": "resident_id_card",
                  "document_number": "420802199001011234",
                  "employer": "健康保险科技有限公司"}
_DEMO_FILING = "荆数备〔2026〕第001号"


def load_demo(echo: Callable[[str], None] = print) -> None:
    """The demo data processor ``processor``: identity verified by the operator's demo
    account, filed by the bureau's, agreement accepted (idempotent)."""
    import ckan.plugins.toolkit as tk
    name, password, fullname = DEMO_ACCOUNT
    if model.User.get(name) is None:
        tk.get_action("user_create")({"ignore_auth": True}, {
            "name": name, "password": password, "fullname": fullname,
            "email": f"{name}@sanyi.example.cn"})
    user = model.User.get(name)
    operator = model.User.get("operator") or model.User.get(
        tk.get_action("get_site_user")({"ignore_auth": True}, {})["name"])
    bureau = model.User.get("bureau") or operator
    row = for_user(user)
    if row is None or row["status"] == "revoked":
        row = register(operator, {"user": name, **_DEMO_IDENTITY})
    if row["status"] == "pending" and not row["filing_no"]:
        row = file(bureau, {"id": row["id"], "filing_no": _DEMO_FILING})
    if not rules.qualifies(row):
        row = accept_agreement(user, rules.AGREEMENT_VERSION)
    model.Session.commit()
    echo(f"数据加工处理人员 / data processor: {name} ({rules.STATUS_TEXT[row['status']][0]})")
    if tk.config.get("ckanext.sanyi.demo_passwords"):
        echo(f"  {name:<10} {password:<22} {fullname}")
