"""Who sees which ledger rows, the rows of a list, and usage per entitlement per day.

* Bureau staff (数据局) and operator staff (运营机构) see every row (sysadmins count as both).
* A merchant (数商) sees its own rows (``merchant_id``).
* A data unit's editors see the rows whose ``fields_read`` touch its resources: the catalog
  resources (datasets) its organisation owns, matched on the ledger's ``resources`` column.
* Anyone else sees nothing (the actions refuse them).

Days are people's days (``ckan.display_timezone``, Asia/Shanghai): a call at 2026-12-01
23:30 Beijing time (15:30 UTC) counts on 12-01. Date filters are inclusive local dates.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from ..applications import access
from ..common import clock, paging, roles
from ..common.i18n_text import bi
from ..common.ids import id_problem
from ..common.user import acting_user, is_internal
from .model import OUTCOMES
from .model import ledger_table as t

__all__ = ["Scope", "scope_for", "scope_of", "filters", "rows", "usage_daily", "as_dict", "USAGE_MAX_DAYS"]

USAGE_MAX_DAYS = 400  # days one usage query may span


@dataclass(frozen=True)
class Scope:
    """The rows a user may see: all, or those of some merchants or touching some resources."""

    everything: bool = False
    merchant_ids: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.everything or self.merchant_ids or self.resources)

    def where(self) -> Any:
        if self.everything:
            return sa.true()
        parts = []
        if self.merchant_ids:
            parts.append(t.c.merchant_id.in_(self.merchant_ids))
        if self.resources:
            parts.append(t.c.resources.overlap(
                sa.cast(sa.literal(list(self.resources)), ARRAY(sa.UnicodeText))))
        return sa.or_(*parts) if parts else sa.false()


def scope_for(user: Any) -> Scope:
    """What ``user`` (a ``model.User``, a name, or None) may see of the ledger."""
    obj = access.user_obj(user)
    if obj is None:
        return Scope()
    if roles.is_bureau_staff(obj) or roles.is_operator_staff(obj):
        return Scope(everything=True)
    merchant = access.merchant_for(obj)
    units = access.unit_names(obj)
    names: tuple[str, ...] = ()
    if units:
        pkg, grp = model.package_table, model.group_table
        names = tuple(sorted(model.Session.execute(
            sa.select(pkg.c.name).select_from(pkg.join(grp, grp.c.id == pkg.c.owner_org))
            .where(grp.c.name.in_(sorted(units)), pkg.c.type == "dataset")).scalars()))
        names = names or ("",)  # a unit without resources sees nothing, yet is a unit
    return Scope(merchant_ids=(merchant["id"],) if merchant else (), resources=names)


def scope_of(context: Any) -> Scope:
    """The scope of an action's caller; an internal call (``ignore_auth``, no user) sees all."""
    if is_internal(context):
        return Scope(everything=True)
    return scope_for(acting_user(context))


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[field] = [bi(f"日期格式须为 YYYY-MM-DD：{value!r}", f"date must be YYYY-MM-DD: {value!r}")]
    return None


def filters(data_dict: Mapping[str, Any]) -> dict[str, Any]:
    """The filters of a list or usage query, checked: ``entitlement_id``, ``client_id``,
    ``merchant_id``, ``product``, ``operation`` (text), ``outcome`` (granted | refused),
    ``date_from`` / ``date_to`` (inclusive local dates). ``tk.ValidationError`` naming each
    bad one."""
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}
    for key in ("entitlement_id", "client_id", "merchant_id", "product", "operation"):
        value = data_dict.get(key)
        if value is None or value == "":
            continue
        problem = id_problem(value)
        if problem:
            errors[key] = [problem]
        else:
            out[key] = value.strip()
    outcome = data_dict.get("outcome")
    if outcome not in (None, ""):
        if outcome in OUTCOMES:
            out["outcome"] = outcome
        else:
            errors["outcome"] = [bi(f"结果须为 granted（放行）或 refused（拒绝）：{outcome!r}",
                                    f"outcome must be granted or refused: {outcome!r}")]
    out["date_from"] = _date(data_dict.get("date_from"), "date_from", errors)
    out["date_to"] = _date(data_dict.get("date_to"), "date_to", errors)
    if out["date_from"] and out["date_to"] and out["date_from"] > out["date_to"]:
        errors["date_to"] = [bi("结束日期早于开始日期", "date_to is before date_from")]
    if errors:
        raise tk.ValidationError(errors)
    return out


