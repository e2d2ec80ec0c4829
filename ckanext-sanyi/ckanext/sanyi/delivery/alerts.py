"""Over-scope supervision: alerts for the bureau, the suspension rule, the bureau's decisions.

"对超授权范围调用数据的行为自动预警，核实后立即暂停运营权限": calls beyond the authorized
scope are warned automatically; after verification the permission is suspended.

Alerts
------
The gateway calls :func:`on_refusal` for each call it refuses as ``out_of_scope``,
``data_items_exceeded``, ``quota_exhausted`` or ``suspended``. Each kind has at most one
open alert per entitlement (``sanyi_alert``): the first refusal opens it (and tells the
bureau), the next ones count on it, with the first and last time and the last operation.

The suspension rule (configurable)
----------------------------------
* ``ckanext.sanyi.delivery.suspend_after`` over-scope refusals (``out_of_scope`` and
  ``data_items_exceeded`` together; default 5, 0 = never) within
  ``ckanext.sanyi.delivery.suspend_window`` seconds (default 600);
* with ``ckanext.sanyi.delivery.suspend_on_quota_retry`` (default true): a call refused
  ``quota_exhausted`` after an earlier one was already answered so (the merchant was told:
  the 429, and a notification, at the first).

Either puts an active entitlement into 暂停待核实 (suspended pending verification) through
the application lifecycle (:func:`..applications.lifecycle.suspend_pending_verification`:
the application's trace, the merchant and the bureau notified); its calls are then refused
``suspended`` (the gateway reads :func:`suspension_of`). Each refusal first locks the
entitlement's row of ``sanyi_alert_watch``, so refusals of one entitlement are counted one
after another, whatever process answers them: two processes raising the fifth refusal at
once suspend once.

The bureau's decision (:func:`resolve`)
---------------------------------------
``confirm`` (核实确认): the entitlement stays suspended (an active one is suspended now),
the application's trace records the decision; ``dismiss`` (核实无误): a suspension by the
rule is lifted (lifecycle ``resume``) and the rule starts counting afresh; ``revoke``: the
entitlement is revoked through the lifecycle (with its refund). A decision covers every open
alert of the entitlement; each is audited.

Nothing here commits: :func:`on_refusal` writes in the caller's transaction (the one that
records the refused call in the ledger) inside a savepoint, and never raises.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..applications import access, entitlements, lifecycle, notify
from ..applications.model import entitlement_table as et
from ..applications.model import merchant_table as mt
from ..common import audit, clock, paging, roles
from ..common.i18n_text import bi
from ..common.ids import id_problem
from ..domain.approval_model import RefusalKind, TransitionRefused
from ..domain.errors import DomainError, Errors, NotFound
from .model import ALERT_DECISIONS, ALERT_KINDS, ALERT_STATUSES
from .model import alert_table as at_
from .model import watch_table as wt

__all__ = ["on_refusal", "Reaction", "suspension_of", "Suspension", "resolve", "list_alerts",
           "as_dict", "may_list", "may_resolve", "suspend_after", "suspend_window",
           "suspend_on_quota_retry", "KIND_TEXT", "DECISION_TEXT", "OVER_SCOPE",
           "SUSPENDED_TEXT", "suspended_entitlements"]

log = logging.getLogger(__name__)

OVER_SCOPE = ("out_of_scope", "data_items_exceeded")
KIND_TEXT = {
    "out_of_scope": ("超出授权范围（产品或操作）", "out of scope (product or operation)"),
    "data_items_exceeded": ("超出批准的数据项", "beyond the approved data items"),
    "quota_exhausted": ("额度已用尽后继续调用", "calls after the quota was exhausted"),
    "suspended": ("暂停期间继续调用", "calls while suspended"),
}
STATUS_TEXT = {"open": ("待核实", "open"), "resolved": ("已处理", "resolved")}
DECISION_TEXT = {"confirm": ("核实确认，保持暂停", "confirmed: stays suspended"),
                 "dismiss": ("核实无误，恢复使用", "dismissed: resumed"),
                 "revoke": ("撤销授权", "revoked")}
SUSPENDED_TEXT = {
    lifecycle.PENDING_VERIFICATION: (
        "授权已暂停待核实：发现超授权范围调用，待数据局核实", "The entitlement is suspended "
        "pending verification: calls beyond its scope were found; the data bureau verifies them"),
    "confirmed": ("授权已暂停：数据局已核实超授权范围调用",
                  "The entitlement is suspended: the data bureau confirmed calls beyond its scope"),
    "bureau": ("授权已被数据局暂停", "The entitlement was suspended by the data bureau"),
}
SUSPEND_AFTER, SUSPEND_WINDOW, QUOTA_RETRY = (
    "ckanext.sanyi.delivery.suspend_after", "ckanext.sanyi.delivery.suspend_window",
    "ckanext.sanyi.delivery.suspend_on_quota_retry")
MAX_COMMENT = 1000


# -- the rule's settings ----------------------------------------------------------------------
def _int(key: str, default: int, low: int, high: int) -> int:
    raw = tk.config.get(key)
    try:
        value = int(str(raw).strip()) if raw not in (None, "") else default
    except (TypeError, ValueError):
        log.warning("%s is not a whole number (%r): using %s", key, raw, default)
        return default
    return max(low, min(value, high))


def suspend_after() -> int:
    """Over-scope refusals within the window that suspend (0: the rule is off)."""
    return _int(SUSPEND_AFTER, 5, 0, 10_000)


def suspend_window() -> dt.timedelta:
    """The window of :func:`suspend_after`, in seconds (1..86400)."""
    return dt.timedelta(seconds=_int(SUSPEND_WINDOW, 600, 1, 86_400))


def suspend_on_quota_retry() -> bool:
    return tk.asbool(tk.config.get(QUOTA_RETRY, True))


# -- reacting to a refused call ---------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Reaction:
    """What a refusal did: the alert it counted on, and whether it opened the alert and
    whether it suspended the entitlement."""

    alert_id: int
    kind: str
    count: int
    opened: bool
    suspended: bool


def _get(info: Any, name: str) -> Any:
    return info.get(name) if isinstance(info, Mapping) else getattr(info, name, None)


def _utc(value: dt.datetime | None) -> dt.datetime:
    value = value or clock.now_utc()
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def on_refusal(token_info: Any, code: str, at: dt.datetime | None = None, *,
               operation: str = "") -> Reaction | None:
    """React to a refused call of ``token_info``'s entitlement (a :class:`.clients.TokenInfo`,
    or a mapping with ``entitlement_id``): count it on its alert and apply the suspension
    rule. ``code`` is the refusal's error code (other codes than the alert kinds are ignored);
    ``at`` when it was refused (default now). Runs in a savepoint of CKAN's session (not
    committed: commit with the call's ledger row); never raises (a failure is logged and
    answers None)."""
    entitlement_id = _get(token_info, "entitlement_id")
    if code not in ALERT_KINDS or not isinstance(entitlement_id, str) or not entitlement_id:
        return None
    when = _utc(at)
    try:
        with model.Session.begin_nested():
            return _react(entitlement_id, code, when, str(operation or "")[:200])
    except Exception:
        log.exception("supervision of refusal %s of entitlement %s failed", code, entitlement_id)
        return None


def _watch(entitlement_id: str) -> dict[str, Any]:
    """The entitlement's watch row, created if missing, locked until the transaction ends."""
    model.Session.execute(pg_insert(wt)
                          .values(entitlement_id=entitlement_id, recent=[])
                          .on_conflict_do_nothing(index_elements=["entitlement_id"]))
    return dict(model.Session.execute(
        sa.select(wt).where(wt.c.entitlement_id == entitlement_id).with_for_update()
    ).mappings().one())


