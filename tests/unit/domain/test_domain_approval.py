"""Application state machine (分级审批)."""
from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ckanext.sanyi.domain.approval import (
    PASS_THROUGH,
    REASON_REQUIRED,
    TERMINAL,
    TRANSITIONS,
    Actor,
    ApplicationState,
    Event,
    RefusalKind,
    Role,
    Status,
    Transition,
    TransitionRefused,
    UnitDecision,
    allowed_events,
    approve,
    transition,
)
from ckanext.sanyi.domain.errors import DomainError

S, E, R = Status, Event, Role
UNITS = frozenset({"wjw", "ybj"})
MERCHANT = Actor(R.MERCHANT, "m1")
OTHER_MERCHANT = Actor(R.MERCHANT, "m2")
WJW = Actor(R.DATA_UNIT, "u1", unit_id="wjw")
YBJ = Actor(R.DATA_UNIT, "u2", unit_id="ybj")
YJJ = Actor(R.DATA_UNIT, "u3", unit_id="yjj")  # not involved
BUREAU = Actor(R.BUREAU, "b1")
OPERATOR = Actor(R.OPERATOR, "o1")
SYSTEM = Actor(R.SYSTEM)
BY_ROLE = {R.MERCHANT: MERCHANT, R.DATA_UNIT: WJW, R.BUREAU: BUREAU,
           R.OPERATOR: OPERATOR, R.SYSTEM: SYSTEM}


def at(status: Status, **kw) -> ApplicationState:
    return ApplicationState(status, UNITS, kw.pop("decisions", {}), "m1", **kw)


def kwargs_for(event: Event) -> dict:
    kw: dict = {}
    if event in REASON_REQUIRED:
        kw["reason"] = "材料不全 / incomplete"
    if event is E.BUREAU_APPROVE:
        kw["charged"] = True
    return kw


def test_charged_happy_path_keeps_a_full_trace():
    state = ApplicationState.draft(UNITS, "m1")
    t = transition(state, E.SUBMIT, MERCHANT)
    assert t.statuses == (S.DRAFT, S.SUBMITTED, S.UNIT_REVIEW)
    t = transition(t.after, "unit_approve", WJW)
    assert t.after.status is S.UNIT_REVIEW and t.after.pending_units == {"ybj"}
    t = transition(t.after, E.UNIT_APPROVE, YBJ)
    assert t.after.status is S.BUREAU_REVIEW and not t.after.pending_units
    t = approve(t.after, BUREAU, charged=True)
    assert t.statuses == (S.BUREAU_REVIEW, S.APPROVED, S.AWAITING_PAYMENT)
    t = transition(t.after, E.PAY, OPERATOR)
    assert t.after.status is S.PAID
    t = transition(t.after, E.ACTIVATE, SYSTEM)
    assert t.after.status is S.ACTIVE
    t = transition(t.after, E.SUSPEND, BUREAU, reason="超范围调用")
    assert t.after.status is S.SUSPENDED and t.reason == "超范围调用"
    t = transition(t.after, E.RESUME, BUREAU)
    t = transition(t.after, E.EXPIRE, SYSTEM)
    assert t.after.status is S.EXPIRED and t.after.is_terminal
    assert t.after.unit_decisions == {"wjw": UnitDecision.APPROVED, "ybj": UnitDecision.APPROVED}


def test_free_use_goes_straight_to_active():
    t = approve(at(S.BUREAU_REVIEW), BUREAU, charged=False)
    assert t.after.status is S.ACTIVE and t.via == (S.APPROVED,)


CASES = [(rule, src, role) for rule in TRANSITIONS
         for src in sorted(rule.sources, key=lambda s: s.value)
         for role in sorted(rule.roles, key=lambda r: r.value)]


@pytest.mark.parametrize("rule, source, role", CASES,
                         ids=[f"{r.event.value}-{s.value}-{a.value}" for r, s, a in CASES])
