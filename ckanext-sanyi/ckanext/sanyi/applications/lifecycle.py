"""After approval: the bureau suspends, resumes or revokes; the daily job expires.

* ``suspend``/``resume``/``revoke`` (bureau) act on an entitlement, or for ``revoke`` on an
  application that has none yet (``awaiting_payment``, ``paid``). Reason required for
  suspend and revoke (the domain's rule).
* Revoking an application with an order or a payment calls
  ``payments.refund_for_application`` in the same transaction (it refunds a paid order and
  cancels an unpaid one; a failure refuses the revocation).
* ``expire_due(today)`` expires every active or suspended entitlement whose ``period_end``
  is before ``today``, each in its own transaction; running it again changes nothing.

* ``suspend_pending_verification`` (the system, for the delivery gateway's supervision
  rule): an active entitlement is suspended pending the bureau's verification (暂停待核实,
  kind ``pending_verification`` in its audit record); the merchant and the bureau are told.

Each change fires the application's event (``domain.approval``), updates the entitlement,
and appends audit records for both.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ..common import audit, signals
from ..domain.approval import Actor, Event, RefusalKind, Role, TransitionRefused
from . import access, entitlements, notify, service
from .forms import NotFound
from .model import entitlement_table as et

__all__ = ["change", "expire_due", "suspend_pending_verification", "OPS",
           "PENDING_VERIFICATION"]

log = logging.getLogger(__name__)
OPS = {"suspend": (Event.SUSPEND, "suspended", "授权已被暂停", "Your authorization was suspended"),
       "resume": (Event.RESUME, "active", "授权已恢复", "Your authorization was resumed"),
       "revoke": (Event.REVOKE, "revoked", "授权已被撤销", "Your authorization was revoked")}
PENDING_VERIFICATION = "pending_verification"  # the kind of a suspension by the system


def _update_entitlement(ent: dict[str, Any] | None, status: str, actor_name: str,
                        reason: str | None, kind: str | None = None) -> dict[str, Any] | None:
    if ent is None:
        return None
    ended = sa.func.clock_timestamp() if status in ("expired", "revoked") else None
    model.Session.execute(et.update().where(et.c.id == ent["id"]).values(
        status=status, ended=ended, modified=sa.func.clock_timestamp()))
    after = {"status": status, "reason": reason, "application_id": ent["application_id"]}
    audit.record(actor_name, f"sanyi_entitlement_{status}", "entitlement", ent["id"],
                 before={"status": ent["status"]}, after=dict(after, kind=kind) if kind else after)
    return entitlements.get(ent["id"])


def change(user: model.User, op: str, *, entitlement_id: str | None = None,
           application_id: str | None = None, reason: str | None = None) -> dict[str, Any]:
    """Suspend, resume or revoke (bureau). Returns ``{"application", "entitlement", "refund"}``."""
    event, status, zh, en = OPS[op]
    if not access.is_bureau(user):
        raise TransitionRefused(RefusalKind.ACTOR, "只有数据局可以暂停、恢复或撤销授权",
                                "Only the bureau may suspend, resume or revoke an authorization")
    if entitlement_id:
        ent = entitlements.get(entitlement_id)
        if ent is None:
            raise NotFound("id", f"未找到该授权：{entitlement_id}",
                           f"Entitlement not found: {entitlement_id}")
        application_id = ent["application_id"]
    app = service.lock(application_id or "")
    found = entitlements.for_application(app["id"])
    ent = entitlements.get(found["id"], lock=True) if found else None
    after, tr = service.apply_event(app, event, Actor(Role.BUREAU, user.id), user.name, reason,
                                    **({"decided": sa.func.clock_timestamp()}
                                       if op == "revoke" else {}))
    ent = _update_entitlement(ent, status, user.name, tr.reason)
    refund = None
    if op == "revoke" and (app["payment_ref"] or app["order_id"]):
        refund = signals.answer(signals.application_revoked, app["id"], actor=user.name,
                                reason=tr.reason or "")
        audit.record(user.name, "sanyi_refund_requested", "application", app["id"],
                     before=None, after={"refund": refund, "payment_ref": app["payment_ref"],
                                         "order_id": app["order_id"]})
    notify.notify([app["applicant_id"]], "application", app["id"],
                  f"{zh}：{app['product_title']}" + (f"（{tr.reason}）" if tr.reason else ""),
                  f"{en}: {app['product_title']}" + (f" ({tr.reason})" if tr.reason else ""),
                  f"/application/{app['id']}")
    return {"application": after, "entitlement": ent, "refund": refund}


def suspend_pending_verification(entitlement_id: str, actor_name: str,
                                 reason: str) -> dict[str, Any] | None:
    """Suspend an active entitlement pending the bureau's verification (暂停待核实), as the
    system (``actor_name``, the site user): the application's ``suspend`` event, the
    entitlement's audit record of kind :data:`PENDING_VERIFICATION`, the merchant and the
    bureau notified. Returns ``{"application", "entitlement"}``, or None when the entitlement
    is not active (then nothing changes). Writes in the caller's transaction."""
    found = entitlements.get(entitlement_id)
    if found is None or found["status"] != "active":
        return None
    app = service.lock(found["application_id"])
    ent = entitlements.get(found["id"], lock=True)
    if ent is None or ent["status"] != "active":
        return None
    after, tr = service.apply_event(app, Event.SUSPEND, Actor(Role.SYSTEM, actor_name),
                                    actor_name, reason)
    ent = _update_entitlement(ent, "suspended", actor_name, tr.reason, PENDING_VERIFICATION)
    title = app["product_title"] or app["product_name"]
    link = f"/application/{app['id']}"
    notify.notify([app["applicant_id"]], "application", app["id"],
                  f"授权已暂停待核实：{title}（{tr.reason}）",
                  f"Your authorization is suspended pending verification: {title} ({tr.reason})",
                  link)
    notify.notify(access.bureau_user_ids(), "application", app["id"],
                  f"授权已自动暂停，待数据局核实：{title}（{tr.reason}）",
                  f"An authorization was suspended automatically and awaits verification: "
                  f"{title} ({tr.reason})", "/bureau/delivery")
    return {"application": after, "entitlement": ent}


def expire_due(today: dt.date, actor_name: str) -> list[str]:
    """Expire entitlements past their end date; returns the ids expired by this run."""
    due = [r[0] for r in model.Session.execute(
        sa.select(et.c.id).where(et.c.status.in_(("active", "suspended")), et.c.period_end < today)
        .order_by(et.c.period_end, et.c.id))]
    model.Session.rollback()
    done = []
    for ent_id in due:
        try:
            ent = entitlements.get(ent_id, lock=True)
            if ent is None or ent["status"] not in ("active", "suspended") \
                    or ent["period_end"] >= today:
                model.Session.rollback()
                continue
            app = service.lock(ent["application_id"])
            service.apply_event(app, Event.EXPIRE, Actor(Role.SYSTEM, actor_name), actor_name)
            _update_entitlement(ent, "expired", actor_name, None)
            notify.notify([app["applicant_id"]], "application", app["id"],
                          f"授权已到期：{app['product_title']}",
                          f"Your authorization has expired: {app['product_title']}",
                          f"/application/{app['id']}")
            model.Session.commit()
            done.append(ent_id)
        except Exception:
            model.Session.rollback()
            log.exception("could not expire entitlement %s", ent_id)
    return done