def _react(entitlement_id: str, code: str, when: dt.datetime, operation: str) -> Reaction | None:
    if entitlements.get(entitlement_id) is None:
        return None
    watch = _watch(entitlement_id)
    ent = entitlements.get(entitlement_id)  # read again under the lock: the status now
    if ent is None:  # pragma: no cover - entitlements are never deleted
        return None
    alert = model.Session.execute(
        sa.select(at_).where(at_.c.entitlement_id == entitlement_id, at_.c.kind == code,
                             at_.c.status == "open").with_for_update()).mappings().first()
    opened = alert is None
    if opened:
        alert_id = int(model.Session.execute(at_.insert().values(
            entitlement_id=entitlement_id, application_id=ent["application_id"],
            merchant_id=ent["merchant_id"], product=ent["product_name"], kind=code,
            status="open", count=1, first_at=when, last_at=when, last_operation=operation,
            suspended=False).returning(at_.c.id)).scalar_one())
        count = 1
        _tell_bureau(ent, code, alert_id)
    else:
        alert_id, count = int(alert["id"]), int(alert["count"]) + 1
        model.Session.execute(at_.update().where(at_.c.id == alert_id).values(
            count=count, first_at=sa.func.least(at_.c.first_at, when),
            last_at=sa.func.greatest(at_.c.last_at, when), last_operation=operation))
    changes: dict[str, Any] = {}
    reason: tuple[str, str] | None = None
    if code in OVER_SCOPE and suspend_after() > 0:
        n, window = suspend_after(), suspend_window()
        recent = sorted([*watch["recent"], when])[-n:]
        changes["recent"] = recent
        if len(recent) >= n and recent[-1] - recent[0] <= window:
            reason = (f"{_span_zh(window)}内 {n} 次超授权范围调用",
                      f"{n} calls beyond the authorized scope within {_span_en(window)}")
    elif code == "quota_exhausted" and suspend_on_quota_retry():
        if watch["quota_told_at"] is None:
            changes["quota_told_at"] = when
            _tell_quota_exhausted(ent)
        else:
            reason = ("额度用尽并已告知后继续调用", "calls went on after the merchant was told "
                      "the quota is exhausted")
    suspended = False
    if reason is not None and ent["status"] == "active":
        done = lifecycle.suspend_pending_verification(entitlement_id, _system(),
                                                      bi(*reason))
        if done is not None:
            suspended = True
            changes.update(suspended_at=when, suspended_alert_id=alert_id, reason=bi(*reason),
                           confirmed_at=None)
            model.Session.execute(at_.update().where(at_.c.id == alert_id)
                                  .values(suspended=True))
            audit.record(_system(), "sanyi_alert_suspend", "alert", str(alert_id),
                         before={"entitlement_status": "active"},
                         after={"entitlement_id": entitlement_id, "kind": code, "count": count,
                                "entitlement_status": "suspended", "reason": bi(*reason)})
    if changes:
        model.Session.execute(wt.update().where(wt.c.entitlement_id == entitlement_id)
                              .values(updated=clock.now_utc(), **changes))
    return Reaction(alert_id, code, count, opened, suspended)


