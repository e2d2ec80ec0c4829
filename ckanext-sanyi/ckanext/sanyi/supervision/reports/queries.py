"""The figures of a period, read from the tables where they are kept (no user text in SQL).

Every function takes the period's UTC bounds ``[start, end)`` (the Beijing days of the
period, :func:`bounds`) and answers plain rows (dicts) with integers, never floats:

* catalog changes: CKAN's activity stream of catalog resources (``new package``,
  ``changed package``, ``deleted package``); a resource added in the period is counted as
  added only; the overdue resources as of the period's last day (or today, if earlier);
* products listed and delisted: the products' status in their activity stream, a change
  into 已批准（上架）(``approved``) in the period is a listing, a change out of it a delisting;
* applications: submitted in the period, decided in the period by outcome, waiting now;
* entitlements: granted, ended (expired, revoked) in the period, in force at its end;
* calls: the data-flow ledger (``sanyi_ledger``) by product, merchant and outcome, refusals
  by error code, granted calls per catalog resource read;
* alerts (``sanyi_alert``) opened in the period, by kind and by the bureau's decision;
* revenue: orders paid in the period (still paid: a refunded one counts nothing, as the
  revenue cap counts it), by kind; refunds completed; monthly statements of its months.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from ...applications.model import application_table as apt
from ...applications.model import entitlement_table as et
from ...applications.model import merchant_table as mt
from ...common import clock
from ...delivery.model import alert_table as alt
from ...delivery.model import ledger_table as lt
from ...delivery.model import statement_table as st
from ...domain.report_periods import Period
from ...payments.model import PAID
from ...payments.model import order_table as ot
from ...payments.model import refund_table as rt

__all__ = ["bounds", "catalog_changes", "overdue", "product_changes", "applications",
           "entitlements", "calls", "refusals", "resource_use", "alerts", "revenue",
           "statements", "APPROVED_STATUSES", "WAITING_STATUSES"]

APPROVED_STATUSES = ("approved", "awaiting_payment", "paid", "active", "suspended", "expired",
                     "revoked")
WAITING_STATUSES = ("submitted", "unit_review", "bureau_review")
_activity = sa.table("activity", sa.column("timestamp"), sa.column("object_id"),
                     sa.column("activity_type"), sa.column("data"))
_package = sa.table("package", sa.column("id"), sa.column("name"), sa.column("title"),
                    sa.column("type"), sa.column("owner_org"), sa.column("state"))
_group = sa.table("group", sa.column("id"), sa.column("name"), sa.column("title"))


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), clock.local_tz()).astimezone(dt.timezone.utc)


def bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's Beijing days as aware UTC instants ``[start, end)``."""
    return _utc(period.first), _utc(period.last + dt.timedelta(days=1))


def _rows(stmt: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in model.Session.execute(stmt).mappings()]


