"""Reading and appending pricing rows; turning them into the engine's objects.

Nothing here commits: callers (the actions) commit the change together with its audit record.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import ckan.model as model
import sqlalchemy as sa

from feeengine import BillingUnit, PricingError, ProductPricing, Schedule, ScheduleVersion, Use

from .model import price_version, pricing_setting

__all__ = ["PRICE", "CEILING", "VersionRow", "SettingRow", "find_product", "require_product",
           "product_category", "listed_products", "all_products", "version_rows", "effective",
           "append_version", "latest_setting", "latest_settings", "setting_history", "append_setting",
           "industrial_allowed", "product_pricing", "product_summary"]

PRICE, CEILING = "price", "ceiling"


@dataclass(frozen=True)
class VersionRow:
    """One stored schedule version."""

    id: int
    product_id: str
    kind: str
    unit: BillingUnit
    effective_from: dt.date
    label: str
    schedule: Schedule
    created: dt.datetime | None
    created_by: str

    @property
    def version_id(self) -> str:
        return f"{self.kind}-{self.id}"

    def engine(self) -> ScheduleVersion:
        return ScheduleVersion(self.version_id, self.effective_from, self.schedule, self.label)

    def to_dict(self, *, who: bool = False) -> dict[str, Any]:
        out = {"id": self.version_id, "kind": self.kind, "product_id": self.product_id,
               "unit": self.unit.value, "effective_from": self.effective_from.isoformat(),
               "label": self.label, "trial": self.schedule.trial,
               "schedule": self.schedule.to_dict(),
               "created": self.created.isoformat() if self.created else None}
        if who:
            out["created_by"] = self.created_by
        return out


@dataclass(frozen=True)
class SettingRow:
    id: int
    name: str
    scope: str
    value: dict[str, Any]
    created: dt.datetime | None
    created_by: str

    def to_dict(self, *, who: bool = True) -> dict[str, Any]:
        out = {"id": self.id, "name": self.name, "scope": self.scope, "value": self.value,
               "created": self.created.isoformat() if self.created else None}
        if who:
            out["created_by"] = self.created_by
        return out


# -- products -------------------------------------------------------------------------------
def find_product(ref: str) -> model.Package | None:
    """The active product (dataset of type ``product``) with this id or name."""
    pkg = model.Package.get(ref) if isinstance(ref, str) and ref else None
    if pkg is None or pkg.type != "product" or pkg.state != "active":
        return None
    return pkg


def require_product(ref: Any, field: str = "product") -> model.Package:
    if ref is None or (isinstance(ref, str) and not ref.strip()):
        raise PricingError(field, "必填项", "Missing value")
    pkg = find_product(ref.strip()) if isinstance(ref, str) else None
    if pkg is None:
        raise PricingError(field, f"未找到该产品：{ref!r}", f"product not found: {ref!r}")
    return pkg


def product_category(pkg: model.Package) -> Use:
    """The product's category; a product without a valid one is treated as industrial."""
    try:
        return Use((pkg.extras or {}).get("category"))
    except ValueError:
        return Use.INDUSTRIAL


def listed_products() -> list[model.Package]:
    """Approved (listed) public products, by title."""
    return (model.Session.query(model.Package)
            .filter(model.Package.type == "product", model.Package.state == "active",
                    model.Package.private.is_(False),
                    model.Package.extras["status"].astext == "approved")
            .order_by(model.Package.title, model.Package.name).all())


def all_products() -> list[model.Package]:
    """Every active product, listed or not, by title (for the bureau's and operator's forms)."""
    return (model.Session.query(model.Package)
            .filter(model.Package.type == "product", model.Package.state == "active")
            .order_by(model.Package.title, model.Package.name).all())


def product_summary(pkg: model.Package) -> dict[str, Any]:
    extras = pkg.extras or {}
    return {"id": pkg.id, "name": pkg.name, "title": pkg.title or pkg.name,
            "category": product_category(pkg).value, "status": extras.get("status"),
            "private": bool(pkg.private)}


# -- versions -------------------------------------------------------------------------------
def _version(row: Any) -> VersionRow:
    return VersionRow(int(row.id), row.product_id, row.kind, BillingUnit(row.unit),
                      row.effective_from, row.label, Schedule.from_dict(row.schedule),
                      row.created, row.created_by)