def _system() -> str:
    """The site user's name (``ckan.site_id``), read without ``get_site_user``, which may
    create the user and commit in the middle of the caller's transaction."""
    return str(tk.config.get("ckan.site_id") or "default")


def _span_zh(window: dt.timedelta) -> str:
    seconds = int(window.total_seconds())
    return f"{seconds // 60} 分钟" if seconds % 60 == 0 else f"{seconds} 秒"


def _span_en(window: dt.timedelta) -> str:
    seconds = int(window.total_seconds())
    return f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"


def _title(ent: dict[str, Any]) -> str:
    return ent["product_name"]


def _tell_bureau(ent: dict[str, Any], kind: str, alert_id: int) -> None:
    zh, en = KIND_TEXT[kind]
    notify.notify(access.bureau_user_ids(), "alert", str(alert_id),
                  f"超范围调用预警：{_title(ent)}（{zh}）",
                  f"Over-scope alert: {_title(ent)} ({en})", "/bureau/delivery")


def _merchant_user_ids(ent: dict[str, Any]) -> list[str]:
    row = model.Session.execute(sa.select(mt.c.user_id).where(mt.c.id == ent["merchant_id"])).first()
    return [row.user_id] if row else []


def _tell_quota_exhausted(ent: dict[str, Any]) -> None:
    notify.notify(_merchant_user_ids(ent), "entitlement", ent["id"],
                  f"授权额度已用尽：{_title(ent)}。继续调用将导致授权暂停待核实",
                  f"The quota of your authorization is exhausted: {_title(ent)}. Further calls "
                  "suspend the authorization pending verification", "/merchant/entitlements")