def test_every_allowed_transition(rule, source, role):
    state, actor = at(source), BY_ROLE[role]
    assert rule.event in allowed_events(state, actor)
    t = transition(state, rule.event, actor, **kwargs_for(rule.event))
    assert isinstance(t, Transition) and t.before == state and t.actor == actor
    assert t.after.status in rule.targets and t.event is rule.event


REFUSED = [
    # wrong status -> 409
    (S.DRAFT, E.BUREAU_APPROVE, R.BUREAU, "state"),
    (S.DRAFT, E.UNIT_APPROVE, R.DATA_UNIT, "state"),
    (S.ACTIVE, E.SUBMIT, R.MERCHANT, "state"),
    (S.UNIT_REVIEW, E.SUBMIT, R.MERCHANT, "state"),
    (S.UNIT_REVIEW, E.BUREAU_APPROVE, R.BUREAU, "state"),
    (S.BUREAU_REVIEW, E.UNIT_APPROVE, R.DATA_UNIT, "state"),
    (S.BUREAU_REVIEW, E.UNIT_REJECT, R.DATA_UNIT, "state"),
    (S.AWAITING_PAYMENT, E.ACTIVATE, R.SYSTEM, "state"),
    (S.PAID, E.PAY, R.OPERATOR, "state"),
    (S.ACTIVE, E.WITHDRAW, R.MERCHANT, "state"),
    (S.AWAITING_PAYMENT, E.WITHDRAW, R.MERCHANT, "state"),
    (S.SUSPENDED, E.SUSPEND, R.BUREAU, "state"),
    (S.ACTIVE, E.RESUME, R.BUREAU, "state"),
    (S.AWAITING_PAYMENT, E.EXPIRE, R.SYSTEM, "state"),
    (S.RETURNED, E.BUREAU_REJECT, R.BUREAU, "state"),
    (S.APPROVED, E.PAY, R.SYSTEM, "state"),
    (S.REJECTED, E.WITHDRAW, R.MERCHANT, "state"),
    (S.WITHDRAWN, E.SUBMIT, R.MERCHANT, "state"),
    (S.EXPIRED, E.RESUME, R.BUREAU, "state"),
    (S.REVOKED, E.REVOKE, R.BUREAU, "state"),
    # wrong actor -> 403
    (S.DRAFT, E.SUBMIT, R.BUREAU, "actor"),
    (S.RETURNED, E.SUBMIT, R.OPERATOR, "actor"),
    (S.UNIT_REVIEW, E.UNIT_APPROVE, R.BUREAU, "actor"),
    (S.UNIT_REVIEW, E.UNIT_APPROVE, R.MERCHANT, "actor"),
    (S.UNIT_REVIEW, E.RETURN_FOR_CHANGES, R.BUREAU, "actor"),
    (S.BUREAU_REVIEW, E.RETURN_FOR_CHANGES, R.DATA_UNIT, "actor"),
    (S.BUREAU_REVIEW, E.BUREAU_APPROVE, R.DATA_UNIT, "actor"),
    (S.BUREAU_REVIEW, E.BUREAU_REJECT, R.OPERATOR, "actor"),
    (S.UNIT_REVIEW, E.WITHDRAW, R.BUREAU, "actor"),
    (S.AWAITING_PAYMENT, E.PAY, R.MERCHANT, "actor"),
    (S.AWAITING_PAYMENT, E.PAY, R.BUREAU, "actor"),
    (S.PAID, E.ACTIVATE, R.OPERATOR, "actor"),
    (S.ACTIVE, E.SUSPEND, R.OPERATOR, "actor"),
    (S.SUSPENDED, E.RESUME, R.SYSTEM, "actor"),
    (S.ACTIVE, E.EXPIRE, R.BUREAU, "actor"),
    (S.ACTIVE, E.REVOKE, R.OPERATOR, "actor"),
    # a role that can never fire the event is refused as actor, whatever the status
    (S.DRAFT, E.PAY, R.MERCHANT, "actor"),
    (S.REJECTED, E.REVOKE, R.MERCHANT, "actor"),
]


