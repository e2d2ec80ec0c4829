"""Vocabulary of the application state machine: statuses, roles, events, rules.

:data:`TRANSITIONS` is the single source of truth; the UI may list it as is.
An event may have several rules (``return_for_changes`` is a data-unit action in
``unit_review`` and a bureau action in ``bureau_review``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType

from .errors import DomainError

__all__ = [
    "Status", "Role", "Event", "UnitDecision", "RefusalKind", "TransitionRefused",
    "Actor", "ApplicationState", "Rule", "TRANSITIONS", "TERMINAL", "PASS_THROUGH",
]


class Status(Enum):
    """Application status; ``.zh`` is the Chinese label."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNIT_REVIEW = "unit_review"
    BUREAU_REVIEW = "bureau_review"
    APPROVED = "approved"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    ACTIVE = "active"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    RETURNED = "returned"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"

    @property
    def zh(self) -> str:
        return _STATUS_ZH[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


_STATUS_ZH = dict(zip(Status, (
    "草稿", "已提交", "数源单位审核中", "数据局审批中", "审批通过", "待缴费", "已缴费",
    "使用中", "已驳回", "已撤回", "已退回修改", "已到期", "已暂停", "已撤销"), strict=False))


class Role(Enum):
    """Who acts; ``.zh`` is the Chinese label."""

    MERCHANT = "merchant"
    DATA_UNIT = "data_unit"
    BUREAU = "bureau"
    OPERATOR = "operator"
    SYSTEM = "system"

    @property
    def zh(self) -> str:
        return _ROLE_ZH[self]


_ROLE_ZH = dict(zip(Role, ("数商", "数源单位", "数据局", "运营机构", "系统"), strict=False))


class Event(Enum):
    """What happens to an application; ``.zh`` is the Chinese label."""

    SUBMIT = "submit"
    UNIT_APPROVE = "unit_approve"
    UNIT_REJECT = "unit_reject"
    RETURN_FOR_CHANGES = "return_for_changes"
    BUREAU_APPROVE = "bureau_approve"
    BUREAU_REJECT = "bureau_reject"
    WITHDRAW = "withdraw"
    PAY = "pay"
    ACTIVATE = "activate"
    EXPIRE = "expire"
    SUSPEND = "suspend"
    RESUME = "resume"
    REVOKE = "revoke"

    @property
    def zh(self) -> str:
        return _EVENT_ZH[self]


_EVENT_ZH = dict(zip(Event, (
    "提交申请", "数源单位审核通过", "数源单位驳回", "退回修改", "数据局审批通过",
    "数据局驳回", "撤回申请", "确认缴费", "开通使用", "授权到期", "暂停使用",
    "恢复使用", "撤销授权"), strict=False))


class UnitDecision(Enum):
    """A data unit's decision on an application."""

    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"


class RefusalKind(str, Enum):
    """Why a transition is refused: ``state`` → HTTP 409, ``actor`` → HTTP 403."""

    STATE = "state"
    ACTOR = "actor"

    @property
    def http_status(self) -> int:
        return 409 if self is RefusalKind.STATE else 403


class TransitionRefused(DomainError):
    """An event not allowed in the current status (``state``) or for this actor (``actor``)."""

    def __init__(self, kind: RefusalKind | str, zh: str, en: str) -> None:
        self.kind = RefusalKind(kind)
        super().__init__("status" if self.kind is RefusalKind.STATE else "actor", zh, en)
        self.args = (self.kind, zh, en)

    @property
    def http_status(self) -> int:
        return self.kind.http_status


@dataclass(frozen=True)
class Actor:
    """A role plus identity; a data unit must carry its ``unit_id``."""

    role: Role
    id: str | None = None
    unit_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        if self.role is Role.DATA_UNIT and not self.unit_id:
            raise DomainError("unit_id", "数源单位操作人必须指明所属单位",
                              "A data_unit actor needs a unit_id")


@dataclass(frozen=True)
class ApplicationState:
    """Status plus the data that graded approval needs.

    ``unit_decisions`` maps unit id → :class:`UnitDecision`; it is stored as a
    read-only mapping and excluded from the hash.
    """

    status: Status
    required_units: frozenset[str] = frozenset()
    unit_decisions: Mapping[str, UnitDecision] = field(default_factory=dict, hash=False)
    applicant_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", Status(self.status))
        object.__setattr__(self, "required_units", frozenset(self.required_units))
        decisions = {u: UnitDecision(d) for u, d in dict(self.unit_decisions).items()}
        stray = set(decisions) - self.required_units
        if stray:
            raise DomainError("unit_decisions", f"审核意见来自非涉及单位：{sorted(stray)}",
                              f"Decisions from units that are not required: {sorted(stray)}")
        object.__setattr__(self, "unit_decisions", MappingProxyType(decisions))

    @classmethod
    def draft(cls, required_units: Iterable[str] = (),
              applicant_id: str | None = None) -> ApplicationState:
        """A new draft application."""
        return cls(Status.DRAFT, frozenset(required_units), {}, applicant_id)

    @property
    def pending_units(self) -> frozenset[str]:
        """Required units that have not approved yet."""
        return frozenset(u for u in self.required_units
                         if self.unit_decisions.get(u) is not UnitDecision.APPROVED)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(frozen=True)
class Rule:
    """One row of the transition table. ``targets`` lists every possible outcome."""

    event: Event
    sources: frozenset[Status]
    targets: tuple[Status, ...]
    roles: frozenset[Role]


def _rule(event: Event, sources: Iterable[Status], targets: Iterable[Status],
          roles: Iterable[Role]) -> Rule:
    return Rule(event, frozenset(sources), tuple(targets), frozenset(roles))


S, R, E = Status, Role, Event
TRANSITIONS: tuple[Rule, ...] = (
    _rule(E.SUBMIT, {S.DRAFT, S.RETURNED}, [S.UNIT_REVIEW], {R.MERCHANT}),
    _rule(E.UNIT_APPROVE, {S.UNIT_REVIEW}, [S.UNIT_REVIEW, S.BUREAU_REVIEW], {R.DATA_UNIT}),
    _rule(E.UNIT_REJECT, {S.UNIT_REVIEW}, [S.REJECTED], {R.DATA_UNIT}),
    _rule(E.RETURN_FOR_CHANGES, {S.UNIT_REVIEW}, [S.RETURNED], {R.DATA_UNIT}),
    _rule(E.RETURN_FOR_CHANGES, {S.BUREAU_REVIEW}, [S.RETURNED], {R.BUREAU}),
    _rule(E.BUREAU_APPROVE, {S.BUREAU_REVIEW}, [S.AWAITING_PAYMENT, S.ACTIVE], {R.BUREAU}),
    _rule(E.BUREAU_REJECT, {S.BUREAU_REVIEW}, [S.REJECTED], {R.BUREAU}),
    _rule(E.WITHDRAW, {S.DRAFT, S.SUBMITTED, S.UNIT_REVIEW, S.BUREAU_REVIEW, S.RETURNED},
          [S.WITHDRAWN], {R.MERCHANT}),
    _rule(E.PAY, {S.AWAITING_PAYMENT}, [S.PAID], {R.SYSTEM, R.OPERATOR}),
    _rule(E.ACTIVATE, {S.PAID}, [S.ACTIVE], {R.SYSTEM}),
    _rule(E.EXPIRE, {S.ACTIVE, S.SUSPENDED}, [S.EXPIRED], {R.SYSTEM}),
    # the system: the supervision rule's suspension pending verification (暂停待核实)
    _rule(E.SUSPEND, {S.ACTIVE}, [S.SUSPENDED], {R.BUREAU, R.SYSTEM}),
    _rule(E.RESUME, {S.SUSPENDED}, [S.ACTIVE], {R.BUREAU}),
    _rule(E.REVOKE, {S.ACTIVE, S.SUSPENDED, S.PAID, S.AWAITING_PAYMENT},
          [S.REVOKED], {R.BUREAU}),
)
del S, R, E

#: Statuses no event leaves.
TERMINAL: frozenset[Status] = frozenset(
    {Status.REJECTED, Status.WITHDRAWN, Status.EXPIRED, Status.REVOKED})
#: Statuses only ever passed through (see :attr:`Transition.via`).
PASS_THROUGH: frozenset[Status] = frozenset({Status.SUBMITTED, Status.APPROVED})
