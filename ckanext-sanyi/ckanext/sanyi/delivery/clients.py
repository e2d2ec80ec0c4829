"""API clients of entitlements and their access tokens; the gateway's token check.

* A merchant creates clients for one of its entitlements while it is active and today
  (Asia/Shanghai) is within its period. ``client_id`` is public (``sanyi_`` + 24 URL-safe
  characters); the secret (256 random bits) is answered once and kept only as a slow hash
  (passlib: argon2 when its backend is installed, else PBKDF2-SHA256 at
  :data:`PBKDF2_ROUNDS`, about 50-100 ms a check).
* Rotation replaces the secret: the old one stops at once and every token of the client is
  revoked. Revocation (the merchant, or the bureau) is final and revokes the tokens too.
* Access tokens (256 random bits, URL-safe) are stored as their SHA-256 only; they live
  ``ckanext.sanyi.delivery.token_ttl`` seconds (default 3600).
* :func:`authenticate_bearer` is the gateway's check of a call's token: one query by primary
  key, joined with the client and the entitlement, nothing cached, so revoking a token or a
  client, or suspending, revoking or expiring the entitlement, is seen by the next call.

Scopes: see :mod:`ckanext.sanyi.domain.api_scope` (``<product_name>`` for every operation of
the entitlement's product, ``<product_name>:<operation>`` for one).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from passlib.context import CryptContext
from passlib.hash import argon2

from ..applications import access, entitlements
from ..applications.model import entitlement_table as et
from ..common import audit, clock, roles
from ..common.ids import id_problem
from ..domain import api_scope
from ..domain.approval_model import RefusalKind, TransitionRefused
from ..domain.errors import DomainError, Errors, NotFound
from .model import client_table as ct
from .model import token_table as tt

__all__ = ["TokenInfo", "authenticate_bearer", "create", "rotate", "revoke", "list_clients",
           "get", "as_dict", "find_client", "verify_secret", "hash_secret", "issue_token",
           "revoke_token", "introspect", "token_ttl", "entitlement_refusal",
           "entitlement_scopes", "product_operations", "token_hash", "MAX_CLIENTS",
           "STATUS_TEXT", "ENTITLEMENT_REFUSALS"]

log = logging.getLogger(__name__)
PBKDF2_ROUNDS = 150_000
MAX_CLIENTS = 10  # active clients per entitlement
MAX_NAME = 100
STATUS_TEXT = {"active": ("有效", "active"), "revoked": ("已撤销", "revoked")}
ENTITLEMENT_REFUSALS = {
    "entitlement_inactive": ("授权当前不可用（已暂停、已撤销或已到期）",
                             "The entitlement is not active (suspended, revoked or expired)"),
    "outside_period": ("今天不在授权期限内", "Today is outside the entitlement's period"),
}
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,200}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# -- secrets and tokens -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _hasher() -> CryptContext:
    scheme = "argon2" if argon2.has_backend() else "pbkdf2_sha256"
    return CryptContext(schemes=[scheme, "pbkdf2_sha256"] if scheme == "argon2" else [scheme],
                        default=scheme, pbkdf2_sha256__rounds=PBKDF2_ROUNDS)


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return hash_secret(secrets.token_urlsafe(32))


def verify_secret(secret: Any, secret_hash: str | None) -> bool:
    """Does ``secret`` match ``secret_hash``? Without a hash (unknown client) a decoy is
    checked, so that an unknown client id takes as long as a wrong secret."""
    if not isinstance(secret, str) or not secret or len(secret) > 200:
        secret = ""
    try:
        if secret_hash is None:
            _hasher().verify(secret or "-", _decoy_hash())
            return False
        return bool(secret) and _hasher().verify(secret, secret_hash)
    except (ValueError, TypeError):
        return False


def new_client_id() -> str:
    return "sanyi_" + secrets.token_urlsafe(18)  # 24 characters


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def token_ttl() -> int:
    """Seconds an access token lives (``ckanext.sanyi.delivery.token_ttl``, 60..86400)."""
    try:
        value = int(tk.config.get("ckanext.sanyi.delivery.token_ttl") or 3600)
    except (TypeError, ValueError):
        value = 3600
    return max(60, min(value, 86400))


# -- entitlements and scopes --------------------------------------------------------------------
def entitlement_refusal(status: str, period_start: dt.date, period_end: dt.date,
                        today: dt.date | None = None) -> str | None:
    """Why an entitlement cannot be used today: ``entitlement_inactive`` (not active),
    ``outside_period``; None when it can."""
    if status != "active":
        return "entitlement_inactive"
    today = today or clock.today()
    if not period_start <= today <= period_end:
        return "outside_period"
    return None


def product_operations(product_name: str) -> list[str]:
    """Names of the operations of a product (the product's name, as in the entitlement), from
    the operation definitions (``delivery.operations.spec``: ``operations_of(product_name)``).
    Without them only the product-wide scope exists."""
    try:
        from .operations import spec
    except ModuleNotFoundError as err:
        if err.name not in (f"{__package__}.operations", f"{__package__}.operations.spec"):
            raise
        return []
    try:
        return sorted(op.name for op in spec.operations_of(product_name))
    except Exception:  # a failing lookup leaves the product-wide scope, not a failed request
        log.exception("operations of %s could not be read", product_name)
        return []


def entitlement_scopes(ent: dict[str, Any]) -> list[str]:
    """Every scope an entitlement's clients may be granted."""
    return api_scope.allowed(ent["product_name"], product_operations(ent["product_name"]))


# -- the gateway's check ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a live access token stands for: its client, entitlement and scopes (read in the
    same query as the token, at the time of the call)."""

    client_pk: str            # sanyi_api_client.id
    client_id: str            # public client id
    client_name: str
    merchant_id: str
    entitlement_id: str
    application_id: str
    product_id: str
    product_name: str
    scopes: frozenset[str]
    issued_at: dt.datetime
    expires_at: dt.datetime
    entitlement_status: str   # active | suspended | expired | revoked
    period_start: dt.date
    period_end: dt.date
    purpose: str
    use: str
    data_items: tuple[str, ...]
    quota: int
    quota_unit: str

    def covers(self, product_name: str, operation: str) -> bool:
        """Does the token's scope cover ``operation`` of ``product_name``?"""
        return product_name == self.product_name and \
            api_scope.covers(self.scopes, product_name, operation)

    def refusal(self, today: dt.date | None = None) -> str | None:
        """``entitlement_inactive`` / ``outside_period`` / None (see :func:`entitlement_refusal`)."""
        return entitlement_refusal(self.entitlement_status, self.period_start, self.period_end,
                                   today)