def _bounds(day: dt.date) -> dt.datetime:
    """The UTC instant at which the local ``day`` starts."""
    return dt.datetime.combine(day, dt.time(0), clock.local_tz()).astimezone(dt.timezone.utc)


def _filtered(stmt: Any, scope: Scope, f: Mapping[str, Any]) -> Any:
    stmt = stmt.where(scope.where())
    for key in ("entitlement_id", "client_id", "merchant_id", "product", "operation", "outcome"):
        if f.get(key):
            stmt = stmt.where(t.c[key] == f[key])
    if f.get("date_from"):
        stmt = stmt.where(t.c.at >= _bounds(f["date_from"]))
    if f.get("date_to"):
        stmt = stmt.where(t.c.at < _bounds(f["date_to"] + dt.timedelta(days=1)))
    return stmt


def as_dict(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: row[k] for k in ("id", "request_id", "merchant_id", "client_id", "entitlement_id",
                               "product", "operation", "outcome", "error", "units",
                               "input_hash", "answer_bytes")}
    out.update(at=row["at"].isoformat(), at_local=clock.format_datetime(row["at"]),
               fields_read=list(row["fields_read"]), latency_ms=float(row["latency_ms"]))
    return out


def rows(scope: Scope, data_dict: Mapping[str, Any]) -> dict[str, Any]:
    """``{"count", "results"}``: the rows ``scope`` sees matching the filters, newest first,
    paged by ``limit`` (default 100, at most 1000) and ``offset``."""
    f = filters(data_dict)
    page = paging.page(data_dict, default_limit=100)
    count = model.Session.execute(
        _filtered(sa.select(sa.func.count()).select_from(t), scope, f)).scalar_one()
    stmt = (_filtered(sa.select(t), scope, f).order_by(t.c.at.desc(), t.c.id.desc())
            .limit(page.limit).offset(page.offset))
    return {"count": int(count),
            "results": [as_dict(r) for r in model.Session.execute(stmt).mappings()]}


def usage_daily(scope: Scope, data_dict: Mapping[str, Any]) -> dict[str, Any]:
    """Calls per entitlement per local day: ``{"date_from", "date_to", "timezone",
    "results": [{"entitlement_id", "day", "granted", "refused", "units"}]}`` ordered by
    entitlement and day; days without calls are left out. Without dates: the 30 days up to
    today; a span longer than :data:`USAGE_MAX_DAYS` is refused."""
    f = filters(data_dict)
    end = f["date_to"] or clock.today()
    start = f["date_from"] or end - dt.timedelta(days=29)
    if (end - start).days + 1 > USAGE_MAX_DAYS:
        raise tk.ValidationError({"date_from": [bi(
            f"时间跨度过长（最多 {USAGE_MAX_DAYS} 天）", f"span too long ({USAGE_MAX_DAYS} days at most)")]})
    f = dict(f, date_from=start, date_to=end)
    tz = getattr(clock.local_tz(), "key", clock.DEFAULT_TIMEZONE)
    day = sa.cast(sa.func.timezone(tz, t.c.at), sa.Date).label("day")
    granted = sa.func.count().filter(t.c.outcome == "granted").label("granted")
    refused = sa.func.count().filter(t.c.outcome == "refused").label("refused")
    stmt = _filtered(sa.select(t.c.entitlement_id, day, granted, refused,
                               sa.func.coalesce(sa.func.sum(t.c.units), 0).label("units")),
                     scope, f)
    stmt = stmt.group_by(t.c.entitlement_id, day).order_by(t.c.entitlement_id, day)
    results = [{"entitlement_id": r.entitlement_id, "day": r.day.isoformat(),
                "granted": int(r.granted), "refused": int(r.refused), "units": int(r.units)}
               for r in model.Session.execute(stmt)]
    return {"date_from": start.isoformat(), "date_to": end.isoformat(), "timezone": tz,
            "count": len(results), "results": results}
