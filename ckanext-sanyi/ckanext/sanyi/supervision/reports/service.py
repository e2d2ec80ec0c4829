"""Reports: who sees which, the live or frozen figures, submitting, receiving, reminders.

Who sees what
-------------
* ``quarterly`` and ``annual`` reports: bureau and operator staff (sysadmins count), whole;
  a data unit's editors see the part about their own resources (catalog changes, overdue
  resources, calls reading them), nothing about merchants or money; anyone else nothing.
* ``disclosure``: everyone, logged in or not (it is the public disclosure). It names no
  merchant: the rules publish prices, the product list and how resources are used, and
  name no merchant; a merchant's use is its own business (and, counted per product with
  one or two merchants, would say who used how much), so merchants appear only as counts,
  and a count under 3 as ``<3``.

Submitting (the operator) freezes a report of an ended period: its figures (jsonb and the
SHA-256 of their canonical JSON), the Chinese PDF rendered from them and its SHA-256 go into
``sanyi_report`` with an audit record naming both hashes (the audit log is hash-chained), in
one transaction. From then on the report's pages, PDF and XLSX come from the stored figures
(the stored PDF itself for the Chinese PDF), whatever the data became. The bureau marks a
submitted report received (once). Reports are due on the days of
:mod:`..domain.report_periods`, configurable (``ckanext.sanyi.reports.*``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa

from ...applications import access
from ...common import audit, clock, roles
from ...domain.errors import DomainError, NotFound
from ...domain.report_periods import (
    KINDS,
    DueRules,
    Period,
    due_date,
    parse_period,
    periods_between,
    reminders,
    state,
)
from . import build, render
from .model import report_table as rt

__all__ = ["rules", "first_quarter", "period_of", "stored", "audience", "report_for", "submit",
           "receive", "reminders_for", "listing", "canonical", "sha256", "UNIT_TABLES",
           "may_submit", "may_receive", "is_staff"]

UNIT_TABLES = ("catalog_changes", "overdue", "resource_use")
_P = "ckanext.sanyi.reports."


def rules() -> DueRules:
    """The due days from the configuration (checked at startup by :func:`check`)."""
    return DueRules(quarterly_days=int(tk.config.get(_P + "quarterly_due_days") or 15),
                    annual=DueRules.month_day(str(tk.config.get(_P + "annual_due") or "01-31"),
                                              _P + "annual_due"),
                    disclosure=DueRules.month_day(
                        str(tk.config.get(_P + "disclosure_due") or "03-31"),
                        _P + "disclosure_due"))


def first_quarter() -> Period:
    """``ckanext.sanyi.reports.first_quarter``: the first quarter reported on (its year's
    annual report and disclosure are the first of theirs)."""
    return parse_period("quarterly", str(tk.config.get(_P + "first_quarter") or "2026Q4"),
                        _P + "first_quarter")


def period_of(kind: Any, period: Any) -> Period:
    return parse_period(kind, period)


def canonical(figures: Any) -> bytes:
    return json.dumps(figures, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored(period: Period, *, with_pdf: bool = False) -> dict[str, Any] | None:
    cols = [c for c in rt.c if with_pdf or c.name != "pdf"]
    row = model.Session.execute(sa.select(*cols).where(
        rt.c.kind == period.kind, rt.c.period == period.key)).mappings().first()
    return dict(row) if row else None


# -- who ----------------------------------------------------------------------------------------
def is_staff(user: Any) -> bool:
    return roles.is_bureau_staff(user) or roles.is_operator_staff(user)


def may_submit(user: Any) -> bool:
    return roles.is_operator_staff(user)


def may_receive(user: Any) -> bool:
    return roles.is_bureau_staff(user)


def audience(user: Any, kind: str) -> str | None:
    """``all`` (the whole report), ``unit`` (a data unit's part) or None (not to be seen)."""
    if kind == "disclosure" or is_staff(user):
        return "all"
    if user is not None and access.unit_names(user):
        return "unit"
    return None


def _unit_part(figures: dict[str, Any], units: set[str]) -> dict[str, Any]:
    tables = []
    for table in figures["tables"]:
        if table["id"] in UNIT_TABLES:
            rows = [r for r in table["rows"] if r.get("unit_name") in units]
            tables.append(dict(table, rows=rows, total=None))
    counts = {t["id"]: len(t["rows"]) for t in tables}
    summary = [{"key": k, "label": label, "value": counts.get(k, 0), "money": False}
               for k, label in (("catalog_changes", ["本单位资源目录变更", "Catalog changes"]),
                                ("overdue", ["本单位逾期资源", "Overdue resources"]),
                                ("resource_use", ["被调用的本单位资源", "Resources used"]))]
    charts = [c for c in figures["charts"] if c["table"] == "resource_use"]
    return dict(figures, tables=tables, summary=summary, charts=charts, part="unit",
                units=sorted(units))


def report_for(user: Any, kind: Any, period_text: Any, *,
               progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """``{"period", "figures", "stored", "state", "due", "audience"}`` for ``user``:
    the stored figures of a submitted report, else the live ones; a data unit's part.
    ``tk.NotAuthorized`` when the user may not see it."""
    period = period_of(kind, period_text)
    seen = audience(user, period.kind)
    if seen is None:
        raise tk.NotAuthorized(_refusal(period.kind))
    row = stored(period)
    if period.first > clock.today():
        raise DomainError("period", "该期间尚未开始", "that period has not started yet")
    figures = row["figures"] if row else build.build(period, rules=rules(), progress=progress)
    if seen == "unit":
        figures = _unit_part(figures, access.unit_names(user))
    submitted_on = clock.to_local(row["submitted_at"]).date() if row else None  # type: ignore[union-attr]
    return {"period": period, "figures": figures, "stored": _public_row(row),
            "state": state(period, clock.today(), rules(), submitted_on),
            "due": due_date(period, rules()).isoformat(), "audience": seen}


def _refusal(kind: str) -> str:
    from ...common.i18n_text import bi
    return bi("只有数据局、运营机构（及数源单位查看本单位部分）可以查看此报告",
              "Only the data bureau and the operator (and data units, their own part) see "
              "this report")


def _public_row(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: (clock.format_datetime(v) if isinstance(v, dt.datetime) else v)
            for k, v in row.items() if k not in ("figures", "pdf")}


# -- writes -----------------------------------------------------------------------------------
def submit(user: model.User, kind: Any, period_text: Any, *,
           progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Freeze the report (see the module docstring); not committed. ``DomainError`` on
    ``period`` for a period not yet over, on ``status`` for one already submitted."""
    period = period_of(kind, period_text)
    if not may_submit(user):
        raise tk.NotAuthorized(roles.OPERATOR_ONLY)
    today = clock.today()
    if period.last >= today:
        raise DomainError("period", f"{period.key} 尚未结束，结束后方可提交",
                          f"{period.key} has not ended yet; submit it once it has")
    model.Session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                          {"k": f"sanyi_report:{period.kind}:{period.key}"})
    if stored(period) is not None:
        raise DomainError("status", f"{period.key} 的报告已提交，不能再次提交",
                          f"the report of {period.key} has already been submitted")
    figures = build.build(period, rules=rules(), today=today, progress=progress)
    figures_hash = sha256(canonical(figures))
    if progress:
        progress("pdf")
    pdf = render.pdf(figures, zh=True, frozen={"figures_sha256": figures_hash,
                                               "submitted_by": user.name})
    pdf_hash = sha256(pdf)
    report_id = str(uuid.uuid4())
    audit_id = audit.record(user.name, "sanyi_report_submit", "report",
                            f"{period.kind}:{period.key}", after={
                                "id": report_id, "kind": period.kind, "period": period.key,
                                "pdf_sha256": pdf_hash, "figures_sha256": figures_hash,
                                "pdf_bytes": len(pdf)})
    model.Session.execute(rt.insert().values(
        id=report_id, kind=period.kind, period=period.key, language="zh_Hans_CN",
        figures=json.loads(canonical(figures)), figures_sha256=figures_hash, pdf=pdf,
        pdf_sha256=pdf_hash, status="submitted", submitted_by=user.name,
        submitted_at=clock.now_utc(), audit_id=audit_id))
    return _public_row(stored(period)) or {}


def receive(user: model.User, kind: Any, period_text: Any, comment: Any = None) -> dict[str, Any]:
    """The bureau marks a submitted report received (once); audited; not committed."""
    period = period_of(kind, period_text)
    if not may_receive(user):
        raise tk.NotAuthorized(roles.BUREAU_ONLY)
    text = comment.strip() if isinstance(comment, str) else ""
    if comment is not None and not isinstance(comment, str) or len(text) > 1000 or \
            "\x00" in text:
        raise DomainError("comment", "意见须为不超过 1000 字的文本",
                          "the comment must be text of at most 1000 characters")
    row = model.Session.execute(sa.select(rt.c.id, rt.c.status).where(
        rt.c.kind == period.kind, rt.c.period == period.key).with_for_update()).first()
    if row is None:
        raise NotFound("period", f"{period.key} 的报告尚未提交", f"no report of {period.key} "
                       "has been submitted")
    if row.status != "submitted":
        raise DomainError("status", "该报告已签收", "that report has already been received")
    model.Session.execute(rt.update().where(rt.c.id == row.id).values(
        status="received", received_by=user.name, received_at=clock.now_utc(),
        received_comment=text or None))
    audit.record(user.name, "sanyi_report_receive", "report", f"{period.kind}:{period.key}",
                 before={"status": "submitted"}, after={"status": "received", "comment": text})
    return _public_row(stored(period)) or {}


# -- lists ------------------------------------------------------------------------------------
def _submitted() -> dict[tuple[str, str], dict[str, Any]]:
    rows = model.Session.execute(sa.select(
        rt.c.kind, rt.c.period, rt.c.status, rt.c.submitted_at, rt.c.submitted_by,
        rt.c.received_at, rt.c.received_by, rt.c.pdf_sha256)).mappings()
    return {(r["kind"], r["period"]): dict(r) for r in rows}


def reminders_for(user: Any, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Due and overdue reports for bureau and operator staff ([] for anyone else)."""
    if not is_staff(user):
        return []
    today = today or clock.today()
    done = {k: clock.to_local(v["submitted_at"]).date()  # type: ignore[union-attr]
            for k, v in _submitted().items()}
    first = first_quarter()
    return [_reminder(r) for r in reminders(today, rules(), submitted=done,
                                            first_year=first.year, first_quarter=first.quarter)
            if r.state in ("due", "overdue")]


def _reminder(r: Any) -> dict[str, Any]:
    return {"kind": r.period.kind, "period": r.period.key, "title": [r.period.title(True),
                                                                    r.period.title(False)],
            "due": r.due.isoformat(), "state": r.state, "days_left": r.days_left}


def listing(user: Any, today: dt.date | None = None) -> dict[str, Any]:
    """Every report period from the first reported quarter on, newest first, with its state and, when
    submitted, who submitted and received it; for staff (a data unit: quarterly and annual
    periods, its part)."""
    today = today or clock.today()
    seen = audience(user, "quarterly")
    done = _submitted()
    out = []
    for kind in KINDS:
        if seen is None and kind != "disclosure":
            continue
        first = first_quarter()
        for period in periods_between(kind, first.year, today, first.quarter):
            row = done.get((kind, period.key))
            on = clock.to_local(row["submitted_at"]).date() if row else None  # type: ignore[union-attr]
            out.append({"kind": kind, "period": period.key,
                        "title": [period.title(True), period.title(False)],
                        "due": due_date(period, rules()).isoformat(),
                        "state": state(period, today, rules(), on),
                        "submitted": _public_row(row) if row and (
                            seen == "all" or kind == "disclosure") else None})
    out.sort(key=lambda r: (r["due"], r["kind"]), reverse=True)
    return {"reports": out, "reminders": reminders_for(user, today), "audience": seen}


def check(config: Any) -> None:
    """Refuse to start on due days that are no days (``IConfigurable``)."""
    try:
        days = int(config.get(_P + "quarterly_due_days") or 15)
        if not 0 <= days <= 366:
            raise ValueError(days)
        parse_period("quarterly", str(config.get(_P + "first_quarter") or "2026Q4"))
    except (TypeError, ValueError, DomainError):
        raise RuntimeError(f"{_P}quarterly_due_days must be 0..366 and {_P}first_quarter "
                           "a quarter (2026Q4)") from None
    for key, default in (("annual_due", "01-31"), ("disclosure_due", "03-31")):
        try:
            DueRules.month_day(str(config.get(_P + key) or default), _P + key)
        except DomainError as err:
            raise RuntimeError(f"{_P}{key}: {err.en}") from None
