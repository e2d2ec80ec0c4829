"""The figures of the bureau's supervision view (``/bureau/supervision``), each for a period
(inclusive Beijing dates), optionally one data unit and one product.

* **Calls per day** (``sanyi_ledger``): granted and refused per local day, refusals by their
  error code. A data unit selects the calls that read its catalog resources (the ledger's
  ``resources``), a product the calls of that product.
* **Entitlements** by status (active / suspended / expired / revoked): those whose
  authorized period overlaps the period; a unit selects the products it supplies.
* **Open alerts** (``sanyi_alert``, :mod:`..delivery.alerts`) by kind: open ones counted
  during the period (first refusal before its end, last one after its start).
* **Revenue against the cap** (最高准许收入, ``sanyi_revenue_status``): the yearly periods the
  period touches, with the warning mark (80 % unless the bureau set another) and 100 %. The
  cap is the operator's, for all products: the unit and product filters do not apply to it.
* **Overdue catalog resources** per data unit (:mod:`..catalog.overdue`), as of the period's
  end (today at most); a product selects the resources it draws on.
* **Applications waiting** per step (数源单位审核 per unit, 数据局审批, 待缴费) and their ages
  (days since the step began: the application's last change), those submitted by the
  period's end and still waiting; the period's start does not apply (an old waiting
  application matters most).

:func:`parse` checks the filters (field errors in Chinese and English, never an exception
on bad text); nothing here builds SQL from request text (values are bound).
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from ..applications.model import application_table as apps
from ..applications.model import entitlement_table as ents
from ..catalog import overdue
from ..common import clock, roles
from ..common.i18n_text import bi
from ..common.ids import id_problem
from ..delivery.alerts import KIND_TEXT
from ..delivery.model import alert_table as alerts
from ..delivery.model import ledger_table as ledger

__all__ = ["Filters", "parse", "calls", "entitlements", "open_alerts", "revenue",
           "overdue_by_unit", "waiting", "all_figures", "units", "products", "MAX_DAYS",
           "DEFAULT_DAYS", "ENTITLEMENT_STATUSES", "WAITING_STEPS"]

MAX_DAYS = 400
DEFAULT_DAYS = 30
ENTITLEMENT_STATUSES = {"active": ("有效", "active"), "suspended": ("已暂停", "suspended"),
                        "expired": ("已到期", "expired"), "revoked": ("已撤销", "revoked")}
WAITING_STEPS = {"unit_review": ("数源单位审核", "data unit review"),
                 "bureau_review": ("数据局审批", "bureau approval"),
                 "awaiting_payment": ("待缴费", "awaiting payment")}
REFUSAL_FALLBACK = ("其他拒绝", "other refusal")


@dataclass(frozen=True)
class Filters:
    """What the figures are for: the inclusive local dates, a data unit and a product
    (organisation and product names, or None for all)."""

    date_from: dt.date
    date_to: dt.date
    unit: str | None = None
    product: str | None = None

    def as_args(self) -> dict[str, str]:
        out = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.unit:
            out["organization"] = self.unit
        if self.product:
            out["product"] = self.product
        return out

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def start_utc(self) -> dt.datetime:
        return _midnight(self.date_from)

    def end_utc(self) -> dt.datetime:
        """The instant the period ends (exclusive): the local midnight after ``date_to``."""
        return _midnight(self.date_to + dt.timedelta(days=1))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), clock.local_tz()).astimezone(dt.timezone.utc)


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and id_problem(value) is None:
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    shown = value if isinstance(value, str) and id_problem(value) is None else "…"
    errors[field] = [bi(f"日期格式须为 YYYY-MM-DD：{shown!r}", f"date must be YYYY-MM-DD: {shown!r}")]
    return None


def _name(value: Any, field: str, known: set[str], errors: dict[str, list[str]],
          zh: str, en: str) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or id_problem(value) is not None:
        errors[field] = [bi(f"{zh}须为名称文本", f"{en} must be a name")]
        return None
    value = value.strip()
    if value not in known:
        errors[field] = [bi(f"没有这个{zh}：{value[:100]}", f"no such {en}: {value[:100]}")]
        return None
    return value


def parse(data: Mapping[str, Any], today: dt.date | None = None
          ) -> tuple[Filters, dict[str, list[str]]]:
    """The filters of ``data`` (``date_from``, ``date_to``, ``organization``: a data unit,
    ``product``) and the
    field errors: a bad field is named there and its default used instead (the last
    :data:`DEFAULT_DAYS` days up to today, every unit, every product)."""
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    date_to = _date(data.get("date_to"), "date_to", errors)
    date_from = _date(data.get("date_from"), "date_from", errors)
    if date_from and date_from > today:
        errors["date_from"] = [bi(f"开始日期不能晚于今天（{today.isoformat()}）",
                                  f"date_from cannot be after today ({today.isoformat()})")]
        date_from = None
    end = date_to or today
    start = date_from or end - dt.timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors["date_to"] = [bi("结束日期早于开始日期", "date_to is before date_from")]
        end = start + dt.timedelta(days=DEFAULT_DAYS - 1)
    if (end - start).days + 1 > MAX_DAYS:
        errors["date_from"] = [bi(f"时间跨度过长（最多 {MAX_DAYS} 天）",
                                  f"span too long ({MAX_DAYS} days at most)")]
        start = end - dt.timedelta(days=DEFAULT_DAYS - 1)
    unit = _name(data.get("organization"), "organization", {u["name"] for u in units()}, errors,
                 "数源单位", "data unit")
    product = _name(data.get("product"), "product", {p["name"] for p in products()}, errors,
                    "产品", "product")
    return Filters(start, end, unit, product), errors


# -- what the filters choose from -------------------------------------------------------------
def units() -> list[dict[str, str]]:
    """The data units: active organisations but the bureau and the operator, by title."""
    g = model.group_table
    rows = model.Session.execute(
        sa.select(g.c.id, g.c.name, g.c.title)
        .where(g.c.is_organization.is_(True), g.c.state == "active",
               g.c.name.notin_([roles.bureau_org(), roles.operator_org()]))
        .order_by(g.c.title, g.c.name))
    return [{"id": r.id, "name": r.name, "title": r.title or r.name} for r in rows]


def _listed(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return []
        return [str(v) for v in items] if isinstance(items, list) else []
    return [value] if isinstance(value, str) and value else []


def products() -> list[dict[str, Any]]:
    """Every product not deleted, with its status, supplying units and source resources."""
    p = model.package_table
    rows = model.Session.execute(
        sa.select(p.c.id, p.c.name, p.c.title, p.c.extras)
        .where(p.c.type == "product", p.c.state == "active").order_by(p.c.title, p.c.name))
    out = []
    for r in rows:
        extras = r.extras or {}
        out.append({"id": r.id, "name": r.name, "title": r.title or r.name,
                    "status": extras.get("status", ""),
                    "supplying_units": _listed(extras.get("supplying_units")),
                    "source_resources": _listed(extras.get("source_resources"))})
    return out


def _product_names(f: Filters) -> list[str] | None:
    """The products the filters select (None: all)."""
    if f.product is None and f.unit is None:
        return None
    return [p["name"] for p in products()
            if (f.product is None or p["name"] == f.product)
            and (f.unit is None or f.unit in p["supplying_units"])]


def _unit_resources(unit: str) -> list[str]:
    p, g = model.package_table, model.group_table
    return list(model.Session.execute(
        sa.select(p.c.name).select_from(p.join(g, g.c.id == p.c.owner_org))
        .where(g.c.name == unit, p.c.type == "dataset")).scalars())


# -- the figures --------------------------------------------------------------------------------
def _refusal_text(code: str) -> tuple[str, str]:
    from ..delivery.gateway import ERRORS
    found = ERRORS.get(code)
    return (found[1], found[2]) if found else REFUSAL_FALLBACK


def calls(f: Filters) -> dict[str, Any]:
    """``{"days": [{"day", "granted", "refused"}] (every day of the period), "granted",
    "refused", "by_reason": [{"code", "zh", "en", "count"}] (most first)}``."""
    tz = getattr(clock.local_tz(), "key", clock.DEFAULT_TIMEZONE)
    day = sa.cast(sa.func.timezone(tz, ledger.c.at), sa.Date).label("day")
    stmt = (sa.select(day, ledger.c.outcome, ledger.c.error, sa.func.count().label("n"))
            .where(ledger.c.at >= f.start_utc(), ledger.c.at < f.end_utc()))
    if f.product:
        stmt = stmt.where(ledger.c.product == f.product)
    if f.unit:
        names = _unit_resources(f.unit) or [""]
        stmt = stmt.where(ledger.c.resources.overlap(
            sa.cast(sa.literal(names), ARRAY(sa.UnicodeText))))
    stmt = stmt.group_by(day, ledger.c.outcome, ledger.c.error)
    per_day: dict[dt.date, list[int]] = {}
    reasons: dict[str, int] = {}
    for r in model.Session.execute(stmt):
        counts = per_day.setdefault(r.day, [0, 0])
        if r.outcome == "granted":
            counts[0] += int(r.n)
        else:
            counts[1] += int(r.n)
            reasons[r.error or ""] = reasons.get(r.error or "", 0) + int(r.n)
    days = []
    for i in range(f.days):
        d = f.date_from + dt.timedelta(days=i)
        granted, refused = per_day.get(d, [0, 0])
        days.append({"day": d.isoformat(), "granted": granted, "refused": refused})
    by_reason = [{"code": code, "zh": _refusal_text(code)[0], "en": _refusal_text(code)[1],
                  "count": n} for code, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"days": days, "granted": sum(d["granted"] for d in days),
            "refused": sum(d["refused"] for d in days), "by_reason": by_reason}


def entitlements(f: Filters) -> dict[str, Any]:
    """``{"by_status": [{"status", "zh", "en", "count"}], "total"}``: entitlements whose
    authorized period overlaps the period."""
    stmt = (sa.select(ents.c.status, sa.func.count().label("n"))
            .where(ents.c.period_start <= f.date_to, ents.c.period_end >= f.date_from))
    names = _product_names(f)
    if names is not None:
        stmt = stmt.where(ents.c.product_name.in_(names or [""]))
    found = {r.status: int(r.n) for r in model.Session.execute(stmt.group_by(ents.c.status))}
    rows = [{"status": s, "zh": zh, "en": en, "count": found.get(s, 0)}
            for s, (zh, en) in ENTITLEMENT_STATUSES.items()]
    return {"by_status": rows, "total": sum(found.values())}


def open_alerts(f: Filters) -> dict[str, Any]:
    """``{"by_kind": [{"kind", "zh", "en", "alerts", "refusals"}], "total"}``: alerts open
    now whose refusals fall in the period."""
    stmt = (sa.select(alerts.c.kind, sa.func.count().label("n"),
                      sa.func.coalesce(sa.func.sum(alerts.c.count), 0).label("refusals"))
            .where(alerts.c.status == "open", alerts.c.first_at < f.end_utc(),
                   alerts.c.last_at >= f.start_utc()))
    names = _product_names(f)
    if names is not None:
        stmt = stmt.where(alerts.c.product.in_(names or [""]))
    found = {r.kind: (int(r.n), int(r.refusals))
             for r in model.Session.execute(stmt.group_by(alerts.c.kind))}
    rows = [{"kind": k, "zh": zh, "en": en, "alerts": found.get(k, (0, 0))[0],
             "refusals": found.get(k, (0, 0))[1]} for k, (zh, en) in KIND_TEXT.items()]
    return {"by_kind": rows, "total": sum(n for n, _ in found.values())}


def revenue(f: Filters, context: Any) -> dict[str, Any]:
    """``{"periods": [...]}``: the yearly cap periods the period touches, each with
    ``effective_cap_fen``, ``billed_fen``, ``used_pct`` (text or None), ``level`` (ok,
    warning, exceeded), ``warning_pct`` and the yuan texts ``sanyi_revenue_status`` gives."""
    report = tk.get_action("sanyi_revenue_status")(dict(context), {})
    years = {str(y) for y in range(f.date_from.year, f.date_to.year + 1)}
    periods = [p for p in report["periods"] if str(p["period"]) in years]
    return {"periods": periods, "years": sorted(years)}


def overdue_by_unit(f: Filters) -> dict[str, Any]:
    """``{"as_of", "units": [{"name", "title", "count", "most_days", "resources"}], "total"}``:
    catalog resources past their due date at the period's end (today at most)."""
    as_of = min(f.date_to, clock.today())
    rows = overdue.overdue_resources(user=None, today=as_of)
    if f.unit:
        rows = [r for r in rows if r["organization"] == f.unit]
    if f.product:
        drawn = next((set(p["source_resources"]) for p in products()
                      if p["name"] == f.product), set())
        rows = [r for r in rows if r["name"] in drawn]
    by_unit: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_unit.setdefault(r["organization"], {
            "name": r["organization"], "title": r["organization_title"], "count": 0,
            "most_days": 0, "resources": []})
        entry["count"] += 1
        entry["most_days"] = max(entry["most_days"], int(r["days_overdue"] or 0))
        entry["resources"].append({k: r[k] for k in ("name", "title", "next_due",
                                                     "days_overdue")})
    out = sorted(by_unit.values(), key=lambda e: (-e["count"], e["title"]))
    return {"as_of": as_of.isoformat(), "units": out, "total": len(rows)}


