"""Data units (数源单位): finding and creating their organisations, and their defaults."""
from __future__ import annotations

import hashlib

import ckan.model as model
import ckan.plugins.toolkit as tk

from ..domain import cycles

# Known units of the first batch: URL name and domain.
KNOWN_UNITS: dict[str, tuple[str, str]] = {
    "市卫健委": ("shi-wei-jian-wei", "health"),
    "市医保局": ("shi-yi-bao-ju", "insurance"),
    "市市场监管局": ("shi-shi-chang-jian-guan-ju", "market"),
    "市药监局": ("shi-yao-jian-ju", "drug"),
    "市住房和城市更新局": ("shi-zhu-fang-ju", "housing"),
    "市自然资源和城乡建设局": ("shi-zi-ran-zi-yuan-ju", "land"),
    "市人社局": ("shi-ren-she-ju", "hr"),
    "荆门住房公积金中心": ("jing-men-gong-ji-jin", "fund"),
    "市公交集团": ("shi-gong-jiao-ji-tuan", "transport"),
    "市科技局": ("shi-ke-ji-ju", "tech"),
    "市司法局": ("shi-si-fa-ju", "other"),
    "市公安局": ("shi-gong-an-ju", "other"),
    "市发改委": ("shi-fa-gai-wei", "other"),
}
SANYI_DOMAINS = ("health", "insurance", "drug")


def unit_name(title: str) -> str:
    known = KNOWN_UNITS.get(title)
    return known[0] if known else "unit-" + hashlib.sha1(title.encode()).hexdigest()[:10]


def domain_for(unit_title: str, resource_title: str) -> str:
    """The domain of a resource: its unit's, except drug data of the market regulator."""
    domain = KNOWN_UNITS.get(unit_title, ("", "other"))[1]
    if domain == "market" and "药" in resource_title:
        return "drug"
    return domain


def default_grade(unit_title: str) -> str:
    """三医 data is personal health data: level 3 (重要数据) unless the row says otherwise."""
    return "L3" if KNOWN_UNITS.get(unit_title, ("", ""))[1] in ("health", "insurance") else "L2"


def cycle_code(text: str) -> str:
    try:
        return cycles.parse_cycle(text).code
    except cycles.DomainError:
        return text  # the schema validator reports it with the allowed values


def find_unit(title_or_name: str) -> model.Group | None:
    q = model.Session.query(model.Group).filter(model.Group.is_organization.is_(True),
                                                model.Group.state == "active")
    return (q.filter(model.Group.title == title_or_name).first()
            or q.filter(model.Group.name == title_or_name).first()
            or q.filter(model.Group.name == unit_name(title_or_name)).first())


def create_unit(title: str, user: str) -> model.Group:
    tk.get_action("organization_create")({"user": user, "ignore_auth": True},
                                         {"name": unit_name(title), "title": title})
    org = find_unit(title)
    assert org is not None
    return org