@pytest.mark.parametrize("status, event, role, kind", REFUSED,
                         ids=[f"{s.value}-{e.value}-{r.value}" for s, e, r, _ in REFUSED])
def test_refused_transitions(status, event, role, kind):
    state, actor = at(status), BY_ROLE[role]
    with pytest.raises(TransitionRefused) as err:
        transition(state, event, actor, **kwargs_for(event))
    e = err.value
    assert e.kind == kind and e.field == ("status" if kind == "state" else "actor")
    assert e.http_status == {"state": 409, "actor": 403}[kind]
    assert e.zh and e.en and isinstance(e, DomainError)
    assert event not in allowed_events(state, actor)


def test_unit_outside_required_units_is_forbidden():
    with pytest.raises(TransitionRefused) as err:
        transition(at(S.UNIT_REVIEW), E.UNIT_APPROVE, YJJ)
    assert err.value.kind is RefusalKind.ACTOR and "yjj" in err.value.en


def test_unit_cannot_decide_twice():
    state = transition(at(S.UNIT_REVIEW), E.UNIT_APPROVE, WJW).after
    for event in (E.UNIT_APPROVE, E.UNIT_REJECT, E.RETURN_FOR_CHANGES):
        with pytest.raises(TransitionRefused) as err:
            transition(state, event, WJW, reason="再次")
        assert err.value.kind is RefusalKind.STATE and err.value.http_status == 409
    assert allowed_events(state, WJW) == ()
    assert set(allowed_events(state, YBJ)) == {E.UNIT_APPROVE, E.UNIT_REJECT,
                                               E.RETURN_FOR_CHANGES}


def test_one_unit_rejection_rejects_and_is_recorded():
    state = transition(at(S.UNIT_REVIEW), E.UNIT_APPROVE, WJW).after
    t = transition(state, E.UNIT_REJECT, YBJ, reason="用途超出最小必要")
    assert t.after.status is S.REJECTED
    assert t.after.unit_decisions["ybj"] is UnitDecision.REJECTED


def test_return_then_resubmit_clears_unit_decisions():
    state = transition(at(S.UNIT_REVIEW), E.UNIT_APPROVE, WJW).after
    t = transition(state, E.RETURN_FOR_CHANGES, YBJ, reason="补充用途说明")
    assert t.after.status is S.RETURNED
    assert t.after.unit_decisions == {"wjw": UnitDecision.APPROVED,
                                      "ybj": UnitDecision.RETURNED}
    again = transition(t.after, E.SUBMIT, MERCHANT)
    assert again.after.status is S.UNIT_REVIEW and dict(again.after.unit_decisions) == {}
    t = transition(at(S.BUREAU_REVIEW), E.RETURN_FOR_CHANGES, BUREAU, reason="补充")
    assert t.after.status is S.RETURNED


def test_submit_may_set_units_and_needs_at_least_one():
    t = transition(ApplicationState.draft(), E.SUBMIT, MERCHANT, required_units=["scjgj"])
    assert t.after.required_units == {"scjgj"}
    with pytest.raises(DomainError) as err:
        transition(ApplicationState.draft(), E.SUBMIT, MERCHANT)
    assert err.value.field == "required_units"


def test_only_the_applicant_may_act():
    with pytest.raises(TransitionRefused) as err:
        transition(at(S.DRAFT), E.SUBMIT, OTHER_MERCHANT)
    assert err.value.kind == "actor"
    assert allowed_events(at(S.UNIT_REVIEW), OTHER_MERCHANT) == ()
    anonymous_owner = ApplicationState.draft(UNITS)  # no applicant recorded
    assert transition(anonymous_owner, E.SUBMIT, OTHER_MERCHANT).after.status is S.UNIT_REVIEW