# -- what the gateway asks --------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Suspension:
    """Why an entitlement is suspended: ``pending_verification`` (the rule, not yet
    verified), ``confirmed`` (the bureau confirmed the rule's suspension) or ``bureau`` (the
    bureau suspended it by hand)."""

    entitlement_id: str
    kind: str
    since: dt.datetime | None
    reason: str | None
    alert_id: int | None

    @property
    def message(self) -> tuple[str, str]:
        """The refusal's message (zh, en)."""
        return SUSPENDED_TEXT[self.kind]


def suspension_of(entitlement_id: Any) -> Suspension | None:
    """The suspension of a suspended entitlement, None for any other (one query)."""
    if not isinstance(entitlement_id, str) or id_problem(entitlement_id) is not None:
        return None
    row = model.Session.execute(
        sa.select(et.c.status, et.c.modified, wt.c.suspended_at, wt.c.suspended_alert_id,
                  wt.c.reason, wt.c.confirmed_at)
        .select_from(et.outerjoin(wt, wt.c.entitlement_id == et.c.id))
        .where(et.c.id == entitlement_id)).first()
    if row is None or row.status != "suspended":
        return None
    if row.suspended_at is None:
        return Suspension(entitlement_id, "bureau", row.modified, None, None)
    kind = "confirmed" if row.confirmed_at else lifecycle.PENDING_VERIFICATION
    return Suspension(entitlement_id, kind, row.suspended_at, row.reason,
                      row.suspended_alert_id)


# -- who may do what --------------------------------------------------------------------------
def _overseer(user: Any) -> bool:
    return roles.is_bureau_staff(user) or roles.is_operator_staff(user)


def may_list(user: Any) -> bool:
    """Bureau and operator staff (all alerts) and merchants (their own)."""
    return _overseer(user) or access.merchant_for(user) is not None


def may_resolve(user: Any) -> bool:
    return roles.is_bureau_staff(user)


# -- listing ----------------------------------------------------------------------------------
def _choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], errors: Errors,
            zh: str, en: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or value not in allowed:
        errors.add(DomainError(key, f"{zh}须为 {'、'.join(allowed)} 之一：{str(value)[:50]!r}",
                               f"{en} must be one of {', '.join(allowed)}: {str(value)[:50]!r}"))
        return None
    return value


def _id(data: Mapping[str, Any], key: str, errors: Errors) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    problem = id_problem(value)
    if problem:
        errors.add(DomainError(key, f"标识无效：{key}", f"invalid identifier: {key}"))
        return None
    return str(value).strip()


_LISTING = (sa.select(at_, et.c.status.label("entitlement_status"), mt.c.company_name)
            .select_from(at_.join(et, et.c.id == at_.c.entitlement_id)
                         .outerjoin(mt, mt.c.id == at_.c.merchant_id)))


def list_alerts(user: Any, data: Mapping[str, Any]) -> dict[str, Any]:
    """``{"count", "results"}``: the alerts ``user`` may see (bureau and operator: all; a
    merchant: its own), newest activity first. Filters: ``status`` (open | resolved),
    ``kind``, ``entitlement_id``, ``merchant_id``; ``limit`` (≤ 100, default 50), ``offset``."""
    if not may_list(user):
        raise TransitionRefused(RefusalKind.ACTOR, "只有数商、数据局和运营机构可以查看预警",
                                "Only merchants, the bureau and the operator see alerts")
    errors = Errors()
    status = _choice(data, "status", ALERT_STATUSES, errors, "状态", "status")
    kind = _choice(data, "kind", ALERT_KINDS, errors, "预警类型", "kind")
    entitlement_id = _id(data, "entitlement_id", errors)
    merchant_id = _id(data, "merchant_id", errors)
    errors.check()
    page = paging.page(data, default_limit=50, max_limit=100)
    conds = []
    if not _overseer(user):
        merchant = access.merchant_for(user) or {"id": ""}
        conds.append(at_.c.merchant_id == merchant["id"])
    for column, value in ((at_.c.status, status), (at_.c.kind, kind),
                          (at_.c.entitlement_id, entitlement_id),
                          (at_.c.merchant_id, merchant_id)):
        if value is not None:
            conds.append(column == value)
    where = sa.and_(sa.true(), *conds)
    total = int(model.Session.execute(
        sa.select(sa.func.count()).select_from(at_).where(where)).scalar_one())
    rows = model.Session.execute(_LISTING.where(where)
                                 .order_by(at_.c.last_at.desc(), at_.c.id.desc())
                                 .limit(page.limit).offset(page.offset)).mappings()
    return {"count": total, "results": [as_dict(r) for r in rows]}