_BEARER_COLUMNS = (tt.c.scope, tt.c.issued_at, tt.c.expires_at, tt.c.revoked_at,
                   ct.c.id.label("client_pk"), ct.c.client_id, ct.c.name, ct.c.status,
                   ct.c.merchant_id, et.c.id.label("entitlement_id"), et.c.application_id,
                   et.c.product_id, et.c.product_name, et.c.status.label("entitlement_status"),
                   et.c.period_start, et.c.period_end, et.c.purpose, et.c.use, et.c.data_items,
                   et.c.quota, et.c.quota_unit)
_BEARER = (sa.select(*_BEARER_COLUMNS)
           .select_from(tt.join(ct, ct.c.id == tt.c.api_client_id)
                        .join(et, et.c.id == tt.c.entitlement_id))
           .where(tt.c.token_hash == sa.bindparam("h")))


def authenticate_bearer(token: Any, *, strict: bool = True,
                        now: dt.datetime | None = None) -> TokenInfo | None:
    """The token behind ``Authorization: Bearer <token>``, or None when it is not live.

    Not live: unknown, expired, revoked (RFC 7009, rotation), or its client revoked. With
    ``strict`` (the default) also None when the entitlement is not active or today is outside
    its period; ``strict=False`` answers those with their :class:`TokenInfo` so the caller can
    say why (:meth:`TokenInfo.refusal`: 403 rather than 401). One query by primary key.
    """
    if not isinstance(token, str) or not _TOKEN.match(token):
        return None
    row = model.Session.execute(_BEARER, {"h": token_hash(token)}).mappings().first()
    if row is None or row["revoked_at"] is not None or row["status"] != "active":
        return None
    now = now or clock.now_utc()
    if row["expires_at"] <= now:
        return None
    info = TokenInfo(
        client_pk=row["client_pk"], client_id=row["client_id"], client_name=row["name"],
        merchant_id=row["merchant_id"], entitlement_id=row["entitlement_id"],
        application_id=row["application_id"], product_id=row["product_id"],
        product_name=row["product_name"], scopes=frozenset(row["scope"].split()),
        issued_at=row["issued_at"], expires_at=row["expires_at"],
        entitlement_status=row["entitlement_status"], period_start=row["period_start"],
        period_end=row["period_end"], purpose=row["purpose"], use=row["use"],
        data_items=tuple(row["data_items"]), quota=int(row["quota"]),
        quota_unit=row["quota_unit"])
    if strict and info.refusal(now.astimezone(clock.local_tz()).date()) is not None:
        return None
    return info