def waiting(f: Filters) -> dict[str, Any]:
    """``{"steps": [{"step", "zh", "en", "count", "oldest_days", "mean_days",
    "units": [{"name", "title", "count", "oldest_days"}] (unit review only)}], "total"}``."""
    stmt = (sa.select(apps.c.id, apps.c.status, apps.c.product_name, apps.c.required_units,
                      apps.c.unit_decisions, apps.c.modified, apps.c.submitted)
            .where(apps.c.status.in_(list(WAITING_STEPS)), apps.c.submitted < f.end_utc()))
    if f.product:
        stmt = stmt.where(apps.c.product_name == f.product)
    now = clock.now_utc()
    titles = {u["name"]: u["title"] for u in units()}
    steps: dict[str, list[int]] = {s: [] for s in WAITING_STEPS}
    per_unit: dict[str, list[int]] = {}
    for r in model.Session.execute(stmt):
        required = [str(u) for u in (r.required_units or [])]
        pending = [u for u in required if u not in (r.unit_decisions or {})]
        if f.unit and f.unit not in required:
            continue
        if f.unit and r.status == "unit_review" and f.unit not in pending:
            continue  # the unit decided: it waits on another unit
        age = max(0, (now - r.modified).days) if r.modified else 0
        steps[r.status].append(age)
        if r.status == "unit_review":
            for u in pending if not f.unit else [f.unit]:
                per_unit.setdefault(u, []).append(age)
    out = []
    for step, (zh, en) in WAITING_STEPS.items():
        ages = steps[step]
        entry: dict[str, Any] = {
            "step": step, "zh": zh, "en": en, "count": len(ages),
            "oldest_days": max(ages) if ages else None,
            "mean_days": round(sum(ages) / len(ages), 1) if ages else None}
        if step == "unit_review":
            entry["units"] = [{"name": u, "title": titles.get(u, u), "count": len(a),
                               "oldest_days": max(a)}
                              for u, a in sorted(per_unit.items(), key=lambda kv: -len(kv[1]))]
        out.append(entry)
    return {"steps": out, "total": sum(len(a) for a in steps.values())}


def all_figures(f: Filters, context: Any) -> dict[str, Any]:
    """Every figure above for ``f``, with the filters as given (JSON-ready)."""
    return {"filters": f.as_args(), "timezone": getattr(clock.local_tz(), "key", ""),
            "calls": calls(f), "entitlements": entitlements(f), "alerts": open_alerts(f),
            "revenue": revenue(f, context), "overdue": overdue_by_unit(f),
            "waiting": waiting(f)}
