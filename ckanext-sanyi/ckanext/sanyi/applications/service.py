"""The glue of graded approval: load and lock, ``domain.approval.transition``, persist, audit,
notify.

* Every change locks the application row (``SELECT ... FOR UPDATE``) and then updates it
  only if ``version`` is still the one read (bumping it), so of two reviewers acting at the
  same moment one wins and the other, once the lock is released, finds the new status and
  is refused (:class:`TransitionRefused`, kind ``state`` → HTTP 409).
* Functions write in CKAN's session and do not commit: the actions commit, or roll back on
  any error so that a refusal changes nothing; payments commits after :func:`mark_paid`.
* Bureau approval: public-interest use → ``active`` with an entitlement and no order;
  industrial use → the fee of ``quantity`` × ``billing_unit`` is quoted with
  ``sanyi_price_quote`` (the quote is kept on the application) and, if it is not free,
  ``payments.create_order`` locks it into an order → ``awaiting_payment``; a free quote
  (e.g. a zero trial price) → ``active``. A per-call quote whose ``settlement`` is
  ``monthly`` charges nothing now (→ ``active``, no quote kept): the calls are billed by
  monthly statements.
* Each transition appends an audit record (object_type ``application``; before/after
  status, unit decisions, the statuses passed through, the reason) and each review decision
  a row in the append-only ``sanyi_application_review``.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ..common import audit, signals
from ..common.ids import id_problem
from ..domain.approval import (
    Actor,
    ApplicationState,
    Event,
    RefusalKind,
    Role,
    Status,
    Transition,
    TransitionRefused,
    transition,
)
from ..domain.errors import DomainError
from . import access, attachments, entitlements, forms, intake, notify, products
from .forms import Invalid, NotFound
from .model import application_table as t
from .model import review_table

__all__ = ["create", "update", "submit", "review", "withdraw", "mark_paid", "get", "lock",
           "apply_event", "state_of"]

log = logging.getLogger(__name__)
_EVENTS = {Role.DATA_UNIT: {"approve": Event.UNIT_APPROVE, "reject": Event.UNIT_REJECT,
                            "return": Event.RETURN_FOR_CHANGES},
           None: {"approve": Event.BUREAU_APPROVE, "reject": Event.BUREAU_REJECT,
                  "return": Event.RETURN_FOR_CHANGES}}


def _refuse_actor(zh: str = "无权操作该申请", en: str = "You may not act on this application"):
    return TransitionRefused(RefusalKind.ACTOR, zh, en)


def get(application_id: str, *, lock: bool = False) -> dict[str, Any]:
    if application_id and id_problem(application_id) is not None:  # NUL, surrogate, not text
        raise NotFound("id", "未找到该申请（标识无效）", "Application not found (invalid id)")
    stmt = sa.select(t).where(t.c.id == str(application_id or ""))
    row = model.Session.execute(stmt.with_for_update() if lock else stmt).mappings().first()
    if row is None:
        raise NotFound("id", f"未找到该申请：{application_id}",
                       f"Application not found: {application_id}")
    return dict(row)


def lock(application_id: str) -> dict[str, Any]:
    return get(application_id, lock=True)


def state_of(app: dict[str, Any]) -> ApplicationState:
    return ApplicationState(Status(app["status"]), frozenset(app["required_units"]),
                            dict(app["unit_decisions"]), app["applicant_id"])


def _check_version(app: dict[str, Any], version: Any) -> None:
    if version not in (None, "") and str(version) != str(app["version"]):
        raise TransitionRefused(RefusalKind.STATE, "申请已被他人修改，请刷新页面后重试",
                                "The application has changed since you loaded it: reload and retry")


def _persist(app: dict[str, Any], tr: Transition | None, **values: Any) -> dict[str, Any]:
    """Write the new state (and ``values``) if nobody changed the row since it was read."""
    if tr is not None:
        values.update(status=tr.after.status.value,
                      unit_decisions={u: d.value for u, d in tr.after.unit_decisions.items()},
                      required_units=sorted(tr.after.required_units))
    result = model.Session.execute(
        t.update().where(t.c.id == app["id"], t.c.version == app["version"])
        .values(version=app["version"] + 1, modified=sa.func.clock_timestamp(), **values)
        .returning(*t.c))
    row = result.mappings().first()
    if row is None:  # only without the lock (e.g. a caller that skipped lock())
        raise TransitionRefused(RefusalKind.STATE, "申请已被他人修改，请刷新页面后重试",
                                "The application was changed by someone else: reload and retry")
    return dict(row)


def _snapshot(app: dict[str, Any]) -> dict[str, Any]:
    return {"status": app["status"], "version": app["version"],
            "unit_decisions": dict(app["unit_decisions"]),
            "required_units": list(app["required_units"])}


def _audit(actor_name: str, action: str, before: dict[str, Any] | None, after: dict[str, Any],
           tr: Transition | None = None, **extra: Any) -> None:
    payload = _snapshot(after)
    if tr is not None:
        payload.update(event=tr.event.value, statuses=[s.value for s in tr.statuses],
                       role=tr.actor.role.value, unit=tr.actor.unit_id, reason=tr.reason)
    payload.update(extra)
    audit.record(actor_name, action, "application", after["id"],
                 before=_snapshot(before) if before else None, after=payload)


def _link(app: dict[str, Any]) -> str:
    return f"/application/{app['id']}"


def _tell(user_ids: Any, app: dict[str, Any], zh: str, en: str) -> None:
    title = app["product_title"] or app["product_name"]
    notify.notify(user_ids, "application", app["id"], f"{zh}：{title}", f"{en}: {title}", _link(app))


# -- merchant actions ---------------------------------------------------------------------------
def create(user: model.User, data: dict[str, Any]) -> dict[str, Any]:
    merchant = access.merchant_for(user)
    if merchant is None:
        raise _refuse_actor("请先注册数商（企业）资料再申请", "Register as a merchant before applying")
    values, files = intake.parse(data)
    app_id = str(uuid.uuid4())
    row = dict(values, id=app_id, merchant_id=merchant["id"], applicant_id=user.id,
               status=Status.DRAFT.value, unit_decisions={}, version=1)
    model.Session.execute(t.insert().values(**row))
    attachments.save(app_id, files, user.name)
    app = get(app_id)
    audit.record(user.name, "sanyi_application_create", "application", app_id, before=None,
                 after=dict(_snapshot(app), **{k: values[k] for k in intake.FIELDS},
                            product=values["product_name"]))
    return app


def _merchant_actor(user: model.User, app: dict[str, Any]) -> Actor:
    if app["applicant_id"] != user.id:
        raise _refuse_actor("只有申请人本人可以操作该申请", "Only the applicant may act on this application")
    return Actor(Role.MERCHANT, user.id)


def update(user: model.User, application_id: str, data: dict[str, Any]) -> dict[str, Any]:
    app = lock(application_id)
    _merchant_actor(user, app)
    _check_version(app, data.get("version"))
    if app["status"] not in (Status.DRAFT.value, Status.RETURNED.value):
        st = Status(app["status"])
        raise TransitionRefused(RefusalKind.STATE, f"申请处于“{st.zh}”状态，只有草稿或退回修改的申请可以修改",
                                f"Only a draft or returned application can be changed (status {st.value})")
    values, files = intake.parse(data, existing=app)
    removed = attachments.remove(app["id"], [str(i) for i in _ids(data.get("remove_attachments"))])
    changed = {k: v for k, v in values.items() if app.get(k) != v}
    after = _persist(app, None, **changed)
    added = attachments.save(app["id"], files, user.name)
    audit.record(user.name, "sanyi_application_update", "application", app["id"],
                 before=dict(_snapshot(app), **{k: app[k] for k in changed}),
                 after=dict(_snapshot(after), **changed, attachments_added=added,
                            attachments_removed=removed))
    return after


def _ids(value: Any) -> list[Any]:
    if isinstance(value, str):
        return [v for v in value.replace(",", " ").split() if v]
    return list(value or [])


def submit(user: model.User, application_id: str) -> dict[str, Any]:
    app = lock(application_id)
    actor = _merchant_actor(user, app)
    merchant = access.merchant_for(user)
    if Status(app["status"]) in (Status.DRAFT, Status.RETURNED) and \
            (merchant is None or merchant["status"] != "verified"):
        raise TransitionRefused(RefusalKind.STATE, "数商资料尚未通过数据局核验，暂不能提交申请",
                                "The merchant profile has not been verified by the bureau yet: "
                                "the application cannot be submitted")
    units = app["required_units"]
    if Status(app["status"]) in (Status.DRAFT, Status.RETURNED):
        pkg = products.load_product(app["product_id"])
        products.require_listed(pkg)
        units = products.required_units(pkg)
    tr = transition(state_of(app), Event.SUBMIT, actor, required_units=units)
    after = _persist(app, tr, submitted=sa.func.clock_timestamp(), decided=None)
    _audit(user.name, "sanyi_application_submit", app, after, tr)
    _tell(access.unit_user_ids(after["required_units"]), after, "新的数据使用申请待审核",
          "A new application awaits your review")
    return after


def withdraw(user: model.User, application_id: str, reason: str | None = None) -> dict[str, Any]:
    app = lock(application_id)
    tr = transition(state_of(app), Event.WITHDRAW, _merchant_actor(user, app), reason=reason)
    after = _persist(app, tr, decided=sa.func.clock_timestamp())
    _audit(user.name, "sanyi_application_withdraw", app, after, tr)
    if app["status"] == Status.UNIT_REVIEW.value:
        _tell(access.unit_user_ids(state_of(app).pending_units), after, "申请已被申请人撤回",
              "The applicant withdrew an application")
    elif app["status"] == Status.BUREAU_REVIEW.value:
        _tell(access.bureau_user_ids(), after, "申请已被申请人撤回",
              "The applicant withdrew an application")
    return after


# -- review ----------------------------------------------------------------------------------------
def review(user: model.User, application_id: str, decision: str, comment: str | None = None,
           *, unit: str | None = None, version: Any = None) -> dict[str, Any]:
    """A data unit's or the bureau's decision: ``approve``, ``reject`` or ``return``."""
    decision = forms.decision(decision)
    app = lock(application_id)
    actor = access.actor_for(user, app, unit=unit, reviewing=True)
    if actor is None:
        raise _refuse_actor("您不是该申请的审核方", "You are not a reviewer of this application")
    _check_version(app, version)
    event = _EVENTS.get(actor.role, _EVENTS[None])[decision]
    charged, quote = False, None
    if event is Event.BUREAU_APPROVE and app["status"] == Status.BUREAU_REVIEW.value:
        charged, quote = _price(app)
    tr = transition(state_of(app), event, actor, reason=comment, charged=charged)
    decided = tr.after.status in (Status.REJECTED, Status.RETURNED, Status.ACTIVE,
                                  Status.AWAITING_PAYMENT)
    values: dict[str, Any] = {"quote": quote} if quote is not None else {}
    if decided:
        values["decided"] = sa.func.clock_timestamp()
    after = _persist(app, tr, **values)
    model.Session.execute(review_table.insert().values(
        application_id=app["id"], actor=user.name, role=actor.role.value,
        unit=actor.unit_id or "", decision=decision, comment=(comment or "").strip()))
    _audit(user.name, "sanyi_application_review", app, after, tr, decision=decision,
           comment=(comment or "").strip(), quote_amount_fen=(quote or {}).get("amount_fen"))
    if tr.after.status is Status.AWAITING_PAYMENT:
        order = signals.answer(signals.application_charged, app["id"], quote=quote or {},
                               actor=user.name, merchant=app["applicant_id"])
        if order is None:
            log.warning("no order for application %s: it waits for payment without one", app["id"])
        if order:
            after = _persist(after, None, order_id=str(order.get("id") or ""))
            _audit(user.name, "sanyi_order_created", after, after, order_id=after["order_id"],
                   amount_fen=order.get("amount_fen", (quote or {}).get("amount_fen")))
    elif tr.after.status is Status.ACTIVE:
        entitlements.create_for(after, user.name)
    _notify_review(after, tr, decision)
    return after


def _price(app: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """Whether use is charged, and its quote (bureau approval)."""
    if app["use"] != "industrial":
        return False, None
    try:
        quote = products.quote(app["product_id"], app["use"], app["billing_unit"], app["quantity"])
    except KeyError:
        raise DomainError("quote", "收费标准服务不可用，暂不能审批产业类使用",
                          "Pricing is unavailable: industrial use cannot be approved now") from None
    except tk.ValidationError as err:
        fields = {"unit": "billing_unit", "product": "product"}
        raise Invalid({fields.get(f, f): [DomainError(fields.get(f, f), *_split(m))
                                          for m in (msgs if isinstance(msgs, list) else [msgs])]
                       for f, msgs in err.error_dict.items()}) from None
    if quote.get("settlement") == "monthly":  # billed each month on actual calls, not now
        return False, None
    return bool(not quote.get("free") and int(quote.get("amount_fen") or 0) > 0), quote


def _split(message: Any) -> tuple[str, str]:
    zh, _, en = str(message).partition(" / ")
    return zh, en or zh


def _notify_review(app: dict[str, Any], tr: Transition, decision: str) -> None:
    merchant = [app["applicant_id"]]
    status = tr.after.status
    if tr.actor.role is Role.DATA_UNIT and status is Status.UNIT_REVIEW:
        group = model.Group.get(tr.actor.unit_id) if tr.actor.unit_id else None
        unit = group.title if group is not None and group.title else tr.actor.unit_id
        _tell(merchant, app, f"数源单位 {unit} 已审核通过，等待其他单位审核",
              f"Data unit {unit} approved; other units are still reviewing")
    elif status is Status.BUREAU_REVIEW:
        _tell(access.bureau_user_ids(), app, "申请已通过数源单位审核，待数据局审批",
              "An application passed unit review and awaits bureau approval")
        _tell(merchant, app, "申请已通过数源单位审核，进入数据局审批",
              "Your application passed unit review and is with the bureau")
    elif status is Status.REJECTED:
        _tell(merchant, app, f"申请已被驳回：{tr.reason}", f"Your application was rejected: {tr.reason}")
    elif status is Status.RETURNED:
        _tell(merchant, app, f"申请被退回修改：{tr.reason}",
              f"Your application was returned for changes: {tr.reason}")
    elif status is Status.AWAITING_PAYMENT:
        _tell(merchant, app, "申请已获批准，请缴纳公共数据运营服务费",
              "Your application was approved: please pay the service fee")
    elif status is Status.ACTIVE:
        _tell(merchant, app, "申请已获批准，授权已生效", "Your application was approved and is active")


# -- payments ---------------------------------------------------------------------------------------
def mark_paid(application_id: str, actor: str, payment_ref: str, *, commit: bool = False) -> None:
    """Payments confirms the fee: ``awaiting_payment`` → ``paid`` → ``active`` + entitlement.

    Idempotent: once the application has a payment reference, later calls do nothing. An
    application that is not awaiting payment (e.g. revoked meanwhile) raises
    :class:`TransitionRefused` (kind ``state``): payments should then refund. The work runs
    in a savepoint, so an error undoes it without touching the caller's uncommitted changes.
    Like ``payments``, it does not commit (the caller commits the payment and the activation
    together) unless ``commit=True``.
    """
    if not actor or not payment_ref:
        raise ValueError("actor and payment_ref are required")
    with model.Session.begin_nested():  # an error undoes only this, not the caller's work
        app = lock(application_id)
        if app["payment_ref"]:
            if app["payment_ref"] != payment_ref:
                log.warning("application %s already paid (%s); ignoring payment %s",
                            application_id, app["payment_ref"], payment_ref)
        else:
            _pay_and_activate(app, actor, payment_ref)
    if commit:
        model.Session.commit()


def _pay_and_activate(app: dict[str, Any], actor: str, payment_ref: str) -> None:
    system = Actor(Role.SYSTEM, actor)
    paid = transition(state_of(app), Event.PAY, system)
    mid = _persist(app, paid, payment_ref=payment_ref)
    _audit(actor, "sanyi_application_pay", app, mid, paid, payment_ref=payment_ref,
           order_id=app["order_id"])
    active = transition(paid.after, Event.ACTIVATE, system)
    after = _persist(mid, active)
    _audit(actor, "sanyi_application_activate", mid, after, active)
    entitlements.create_for(after, actor)
    _tell([after["applicant_id"]], after, "已确认缴费，授权已生效",
          "Payment received: your authorization is active")


# -- bureau and system events on approved applications --------------------------------------------
def apply_event(app: dict[str, Any], event: Event, actor: Actor, actor_name: str,
                reason: str | None = None, **values: Any) -> tuple[dict[str, Any], Transition]:
    """Fire ``event`` on a locked application row, persist and audit it (no notification)."""
    tr = transition(state_of(app), event, actor, reason=reason)
    after = _persist(app, tr, **values)
    _audit(actor_name, f"sanyi_application_{event.value}", app, after, tr)
    return after, tr
