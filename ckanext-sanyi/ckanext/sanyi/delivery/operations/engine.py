"""The operations engine: the one way an answer leaves the data domain.

The gateway calls, in this order, each step separate and each refusal typed
(:mod:`.errors`, all :class:`~ckanext.sanyi.domain.errors.DomainError`\\ s with a ``code``)::

    op = engine.resolve(product, name)                   # UnknownOperation (404)
    engine.check_reads(op, entitlement["data_items"])    # DataItemsExceeded (403)
    typed = engine.validate_input(op, payload)           # InvalidInput (400), every field
    ...quota...
    answer = engine.run(op, typed)                       # Answer(result, fields_read, rows_touched)

:func:`run` executes inside the domain (:func:`connection`), with SQLAlchemy Core and bound
parameters only, and checks its answer against the operation's output schema before it returns
it: an answer the schema does not allow is never returned (``RuntimeError``). Each operation
is one statement, hence one round trip to the domain.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from ...common import clock
from ...domain import op_inputs
from ...domain.errors import DomainError, Invalid
from ..datadomain import store
from . import cohort, person, spec
from .answer import Answer
from .errors import DataItemsExceeded, InvalidInput, OperationUnavailable, UnknownOperation

__all__ = ["Answer", "resolve", "required_items", "check_reads", "validate_input", "run",
           "connection", "RUNNERS"]


Runner = Callable[[sa.engine.Connection, Any, dt.date], Answer]
# the function computing each operation (the SQL that fetches the minimal facts is there)
RUNNERS: dict[str, Runner] = {
    "risk-assessment": person.risk_assessment,
    "visit-verification": person.visit_verification,
    "renewal-eligibility": person.renewal_eligibility,
    "health-profile": person.health_profile,
    "cohort-statistics": cohort.cohort_statistics,
}


def resolve(product: str | Mapping[str, Any] | None, name: str) -> spec.Operation:
    """The operation ``name`` of ``product`` (a scenario, package dict or catalog name; None:
    any product)."""
    op = spec.get(name)
    if op is None or (product is not None and op not in spec.operations_of(product)):
        shown = str(name)[:60]
        raise UnknownOperation("operation", f"该产品没有名为“{shown}”的数据服务",
                               f"the product has no operation {shown}")
    return op


def _op(op_or_name: spec.Operation | str) -> spec.Operation:
    return op_or_name if isinstance(op_or_name, spec.Operation) else resolve(None, op_or_name)


def required_items(op: spec.Operation | str,
                   resources: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The application data items (``"<resource name>:<中文字段名>"``) ``op`` reads, given the
    catalog resources of the sources (:func:`..datadomain.catalog_link.resources`)."""
    op = _op(op_or_name=op)
    names = tuple(str((resources.get(read.table) or {}).get("name") or "") for read in op.reads)
    return set(_items_read(op, names))


@functools.lru_cache(maxsize=256)
def _items_read(op: spec.Operation, names: tuple[str, ...]) -> frozenset[str]:
    """The data items ``op`` reads when its sources are the catalog resources ``names`` (in
    the order of ``op.reads``; "" for a source not in the catalog). Every call asks this of
    its operation, so it is worked out once per operation and catalog naming."""
    items: set[str] = set()
    for read, name in zip(op.reads, names, strict=True):
        if not name:
            s = read.source
            raise OperationUnavailable(
                "operation", f"数据服务“{op.name}”所读的资源“{s.unit_title}/{s.resource_title}”不在目录中",
                f"the resource {s.unit_title}/{s.resource_title} that {op.name} reads is not "
                f"in the catalog")
        items |= {f"{name}:{f.zh}" for f in read.fields()}
    return frozenset(items)


def check_reads(op: spec.Operation | str, data_items: Iterable[str] | None, *,
                resources: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Refuse (:class:`DataItemsExceeded`) unless the approved ``data_items`` cover every item
    ``op`` reads. An item naming a resource alone (no ``:field``) covers all its fields.
    ``resources`` defaults to the catalog's (one query); the gateway may pass its own."""
    op = _op(op)
    if resources is None:
        from ..datadomain import catalog_link
        resources = catalog_link.resources()
    approved = {i for i in (data_items or ()) if isinstance(i, str)}
    missing = {item for item in required_items(op, resources)
               if item not in approved and item.split(":", 1)[0] not in approved}
    if missing:
        raise DataItemsExceeded(op.name, missing)


def validate_input(op: spec.Operation | str, payload: Any, *,
                   today: dt.date | None = None) -> Any:
    """The typed input of ``op`` (a frozen dataclass of :mod:`ckanext.sanyi.domain.op_inputs`)
    or :class:`InvalidInput` naming every bad field in Chinese and English."""
    op = _op(op)
    try:
        return op_inputs.parse(op.name, payload, today or clock.today())
    except Invalid as err:
        raise InvalidInput([e for errs in err.errors.values() for e in errs]) from None
    except DomainError as err:
        raise InvalidInput([err]) from None


_TYPED = {"risk-assessment": op_inputs.RiskInput, "visit-verification": op_inputs.VisitInput,
          "renewal-eligibility": op_inputs.RenewalInput, "cohort-statistics": op_inputs.CohortInput,
          "health-profile": op_inputs.ProfileInput}


@contextlib.contextmanager
def connection(url: str | None = None) -> Iterator[sa.engine.Connection]:
    """A connection to the domain (``url``, default the configured one) for running
    operations, from the pool of single-statement reads (:func:`..datadomain.store.engine`):
    each operation is one statement (its own snapshot), so no transaction is opened and the
    operation is the only round trip."""
    with store.connect(url, autocommit=True) as conn:
        yield conn


def run(op_or_name: spec.Operation | str, payload: Any, *,
        conn: sa.engine.Connection | None = None, today: dt.date | None = None) -> Answer:
    """Compute ``op`` on ``payload`` (its typed input, or the JSON object, validated here)
    inside the domain; ``conn`` defaults to :func:`connection` to the configured domain,
    ``today`` to today in Asia/Shanghai."""
    op = _op(op_or_name)
    today = today or clock.today()
    typed = payload if isinstance(payload, _TYPED[op.name]) else \
        validate_input(op, payload, today=today)
    fn = RUNNERS[op.name]
    if conn is not None:
        answer = fn(conn, typed, today)
    else:
        try:
            with connection() as own:
                answer = fn(own, typed, today)
        except sa.exc.DBAPIError as err:  # a pooled connection the server dropped: once more
            if not err.connection_invalidated:
                raise
            with connection() as own:
                answer = fn(own, typed, today)
    problems = op.output_errors(answer.result)
    if problems:  # never hand out what the schema does not allow
        raise RuntimeError(f"{op.name}: the answer does not match the output schema: "
                           f"{problems[0].message}")
    return answer