def introspect(token: Any) -> dict[str, Any]:
    """RFC 7662's answer for ``token``: ``{"active": false}`` unless it is live and its
    entitlement usable now."""
    info = authenticate_bearer(token)
    if info is None:
        return {"active": False}
    return {"active": True, "client_id": info.client_id, "scope": " ".join(sorted(info.scopes)),
            "token_type": "Bearer", "exp": int(info.expires_at.timestamp()),
            "iat": int(info.issued_at.timestamp()), "sub": info.entitlement_id,
            "merchant": info.merchant_id, "product": info.product_name}


# -- issuing and revoking tokens (the OAuth endpoints) ------------------------------------------
def find_client(client_id: Any) -> dict[str, Any] | None:
    """The client of a public ``client_id`` with its entitlement's product, status and period
    (any status), or None."""
    if not isinstance(client_id, str) or id_problem(client_id) is not None:
        return None
    row = model.Session.execute(
        sa.select(ct, et.c.product_name, et.c.status.label("entitlement_status"),
                  et.c.period_start, et.c.period_end)
        .join(et, et.c.id == ct.c.entitlement_id).where(ct.c.client_id == client_id)
    ).mappings().first()
    return dict(row) if row else None


class StaleClient(Exception):
    """The client was rotated or revoked while its token was being issued."""


def issue_token(client: dict[str, Any], scopes: Iterable[str], token: str,
                expires_in: int) -> None:
    """Store ``token`` for ``client`` (a row of :func:`find_client` whose secret was just
    checked) and commit. The client row is read again under a share lock: a rotation or a
    revocation committed meanwhile refuses the token (:class:`StaleClient`), and one that
    comes after waits for this insert and then revokes the token with the others."""
    locked = model.Session.execute(
        sa.select(ct.c.secret_hash, ct.c.status).where(ct.c.id == client["id"])
        .with_for_update(read=True)).first()
    if locked is None or locked.status != "active" or locked.secret_hash != client["secret_hash"]:
        model.Session.rollback()
        raise StaleClient(client["client_id"])
    now = clock.now_utc()
    model.Session.execute(tt.insert().values(
        token_hash=token_hash(token), api_client_id=client["id"],
        entitlement_id=client["entitlement_id"], scope=" ".join(scopes), issued_at=now,
        expires_at=now + dt.timedelta(seconds=expires_in)))
    model.Session.commit()


def revoke_token(token: Any, client_pk: str) -> bool:
    """Revoke ``token`` if it was issued to the client ``client_pk`` (RFC 7009: anything else
    is ignored). Commits; answers whether a token was revoked."""
    if not isinstance(token, str) or not _TOKEN.match(token):
        return False
    result = model.Session.execute(
        tt.update().where(tt.c.token_hash == token_hash(token), tt.c.api_client_id == client_pk,
                          tt.c.revoked_at.is_(None)).values(revoked_at=clock.now_utc()))
    model.Session.commit()
    return bool(result.rowcount)


def _revoke_tokens_of(client_pk: str) -> int:
    result = model.Session.execute(
        tt.update().where(tt.c.api_client_id == client_pk, tt.c.revoked_at.is_(None))
        .values(revoked_at=clock.now_utc()))
    return int(result.rowcount or 0)


# -- clients ------------------------------------------------------------------------------------
def _name(value: Any, errors: Errors) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors.add(DomainError("name", "请填写客户端名称", "A client name is required"))
        return None
    if not isinstance(value, str) or _CONTROL.search(value) or id_problem(value[:200]):
        errors.add(DomainError("name", "客户端名称须为不含控制字符的文本",
                               "The client name must be text without control characters"))
        return None
    value = value.strip()
    if len(value) > MAX_NAME:
        errors.add(DomainError("name", f"客户端名称最多 {MAX_NAME} 个字符",
                               f"The client name may have at most {MAX_NAME} characters"))
        return None
    return value


def _scope(value: Any, ent: dict[str, Any], errors: Errors) -> list[str] | None:
    try:
        scopes = api_scope.parse(value)
    except DomainError as err:
        errors.add(err)
        return None
    allowed = entitlement_scopes(ent)
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        errors.add(DomainError("scope", f"授权不包含这些权限范围：{' '.join(unknown)[:200]}",
                               f"Not scopes of this entitlement: {' '.join(unknown)[:200]}"))
        return None
    return scopes or [ent["product_name"]]


