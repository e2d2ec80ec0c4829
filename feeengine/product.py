"""A product's pricing record: category, bureau permission, price and ceiling versions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from .errors import PricingError
from .schedule import BillingUnit
from .versions import ScheduleVersion

__all__ = ["Use", "ProductPricing", "serves_industrial_use"]


class Use(str, Enum):
    """Declared use of data, also a product's category (公共数据产品分类)."""

    PUBLIC_INTEREST = "public_interest"  # 公共治理、公益事业: free
    INDUSTRIAL = "industrial"            # 产业发展、行业发展: charged

    @property
    def label_zh(self) -> str:
        return "公共治理、公益事业" if self is Use.PUBLIC_INTEREST else "产业发展、行业发展"

    @property
    def label_en(self) -> str:
        return ("public interest (public governance / public welfare)" if self is Use.PUBLIC_INTEREST
                else "industrial (industry development)")

    @classmethod
    def parse(cls, value: object, field: str = "use") -> Use:
        """The use named by ``value`` (an enum member or its string value)."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(u.value for u in cls)
            raise PricingError(field, f"未知的用途：{value!r}（可选：{names}）",
                               f"unknown use {value!r} (one of: {names})") from None


def serves_industrial_use(category: Use, permitted: bool) -> bool:
    """May a product of ``category`` be used (and charged) for industrial purposes: an
    industrial product always, a public-interest one only with the bureau's permission."""
    return category is not Use.PUBLIC_INTEREST or permitted


@dataclass(frozen=True)
class ProductPricing:
    """Everything the engine needs to quote one product.

    ``prices`` are the operator's actual price versions and ``ceilings`` the bureau's ceiling
    versions, each a history over all billing units (one schedule per unit in force at a time).
    ``industrial_use_allowed`` is the bureau's permission for a public-interest product to be
    used (and charged) for industrial purposes.
    """

    product_id: str
    category: Use
    prices: tuple[ScheduleVersion, ...] = ()
    ceilings: tuple[ScheduleVersion, ...] = ()
    industrial_use_allowed: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.product_id, str) or not self.product_id.strip():
            raise PricingError("product_id", "产品编号不能为空", "product id must not be empty")
        object.__setattr__(self, "category", Use.parse(self.category, "category"))
        if not isinstance(self.industrial_use_allowed, bool):
            raise PricingError("industrial_use_allowed", "须为 true 或 false", "must be true or false")
        for name in ("prices", "ceilings"):
            versions = getattr(self, name)
            if not isinstance(versions, (list, tuple)):
                raise PricingError(name, "须为版本列表", "must be a list of versions")
            versions = tuple(versions)
            _check_versions(name, versions)
            object.__setattr__(self, name, versions)

    @property
    def serves_industrial_use(self) -> bool:
        return serves_industrial_use(self.category, self.industrial_use_allowed)

    def versions_for(self, unit: BillingUnit, *, ceiling: bool = False) -> tuple[ScheduleVersion, ...]:
        """The price (or ceiling) history for ``unit``, in list order."""
        return tuple(v for v in (self.ceilings if ceiling else self.prices) if v.unit is unit)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProductPricing:
        """``{"product_id", "category", "industrial_use_allowed"?, "prices": [...], "ceilings": [...]}``."""
        if not isinstance(data, Mapping):
            raise PricingError("product", "须为 JSON 对象", "must be a JSON object")
        lists: dict[str, tuple[ScheduleVersion, ...]] = {}
        for name in ("prices", "ceilings"):
            raw = data.get(name, [])
            if not isinstance(raw, Sequence) or isinstance(raw, (str, bytes)):
                raise PricingError(name, "须为版本列表", "must be a list of versions")
            items = []
            for i, item in enumerate(raw):
                try:
                    items.append(ScheduleVersion.from_dict(item))
                except PricingError as err:
                    raise err.prefixed(f"{name}[{i}]") from None
            lists[name] = tuple(items)
        return cls(data.get("product_id", ""), Use.parse(data.get("category"), "category"),
                   lists["prices"], lists["ceilings"],
                   data.get("industrial_use_allowed", False))

    def to_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "category": self.category.value,
                "industrial_use_allowed": self.industrial_use_allowed,
                "prices": [v.to_dict() for v in self.prices],
                "ceilings": [v.to_dict() for v in self.ceilings]}


def _check_versions(name: str, versions: tuple[ScheduleVersion, ...]) -> None:
    """Version ids unique; no two versions of one unit take effect on the same day."""
    ids: set[str] = set()
    starts: set[tuple[BillingUnit, date]] = set()
    for i, version in enumerate(versions):
        if not isinstance(version, ScheduleVersion):
            raise PricingError(f"{name}[{i}]", "版本格式不正确", "invalid version")
        if version.version_id in ids:
            raise PricingError(f"{name}[{i}].id", f"版本编号重复：{version.version_id}",
                               f"duplicate version id: {version.version_id}")
        key = (version.unit, version.effective_from)
        if key in starts:
            raise PricingError(f"{name}[{i}].effective_from",
                               f"同一计费单位在 {version.effective_from.isoformat()} 已有生效的版本",
                               f"another {version.unit.value} version already takes effect on "
                               f"{version.effective_from.isoformat()}")
        ids.add(version.version_id)
        starts.add(key)