def as_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "entitlement_id", "application_id", "merchant_id",
                               "product", "kind", "status", "count", "last_operation",
                               "suspended", "decision", "decided_by", "comment")}
    zh, en = KIND_TEXT[row["kind"]]
    szh, sen = STATUS_TEXT[row["status"]]
    dzh, den = DECISION_TEXT.get(row["decision"] or "", (None, None))
    ezh, een = entitlements.STATUS_TEXT.get(row.get("entitlement_status") or "", ("", ""))
    out.update(kind_label=zh, kind_label_en=en, status_label=szh, status_label_en=sen,
               decision_label=dzh, decision_label_en=den,
               entitlement_status=row.get("entitlement_status"),
               entitlement_status_label=ezh, entitlement_status_label_en=een,
               company_name=row.get("company_name"),
               **{k: row[k].isoformat() if row[k] else None
                  for k in ("first_at", "last_at", "decided_at")},
               **{f"{k}_local": clock.format_datetime(row[k])
                  for k in ("first_at", "last_at", "decided_at")})
    return out


def suspended_entitlements(limit: int = 100) -> list[dict[str, Any]]:
    """Suspended entitlements, most recent first, each with its suspension's kind (bureau
    page)."""
    rows = model.Session.execute(
        sa.select(et, mt.c.company_name, wt.c.suspended_at, wt.c.reason, wt.c.confirmed_at)
        .select_from(et.join(mt, mt.c.id == et.c.merchant_id)
                     .outerjoin(wt, wt.c.entitlement_id == et.c.id))
        .where(et.c.status == "suspended").order_by(et.c.modified.desc(), et.c.id)
        .limit(limit)).mappings()
    out = []
    for r in rows:
        kind = ("bureau" if r["suspended_at"] is None else
                "confirmed" if r["confirmed_at"] else lifecycle.PENDING_VERIFICATION)
        zh, en = SUSPENDED_TEXT[kind]
        out.append(dict(entitlements.as_dict(r), company_name=r["company_name"],
                        suspension=kind, suspension_label=zh, suspension_label_en=en,
                        suspension_reason=r["reason"],
                        suspended_at_local=clock.format_datetime(r["suspended_at"] or r["modified"])))
    return out