def _entitlement(entitlement_id: Any, *, lock: bool = False) -> dict[str, Any]:
    if not isinstance(entitlement_id, str) or id_problem(entitlement_id) is not None:
        raise DomainError("entitlement_id", "请指定有效的授权标识",
                          "A valid entitlement id is required")
    ent = entitlements.get(entitlement_id, lock=lock)
    if ent is None:
        raise NotFound("entitlement_id", f"未找到该授权：{entitlement_id}",
                       f"Entitlement not found: {entitlement_id}")
    return ent


def _merchant_id(user: Any) -> str | None:
    merchant = access.merchant_for(user)
    return merchant["id"] if merchant else None


def _not_yours() -> TransitionRefused:
    return TransitionRefused(RefusalKind.ACTOR, "只有持有该授权的数商可以管理其接口客户端",
                             "Only the merchant holding the entitlement may manage its API clients")


def is_overseer(user: Any) -> bool:
    """Bureau or operator staff: they see every client."""
    return roles.is_bureau_staff(user) or roles.is_operator_staff(user)


def may_create(user: Any, entitlement_id: Any) -> bool:
    """Is ``user`` the merchant holding the entitlement? (True for an unknown one: the
    action then answers 404.)"""
    try:
        ent = _entitlement(entitlement_id)
    except DomainError:
        return _merchant_id(user) is not None
    merchant_id = _merchant_id(user)
    return merchant_id is not None and ent["merchant_id"] == merchant_id


def may_manage(user: Any, client_ref: Any, *, revoke: bool = False) -> bool:
    """May ``user`` rotate (the client's merchant) or revoke (the merchant, or the bureau)
    the client? True for an unknown client: the action answers 404."""
    row = get(client_ref)
    if row is None:
        return _merchant_id(user) is not None or (revoke and roles.is_bureau_staff(user))
    if revoke and roles.is_bureau_staff(user):
        return True
    return row["merchant_id"] == _merchant_id(user)


def may_list(user: Any) -> bool:
    return is_overseer(user) or _merchant_id(user) is not None


def create(user: model.User, entitlement_id: Any, name: Any, scope: Any = None, *,
           client_id: str | None = None, secret: str | None = None) -> tuple[dict[str, Any], str]:
    """A new client of an active entitlement of ``user``'s merchant; returns the row and the
    secret (the only time it is known). ``client_id``/``secret``: fixed values (the demo)."""
    ent = _entitlement(entitlement_id, lock=True)
    if ent["merchant_id"] != _merchant_id(user):
        raise _not_yours()
    refusal = entitlement_refusal(ent["status"], ent["period_start"], ent["period_end"])
    if refusal is not None:
        zh, en = ENTITLEMENT_REFUSALS[refusal]
        raise DomainError("entitlement_id", f"只能为有效期内的有效授权创建客户端：{zh}",
                          f"Clients are created only for an active entitlement within its "
                          f"period: {en}")
    errors = Errors()
    clean_name, scopes = _name(name, errors), _scope(scope, ent, errors)
    errors.check()
    active = model.Session.execute(
        sa.select(ct.c.name).where(ct.c.entitlement_id == ent["id"], ct.c.status == "active")
    ).scalars().all()
    if clean_name in active:
        raise DomainError("name", f"该授权已有名为“{clean_name}”的客户端",
                          f"The entitlement already has a client named {clean_name!r}")
    if len(active) >= MAX_CLIENTS:
        raise DomainError("entitlement_id", f"每项授权最多 {MAX_CLIENTS} 个有效客户端",
                          f"An entitlement may have at most {MAX_CLIENTS} active clients")
    secret = secret or new_secret()
    row = {"id": str(uuid.uuid4()), "client_id": client_id or new_client_id(),
           "secret_hash": hash_secret(secret), "entitlement_id": ent["id"],
           "merchant_id": ent["merchant_id"], "name": clean_name, "scope": " ".join(scopes or []),
           "status": "active", "created_by": user.name}
    model.Session.execute(ct.insert().values(**row))
    audit.record(user.name, "sanyi_client_create", "api_client", row["id"], before=None,
                 after=_audited(row))
    return _get_by_pk(row["id"]), secret


def rotate(user: model.User, client_ref: Any, *, secret: str | None = None) -> tuple[dict[str, Any], str]:
    """A new secret for the client (its merchant): the old one and every token of the client
    stop at once. Returns the row and the new secret."""
    row = _locked(client_ref)
    if row["merchant_id"] != _merchant_id(user):
        raise _not_yours()
    if row["status"] != "active":
        raise TransitionRefused(RefusalKind.STATE, "该客户端已撤销，不能更换密钥",
                                "The client is revoked; its secret cannot be replaced")
    secret = secret or new_secret()
    now = clock.now_utc()
    model.Session.execute(ct.update().where(ct.c.id == row["id"]).values(
        secret_hash=hash_secret(secret), rotated=now))
    revoked = _revoke_tokens_of(row["id"])
    audit.record(user.name, "sanyi_client_rotate", "api_client", row["id"],
                 before={"rotated": row["rotated"]},
                 after={"rotated": now, "tokens_revoked": revoked})
    return _get_by_pk(row["id"]), secret


