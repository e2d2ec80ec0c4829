"""State machine of merchant data-use applications (分级审批: data units, then the bureau).

Decisions recorded here:

* ``submitted`` and ``approved`` are pass-through statuses: ``submit`` moves
  draft/returned straight to ``unit_review`` and ``bureau_approve`` moves straight
  to ``awaiting_payment`` (charged use) or ``active`` (free use). They are listed
  in :attr:`Transition.via` for the audit trail and are never at rest.
* Every required data unit must approve before the bureau reviews; one unit's
  rejection rejects the application. Resubmitting after ``returned`` clears all
  unit decisions (changed applications are reviewed afresh).
* Refusal order: a role that may never fire the event → ``actor``; no rule from the
  current status → ``state``; wrong role for this status, a merchant who is not the
  applicant, or a unit that is not required → ``actor``; a unit deciding twice →
  ``state``. Reject, return, suspend and revoke need a non-blank ``reason``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from .approval_model import (
    PASS_THROUGH,
    TERMINAL,
    TRANSITIONS,
    Actor,
    ApplicationState,
    Event,
    RefusalKind,
    Role,
    Rule,
    Status,
    TransitionRefused,
    UnitDecision,
)
from .errors import DomainError

__all__ = [
    "Actor", "ApplicationState", "Event", "PASS_THROUGH", "RefusalKind", "Role", "Rule",
    "Status", "TERMINAL", "TRANSITIONS", "Transition", "TransitionRefused", "UnitDecision",
    "REASON_REQUIRED", "allowed_events", "approve", "transition",
]

#: Events that must carry a non-blank ``reason``.
REASON_REQUIRED: frozenset[Event] = frozenset({
    Event.UNIT_REJECT, Event.BUREAU_REJECT, Event.RETURN_FOR_CHANGES,
    Event.SUSPEND, Event.REVOKE,
})


@dataclass(frozen=True)
class Transition:
    """The outcome of one event: states before and after, and pass-through statuses."""

    before: ApplicationState
    after: ApplicationState
    event: Event
    actor: Actor
    via: tuple[Status, ...] = ()
    reason: str | None = None

    @property
    def statuses(self) -> tuple[Status, ...]:
        """Every status traversed, for the trace: (before, *via, after)."""
        return (self.before.status, *self.via, self.after.status)


def _refuse(kind: RefusalKind, zh: str, en: str) -> TransitionRefused:
    return TransitionRefused(kind, zh, en)


def _check(state: ApplicationState, event: Event, actor: Actor) -> Rule:
    """The rule that lets ``actor`` fire ``event`` now, or raise TransitionRefused."""
    ev, st, role = event.value, state.status, actor.role
    for_event = [r for r in TRANSITIONS if r.event is event]
    if not any(role in r.roles for r in for_event):
        raise _refuse(RefusalKind.ACTOR, f"角色 {role.zh} 无权执行“{event.zh}”",
                      f"Role {role.value} may not {ev}")
    from_here = [r for r in for_event if st in r.sources]
    if not from_here:
        raise _refuse(RefusalKind.STATE, f"申请处于“{st.zh}”状态，不能执行“{event.zh}”",
                      f"Cannot {ev} an application in status {st.value}")
    rule = next((r for r in from_here if role in r.roles), None)
    if rule is None:
        raise _refuse(RefusalKind.ACTOR, f"“{st.zh}”阶段角色 {role.zh} 无权执行“{event.zh}”",
                      f"Role {role.value} may not {ev} while the status is {st.value}")
    if role is Role.MERCHANT and state.applicant_id is not None \
            and actor.id != state.applicant_id:
        raise _refuse(RefusalKind.ACTOR, "只有申请人本人可以操作该申请",
                      "Only the applicant may act on this application")
    if role is Role.DATA_UNIT:
        unit = actor.unit_id or ""
        if unit not in state.required_units:
            raise _refuse(RefusalKind.ACTOR, f"单位 {unit} 不是该申请涉及的数源单位",
                          f"Unit {unit} is not a required unit of this application")
        if unit in state.unit_decisions:
            raise _refuse(RefusalKind.STATE, f"单位 {unit} 已作出审核意见，不能重复审核",
                          f"Unit {unit} has already decided on this application")
    return rule


def _parse_event(event: Event | str) -> Event:
    try:
        return Event(event)
    except ValueError:
        raise DomainError("event", f"未知操作：{event!r}", f"Unknown event {event!r}") from None


def allowed_events(state: ApplicationState, actor: Actor) -> tuple[Event, ...]:
    """Events ``actor`` may fire now (ignoring kwargs such as ``reason``/``charged``)."""
    allowed = []
    for event in Event:
        try:
            _check(state, event, actor)
        except TransitionRefused:
            continue
        allowed.append(event)
    return tuple(allowed)


def transition(
    state: ApplicationState,
    event: Event | str,
    actor: Actor,
    *,
    charged: bool | None = None,
    reason: str | None = None,
    required_units: Iterable[str] | None = None,
) -> Transition:
    """Apply ``event`` by ``actor`` to ``state`` (pure; no clock, no I/O).

    ``charged`` is required by ``bureau_approve``; ``required_units`` may replace
    the units on ``submit``. Raises :class:`TransitionRefused` (409/403) or
    :class:`DomainError` for a missing or invalid argument.
    """
    event = _parse_event(event)
    rule = _check(state, event, actor)
    reason = reason.strip() if isinstance(reason, str) else None
    if event in REASON_REQUIRED and not reason:
        raise DomainError("reason", f"“{event.zh}”必须填写理由",
                          f"A reason is required to {event.value}")
    decisions = dict(state.unit_decisions)
    via: tuple[Status, ...] = ()
    changes: dict[str, object] = {"status": rule.targets[0]}

    if event is Event.SUBMIT:
        units = frozenset(required_units) if required_units is not None \
            else state.required_units
        if not units:
            raise DomainError("required_units", "申请必须至少涉及一个数源单位",
                              "An application needs at least one required data unit")
        changes.update(required_units=units)
        decisions, via = {}, (Status.SUBMITTED,)
    elif event is Event.UNIT_APPROVE:
        decisions[actor.unit_id or ""] = UnitDecision.APPROVED
        done = all(decisions.get(u) is UnitDecision.APPROVED for u in state.required_units)
        changes["status"] = Status.BUREAU_REVIEW if done else Status.UNIT_REVIEW
    elif event is Event.UNIT_REJECT:
        decisions[actor.unit_id or ""] = UnitDecision.REJECTED
    elif event is Event.RETURN_FOR_CHANGES and actor.role is Role.DATA_UNIT:
        decisions[actor.unit_id or ""] = UnitDecision.RETURNED
    elif event is Event.BUREAU_APPROVE:
        if not isinstance(charged, bool):
            raise DomainError("charged", "审批通过时必须指明是否收费",
                              "bureau_approve needs charged=True or charged=False")
        changes["status"] = Status.AWAITING_PAYMENT if charged else Status.ACTIVE
        via = (Status.APPROVED,)

    after = replace(state, unit_decisions=decisions, **changes)  # type: ignore[arg-type]
    return Transition(state, after, event, actor, via, reason)


def approve(state: ApplicationState, actor: Actor, *, charged: bool) -> Transition:
    """Shortcut for ``bureau_approve``: ends in ``awaiting_payment`` or ``active``."""
    return transition(state, Event.BUREAU_APPROVE, actor, charged=charged)