# -- the bureau's decision --------------------------------------------------------------------
def _bad_text(text: str) -> bool:
    """NUL, a lone surrogate or another control character (newlines and tabs allowed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return any(ord(c) < 32 and c not in "\n\r\t" for c in text) or "\x7f" in text


def _comment(value: Any, decision: str | None, errors: Errors) -> str:
    if value is not None and not isinstance(value, str):
        errors.add(DomainError("comment", "核实意见须为文本", "the comment must be text"))
        return ""
    text = (value or "").strip()
    if _bad_text(text):
        errors.add(DomainError("comment", "核实意见含有无效字符",
                               "the comment holds characters that are not allowed"))
    elif len(text) > MAX_COMMENT:
        errors.add(DomainError("comment", f"核实意见最多 {MAX_COMMENT} 字",
                               f"the comment may have at most {MAX_COMMENT} characters"))
    elif not text and decision in ("confirm", "revoke"):
        errors.add(DomainError("comment", "请填写核实意见（确认暂停或撤销授权时必填）",
                               "a comment is required to confirm the suspension or to revoke"))
    return text


def resolve(user: model.User, alert_id: Any, decision: Any, comment: Any = None) -> dict[str, Any]:
    """The bureau's decision on an open alert, covering every open alert of its entitlement
    (see the module doc). Returns ``{"alert", "resolved", "entitlement"}``. Writes in CKAN's
    session, not committed."""
    if not may_resolve(user):
        raise TransitionRefused(RefusalKind.ACTOR, "只有数据局可以处理预警",
                                "Only the data bureau may decide on alerts")
    errors = Errors()
    if not isinstance(alert_id, (str, int)) or isinstance(alert_id, bool) \
            or not str(alert_id).strip().isdigit() or len(str(alert_id).strip()) > 18:
        errors.add(DomainError("id", "请指定有效的预警编号", "a valid alert id is required"))
    if decision not in ALERT_DECISIONS:
        errors.add(DomainError("decision", "处理决定须为 confirm（确认暂停）、dismiss（解除）或 "
                               "revoke（撤销授权）", "decision must be confirm, dismiss or revoke"))
    text = _comment(comment, decision if decision in ALERT_DECISIONS else None, errors)
    errors.check()
    found = model.Session.execute(sa.select(at_).where(at_.c.id == int(str(alert_id).strip()))
                                  ).mappings().first()
    if found is None:
        raise NotFound("id", f"未找到该预警：{alert_id}", f"Alert not found: {alert_id}")
    watch = _watch(found["entitlement_id"])  # the rule's order: watch row, alerts, lifecycle
    open_alerts = [dict(r) for r in model.Session.execute(
        sa.select(at_).where(at_.c.entitlement_id == found["entitlement_id"],
                             at_.c.status == "open").order_by(at_.c.id).with_for_update())
        .mappings()]
    if not any(a["id"] == found["id"] for a in open_alerts):
        raise TransitionRefused(RefusalKind.STATE, "该预警已处理", "The alert was already decided")
    ent = entitlements.get(found["entitlement_id"])
    if ent is None:  # pragma: no cover - entitlements are never deleted
        raise NotFound("id", "未找到预警所属的授权", "The alert's entitlement was not found")
    by_rule = watch["suspended_at"] is not None and ent["status"] == "suspended"
    now = clock.now_utc()
    if decision == "confirm":
        if ent["status"] == "active":
            lifecycle.change(user, "suspend", entitlement_id=ent["id"], reason=text)
        if by_rule:
            model.Session.execute(wt.update().where(wt.c.entitlement_id == ent["id"])
                                  .values(confirmed_at=now, updated=now))
    elif decision == "dismiss":
        if by_rule:
            lifecycle.change(user, "resume", entitlement_id=ent["id"], reason=text or None)
        model.Session.execute(wt.update().where(wt.c.entitlement_id == ent["id"]).values(
            recent=[], quota_told_at=None, suspended_at=None, suspended_alert_id=None,
            reason=None, confirmed_at=None, updated=now))
    else:
        lifecycle.change(user, "revoke", entitlement_id=ent["id"], reason=text)
    after = entitlements.get(ent["id"]) or ent
    ids = [a["id"] for a in open_alerts]
    model.Session.execute(at_.update().where(at_.c.id.in_(ids)).values(
        status="resolved", decision=decision, decided_by=user.name, decided_at=now,
        comment=text or None))
    for a in open_alerts:
        audit.record(user.name, "sanyi_alert_resolve", "alert", str(a["id"]),
                     before={"status": "open", "count": a["count"], "kind": a["kind"]},
                     after={"status": "resolved", "decision": decision, "comment": text,
                            "entitlement_status": after["status"]})
    audit.record(user.name, f"sanyi_alert_{decision}", "application", ent["application_id"],
                 before={"entitlement_status": ent["status"]},
                 after={"decision": decision, "comment": text, "entitlement_id": ent["id"],
                        "entitlement_status": after["status"], "alerts": ids,
                        "kinds": sorted({a["kind"] for a in open_alerts}),
                        "calls": sum(int(a["count"]) for a in open_alerts)})
    dzh, den = DECISION_TEXT[decision]
    notify.notify(_merchant_user_ids(ent), "application", ent["application_id"],
                  f"数据局已核实超范围调用预警：{dzh}（{_title(ent)}）",
                  f"The data bureau decided on the over-scope alert: {den} ({_title(ent)})",
                  f"/application/{ent['application_id']}")
    row = model.Session.execute(_LISTING.where(at_.c.id == found["id"])).mappings().one()
    return {"alert": as_dict(row), "resolved": ids, "entitlement": entitlements.as_dict(after)}