def _naive(value: dt.datetime) -> dt.datetime:
    """CKAN's activity timestamps are naive UTC."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None)


# -- catalog ------------------------------------------------------------------------------------
def _activities(kind: str, start: dt.datetime | None, end: dt.datetime) -> list[dict[str, Any]]:
    stmt = (sa.select(_activity.c.timestamp, _activity.c.activity_type, _activity.c.data,
                      _package.c.id, _package.c.name, _package.c.title,
                      _group.c.title.label("unit"), _group.c.name.label("unit_name"))
            .select_from(_activity.join(_package, _package.c.id == _activity.c.object_id)
                         .outerjoin(_group, _group.c.id == _package.c.owner_org))
            .where(_package.c.type == kind, _activity.c.timestamp < _naive(end),
                   _activity.c.activity_type.in_(("new package", "changed package",
                                                  "deleted package")))
            .order_by(_activity.c.timestamp))
    if start is not None:
        stmt = stmt.where(_activity.c.timestamp >= _naive(start))
    return _rows(stmt)


def catalog_changes(start: dt.datetime, end: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """``{"added", "changed", "retired"}``: each catalog resource once, with its unit and the
    Beijing day of its (last) change in the period."""
    found: dict[str, dict[str, dict[str, Any]]] = {"added": {}, "changed": {}, "retired": {}}
    for row in _activities("dataset", start, end):
        what = {"new package": "added", "changed package": "changed",
                "deleted package": "retired"}[row["activity_type"]]
        item = {"name": row["name"], "title": row["title"], "unit": row["unit"] or "",
                "unit_name": row["unit_name"] or "",
                "day": clock.to_local(row["timestamp"]).date().isoformat()}  # type: ignore[union-attr]
        if what == "changed" and row["id"] in found["added"]:
            continue
        found[what][row["id"]] = item
    for pid in found["retired"]:
        found["changed"].pop(pid, None)
    return {k: sorted(v.values(), key=lambda i: (i["unit"], i["title"])) for k, v in found.items()}


def overdue(on: dt.date) -> list[dict[str, Any]]:
    """Catalog resources past their update due date on ``on``, per resource."""
    from ...catalog.overdue import overdue_resources
    return [{"name": r["name"], "title": r["title"], "unit": r["organization_title"],
             "unit_name": r["organization"], "next_due": r["next_due"],
             "days_overdue": int(r["days_overdue"] or 0)} for r in overdue_resources(today=on)]


def _status(data: Any) -> str:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return ""
    pkg = (data or {}).get("package") or {}
    return str(pkg.get("status") or "")


def product_changes(start: dt.datetime, end: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """``{"listed", "delisted"}``: products whose status changed into, or out of, approved
    (listed) in the period, with the Beijing day of the change."""
    last: dict[str, str] = {}
    out: dict[str, list[dict[str, Any]]] = {"listed": [], "delisted": []}
    for row in _activities("product", None, end):
        status = _status(row["data"]) if row["activity_type"] != "deleted package" else "deleted"
        before = last.get(row["id"], "")
        last[row["id"]] = status
        if row["timestamp"] < _naive(start) or status == before:
            continue
        item = {"name": row["name"], "title": row["title"],
                "day": clock.to_local(row["timestamp"]).date().isoformat()}  # type: ignore[union-attr]
        if status == "approved":
            out["listed"].append(item)
        elif before == "approved":
            out["delisted"].append(item)
    return out


# -- applications and entitlements ---------------------------------------------------------
def applications(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Submitted in the period; decided in the period per outcome (the status they reached:
    approved — whatever became of the entitlement since —, rejected, returned, withdrawn);
    waiting for a review now."""
    submitted = model.Session.execute(sa.select(sa.func.count()).where(
        apt.c.submitted >= start, apt.c.submitted < end)).scalar_one()
    outcome = sa.case((apt.c.status.in_(APPROVED_STATUSES), "approved"),
                      else_=apt.c.status).label("outcome")
    decided = {r["outcome"]: int(r["n"]) for r in _rows(
        sa.select(outcome, sa.func.count().label("n"))
        .where(apt.c.decided >= start, apt.c.decided < end).group_by(outcome))}
    waiting = {r["status"]: int(r["n"]) for r in _rows(
        sa.select(apt.c.status, sa.func.count().label("n"))
        .where(apt.c.status.in_(WAITING_STATUSES)).group_by(apt.c.status))}
    return {"submitted": int(submitted), "decided": decided, "waiting": waiting}


def entitlements(start: dt.datetime, end: dt.datetime, last_day: dt.date) -> dict[str, Any]:
    """Granted (created) and ended in the period, by status; in force on its last day."""
    granted = {r["status"]: int(r["n"]) for r in _rows(
        sa.select(et.c.status, sa.func.count().label("n"))
        .where(et.c.created >= start, et.c.created < end).group_by(et.c.status))}
    ended = {r["status"]: int(r["n"]) for r in _rows(
        sa.select(et.c.status, sa.func.count().label("n"))
        .where(et.c.ended >= start, et.c.ended < end).group_by(et.c.status))}
    in_force = model.Session.execute(sa.select(sa.func.count()).where(
        et.c.created < end, et.c.period_start <= last_day, et.c.period_end >= last_day,
        sa.or_(et.c.ended.is_(None), et.c.ended >= end))).scalar_one()
    return {"granted": granted, "ended": ended, "in_force": int(in_force)}