def version_rows(product_ids: Iterable[str] | None = None, *, kind: str | None = None,
                 unit: BillingUnit | None = None) -> list[VersionRow]:
    """Stored versions in the order they were added (by id)."""
    stmt = sa.select(price_version).order_by(price_version.c.id)
    if product_ids is not None:
        stmt = stmt.where(price_version.c.product_id.in_(list(product_ids)))
    if kind:
        stmt = stmt.where(price_version.c.kind == kind)
    if unit is not None:
        stmt = stmt.where(price_version.c.unit == unit.value)
    return [_version(r) for r in model.Session.execute(stmt)]


def effective(rows: Iterable[VersionRow]) -> list[VersionRow]:
    """Rows left after same-day supersession: of several rows with the same product, kind,
    unit and ``effective_from``, only the latest added counts (the others are never in force)."""
    latest: dict[tuple[str, str, BillingUnit, dt.date], VersionRow] = {}
    for row in sorted(rows, key=lambda r: r.id):
        latest[(row.product_id, row.kind, row.unit, row.effective_from)] = row
    return sorted(latest.values(), key=lambda r: r.id)


def append_version(product_id: str, kind: str, schedule: Schedule, effective_from: dt.date,
                   label: str, actor: str) -> VersionRow:
    stmt = (price_version.insert()
            .values(product_id=product_id, kind=kind, unit=schedule.unit.value,
                    effective_from=effective_from, label=label or "",
                    schedule=schedule.to_dict(), created_by=actor)
            .returning(*price_version.c))
    return _version(model.Session.execute(stmt).one())


# -- settings -------------------------------------------------------------------------------
def _setting(row: Any) -> SettingRow:
    return SettingRow(int(row.id), row.name, row.scope, dict(row.value), row.created,
                      row.created_by)


def latest_setting(name: str, scope: str = "") -> SettingRow | None:
    stmt = (sa.select(pricing_setting)
            .where(pricing_setting.c.name == name, pricing_setting.c.scope == scope)
            .order_by(pricing_setting.c.id.desc()).limit(1))
    row = model.Session.execute(stmt).first()
    return _setting(row) if row else None


def latest_settings(name: str, scopes: Iterable[str] | None = None) -> dict[str, SettingRow]:
    """The current row of every scope of ``name`` (or of the given scopes)."""
    stmt = (sa.select(pricing_setting).where(pricing_setting.c.name == name)
            .order_by(pricing_setting.c.scope, pricing_setting.c.id.desc())
            .distinct(pricing_setting.c.scope))
    if scopes is not None:
        stmt = stmt.where(pricing_setting.c.scope.in_(list(scopes)))
    return {r.scope: _setting(r) for r in model.Session.execute(stmt)}


def setting_history(name: str, scope: str | None = None, limit: int = 200) -> list[SettingRow]:
    """Rows of ``name`` (one scope or all), newest first."""
    stmt = (sa.select(pricing_setting).where(pricing_setting.c.name == name)
            .order_by(pricing_setting.c.id.desc()).limit(limit))
    if scope is not None:
        stmt = stmt.where(pricing_setting.c.scope == scope)
    return [_setting(r) for r in model.Session.execute(stmt)]


def append_setting(name: str, scope: str, value: dict[str, Any], actor: str) -> SettingRow:
    stmt = (pricing_setting.insert()
            .values(name=name, scope=scope, value=value, created_by=actor)
            .returning(*pricing_setting.c))
    return _setting(model.Session.execute(stmt).one())


# -- the engine's view of a product ---------------------------------------------------------
def industrial_allowed(policy: SettingRow | None) -> bool:
    return bool(policy and policy.value.get("industrial_use_allowed") is True)


def product_pricing(pkg: model.Package, rows: Iterable[VersionRow] | None = None,
                    policy: SettingRow | None | bool = False) -> ProductPricing:
    """The engine's record of ``pkg``: its effective versions and the bureau's permission.

    ``rows`` default to the product's stored versions; ``policy`` (a ``product_policy`` row or
    ``None``) defaults to the current one.
    """
    rows = effective(version_rows([pkg.id]) if rows is None else rows)
    if policy is False:
        policy = latest_setting("product_policy", pkg.id)
    return ProductPricing(
        pkg.id, product_category(pkg),
        tuple(r.engine() for r in rows if r.kind == PRICE),
        tuple(r.engine() for r in rows if r.kind == CEILING),
        industrial_allowed(policy if isinstance(policy, SettingRow) else None))