@pytest.mark.parametrize("event", sorted(REASON_REQUIRED, key=lambda e: e.value))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_reason_required(event, reason):
    rule = next(r for r in TRANSITIONS if r.event is event)
    status = min(rule.sources, key=lambda s: s.value)
    actor = BY_ROLE[min(rule.roles, key=lambda r: r.value)]
    with pytest.raises(DomainError) as err:
        transition(at(status), event, actor, reason=reason)
    assert err.value.field == "reason" and not isinstance(err.value, TransitionRefused)


@pytest.mark.parametrize("charged", [None, 1, "yes"])
def test_bureau_approve_needs_boolean_charged(charged):
    with pytest.raises(DomainError) as err:
        transition(at(S.BUREAU_REVIEW), E.BUREAU_APPROVE, BUREAU, charged=charged)
    assert err.value.field == "charged"


def test_value_objects():
    with pytest.raises(DomainError) as err:
        Actor(R.DATA_UNIT)
    assert err.value.field == "unit_id"
    assert Actor("bureau").role is R.BUREAU
    state = ApplicationState("unit_review", ["wjw"], {"wjw": "approved"})
    assert state.status is S.UNIT_REVIEW and state.required_units == frozenset({"wjw"})
    assert state.unit_decisions["wjw"] is UnitDecision.APPROVED
    with pytest.raises(TypeError):
        state.unit_decisions["x"] = UnitDecision.APPROVED  # type: ignore[index]
    assert hash(state) == hash(ApplicationState(S.UNIT_REVIEW, {"wjw"}, {"wjw": "approved"}))
    with pytest.raises(DomainError) as err:
        ApplicationState(S.UNIT_REVIEW, {"wjw"}, {"ybj": UnitDecision.APPROVED})
    assert err.value.field == "unit_decisions"
    with pytest.raises(DomainError) as err:
        transition(state, "teleport", WJW)
    assert err.value.field == "event"


def test_refusal_pickles_and_labels_exist():
    with pytest.raises(TransitionRefused) as err:
        transition(at(S.DRAFT), E.PAY, SYSTEM)
    again = pickle.loads(pickle.dumps(err.value))
    assert again.kind is RefusalKind.STATE and again.http_status == 409
    assert all(s.zh for s in Status) and all(e.zh for e in Event) and all(r.zh for r in Role)


def test_table_is_consistent():
    for rule in TRANSITIONS:
        assert rule.sources and rule.targets and rule.roles
        assert not rule.sources & TERMINAL
        assert not set(rule.targets) & PASS_THROUGH
    assert {r.event for r in TRANSITIONS} == set(Event)
    assert TERMINAL == {S.REJECTED, S.WITHDRAWN, S.EXPIRED, S.REVOKED}
    for status in TERMINAL:
        for actor in BY_ROLE.values():
            assert allowed_events(at(status), actor) == ()


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("actor", [MERCHANT, WJW, YBJ, BUREAU, OPERATOR, SYSTEM])
def test_allowed_events_always_succeed(status, actor):
    state = at(status)
    for event in allowed_events(state, actor):
        transition(state, event, actor, **kwargs_for(event))


ACTORS = [MERCHANT, OTHER_MERCHANT, WJW, YBJ, YJJ, BUREAU, OPERATOR, SYSTEM]


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from(list(Event)), st.sampled_from(ACTORS),
                          st.booleans()), max_size=40))
def test_random_event_sequences_stay_in_the_machine(steps):
    state = ApplicationState.draft(UNITS, "m1")
    for event, actor, charged in steps:
        kw = kwargs_for(event) | ({"charged": charged} if event is E.BUREAU_APPROVE else {})
        was_terminal = state.is_terminal
        try:
            t = transition(state, event, actor, **kw)
        except TransitionRefused as refusal:
            assert refusal.http_status in (403, 409)
            assert event not in allowed_events(state, actor)
            continue
        assert not was_terminal, "terminal states must stay terminal"
        assert event in allowed_events(state, actor)
        assert t.before is state
        state = t.after
        assert state.status in set(Status) and state.status not in PASS_THROUGH
        assert set(state.unit_decisions) <= state.required_units
        if state.status is S.BUREAU_REVIEW:
            assert not state.pending_units