# -- calls ------------------------------------------------------------------------------------
def calls(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Per product and merchant: granted calls, their quota units, refused calls."""
    granted = sa.func.count().filter(lt.c.outcome == "granted")
    stmt = (sa.select(lt.c.product, lt.c.merchant_id, mt.c.company_name,
                      granted.label("granted"),
                      sa.func.coalesce(sa.func.sum(lt.c.units), 0).label("units"),
                      sa.func.count().filter(lt.c.outcome == "refused").label("refused"))
            .select_from(lt.outerjoin(mt, mt.c.id == lt.c.merchant_id))
            .where(lt.c.at >= start, lt.c.at < end)
            .group_by(lt.c.product, lt.c.merchant_id, mt.c.company_name)
            .order_by(lt.c.product, mt.c.company_name, lt.c.merchant_id))
    titles = _product_titles()
    return [dict(r, granted=int(r["granted"]), units=int(r["units"]), refused=int(r["refused"]),
                 product_title=titles.get(r["product"], r["product"]),
                 company_name=r["company_name"] or "") for r in _rows(stmt)]


def refusals(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Refused calls per error code."""
    stmt = (sa.select(lt.c.error, sa.func.count().label("n"))
            .where(lt.c.at >= start, lt.c.at < end, lt.c.outcome == "refused")
            .group_by(lt.c.error).order_by(sa.func.count().desc(), lt.c.error))
    return [{"error": r["error"] or "", "n": int(r["n"])} for r in _rows(stmt)]


def resource_use(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Granted calls reading each catalog resource (a call reading two counts for both),
    with the number of products and of merchants behind them."""
    res = sa.func.unnest(lt.c.resources).label("resource")
    inner = (sa.select(res, lt.c.product, lt.c.merchant_id)
             .where(lt.c.at >= start, lt.c.at < end, lt.c.outcome == "granted").subquery())
    stmt = (sa.select(inner.c.resource, sa.func.count().label("calls"),
                      sa.func.count(sa.distinct(inner.c.product)).label("products"),
                      sa.func.count(sa.distinct(inner.c.merchant_id)).label("merchants"))
            .group_by(inner.c.resource).order_by(inner.c.resource))
    rows = _rows(stmt)
    names = [r["resource"] for r in rows]
    meta = {r["name"]: r for r in _rows(
        sa.select(_package.c.name, _package.c.title, _group.c.title.label("unit"),
                  _group.c.name.label("unit_name"))
        .select_from(_package.outerjoin(_group, _group.c.id == _package.c.owner_org))
        .where(_package.c.name.in_(names or [""])))}
    return [{"resource": r["resource"], "title": (meta.get(r["resource"]) or {}).get("title")
             or r["resource"], "unit": (meta.get(r["resource"]) or {}).get("unit") or "",
             "unit_name": (meta.get(r["resource"]) or {}).get("unit_name") or "",
             "calls": int(r["calls"]), "products": int(r["products"]),
             "merchants": int(r["merchants"])} for r in rows]


def _product_titles() -> dict[str, str]:
    return {r["name"]: r["title"] for r in _rows(
        sa.select(_package.c.name, _package.c.title).where(_package.c.type == "product"))}


# -- supervision and money ----------------------------------------------------------------------
def alerts(start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """Alerts opened in the period per kind and outcome (open, or the bureau's decision),
    with the refusals they counted."""
    outcome = sa.func.coalesce(alt.c.decision, alt.c.status).label("outcome")
    stmt = (sa.select(alt.c.kind, outcome, sa.func.count().label("n"),
                      sa.func.sum(alt.c.count).label("refusals"),
                      sa.func.count().filter(alt.c.suspended).label("suspended"))
            .where(alt.c.first_at >= start, alt.c.first_at < end)
            .group_by(alt.c.kind, outcome).order_by(alt.c.kind, outcome))
    return [{"kind": r["kind"], "outcome": r["outcome"], "n": int(r["n"]),
             "refusals": int(r["refusals"] or 0), "suspended": int(r["suspended"])}
            for r in _rows(stmt)]


def revenue(start: dt.datetime, end: dt.datetime) -> dict[str, Any]:
    """Orders paid in the period and still paid, per kind (fen); refunds completed in it."""
    by_kind = {r["kind"]: {"orders": int(r["n"]), "fen": int(r["fen"])} for r in _rows(
        sa.select(ot.c.kind, sa.func.count().label("n"),
                  sa.func.coalesce(sa.func.sum(ot.c.amount_fen), 0).label("fen"))
        .where(ot.c.status == PAID, ot.c.paid_at >= start, ot.c.paid_at < end)
        .group_by(ot.c.kind))}
    refunded = model.Session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(rt.c.amount_fen), 0))
        .where(rt.c.completed_at >= start, rt.c.completed_at < end)).one()
    return {"by_kind": by_kind, "paid_fen": sum(v["fen"] for v in by_kind.values()),
            "refunds": int(refunded[0]), "refunded_fen": int(refunded[1])}


def statements(months: list[str]) -> list[dict[str, Any]]:
    """Monthly statements of ``months`` (``YYYY-MM``) per month and status."""
    stmt = (sa.select(st.c.month, st.c.status, sa.func.count().label("n"),
                      sa.func.sum(st.c.calls).label("calls"),
                      sa.func.sum(st.c.amount_fen).label("fen"))
            .where(st.c.month.in_(months)).group_by(st.c.month, st.c.status)
            .order_by(st.c.month, st.c.status))
    return [{"month": r["month"], "status": r["status"], "n": int(r["n"]),
             "calls": int(r["calls"] or 0), "fen": int(r["fen"] or 0)} for r in _rows(stmt)]