def revoke(user: model.User, client_ref: Any, reason: Any = None) -> dict[str, Any]:
    """Revoke the client (its merchant, or the bureau) and every token of it; final."""
    row = _locked(client_ref)
    if row["merchant_id"] != _merchant_id(user) and not roles.is_bureau_staff(user):
        raise _not_yours()
    if row["status"] != "active":
        raise TransitionRefused(RefusalKind.STATE, "该客户端已撤销", "The client is already revoked")
    reason = reason.strip()[:500] if isinstance(reason, str) else None
    model.Session.execute(ct.update().where(ct.c.id == row["id"]).values(
        status="revoked", revoked_at=clock.now_utc()))
    revoked = _revoke_tokens_of(row["id"])
    audit.record(user.name, "sanyi_client_revoke", "api_client", row["id"],
                 before={"status": "active"},
                 after={"status": "revoked", "tokens_revoked": revoked, "reason": reason})
    return _get_by_pk(row["id"])


def _audited(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("client_id", "name", "entitlement_id", "merchant_id", "scope",
                                "status")}


def _lookup(client_ref: Any) -> Any:
    if not isinstance(client_ref, str) or id_problem(client_ref) is not None:
        return None
    return sa.or_(ct.c.id == client_ref, ct.c.client_id == client_ref)


def get(client_ref: Any) -> dict[str, Any] | None:
    """A client by its id or its public client id (None if none)."""
    cond = _lookup(client_ref)
    if cond is None:
        return None
    row = model.Session.execute(sa.select(ct).where(cond)).mappings().first()
    return dict(row) if row else None


def _locked(client_ref: Any) -> dict[str, Any]:
    cond = _lookup(client_ref)
    row = None if cond is None else \
        model.Session.execute(sa.select(ct).where(cond).with_for_update()).mappings().first()
    if row is None:
        raise NotFound("id", f"未找到该接口客户端：{str(client_ref)[:80]}",
                       f"API client not found: {str(client_ref)[:80]}")
    return dict(row)


def _listing() -> Any:
    return sa.select(ct, et.c.product_name, et.c.status.label("entitlement_status")) \
        .join(et, et.c.id == ct.c.entitlement_id)


def _get_by_pk(pk: str) -> dict[str, Any]:
    return dict(model.Session.execute(_listing().where(ct.c.id == pk)).mappings().one())


def list_clients(user: model.User, *, entitlement_id: str | None = None,
                 status: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[int, list[dict[str, Any]]]:
    """Clients ``user`` may see, newest first: a merchant its own, bureau and operator all."""
    conds = []
    if not is_overseer(user):
        merchant_id = _merchant_id(user)
        if merchant_id is None:
            raise TransitionRefused(RefusalKind.ACTOR, "只有数商、数据局和运营机构可以查看接口客户端",
                                    "Only merchants, the bureau and the operator see API clients")
        if entitlement_id is not None and _entitlement(entitlement_id)["merchant_id"] != merchant_id:
            raise _not_yours()
        conds.append(ct.c.merchant_id == merchant_id)
    if entitlement_id is not None:
        conds.append(ct.c.entitlement_id == entitlement_id)
    if status is not None:
        conds.append(ct.c.status == status)
    where = sa.and_(sa.true(), *conds)
    total = int(model.Session.execute(sa.select(sa.func.count()).select_from(ct).where(where))
                .scalar_one())
    rows = model.Session.execute(_listing().where(where).order_by(ct.c.created.desc(), ct.c.id)
                                 .limit(limit).offset(offset)).mappings()
    return total, [dict(r) for r in rows]


def as_dict(row: dict[str, Any]) -> dict[str, Any]:
    """What the API and the pages show of a client: never the secret nor its hash."""
    zh, en = STATUS_TEXT[row["status"]]
    return {"id": row["id"], "client_id": row["client_id"], "name": row["name"],
            "entitlement_id": row["entitlement_id"], "merchant_id": row["merchant_id"],
            "product_name": row.get("product_name"), "scope": row["scope"],
            "status": row["status"], "status_label": zh, "status_label_en": en,
            "created_by": row["created_by"],
            **{k: row[k].isoformat() if row[k] else None
               for k in ("created", "rotated", "revoked_at")}}
