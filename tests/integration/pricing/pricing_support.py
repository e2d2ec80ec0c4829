"""Helpers of the pricing tests (no tests here): products, role contexts, schedules, and the
world of the ``pricing_world`` fixture (tests/integration/conftest.py)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ckan.tests import factories, helpers

from ckanext.sanyi.common import clock
from ckanext.sanyi.pricing.demo import demo_product_name

TIERED_PRICE = {"unit": "call", "bands": [{"upto": 10000, "price": "0.50"},
                                          {"upto": 100000, "price": "0.30"},
                                          {"upto": None, "price": "0.10"}]}
TIERED_CEILING = {"unit": "call", "bands": [{"upto": 10000, "price": "0.60"},
                                            {"upto": 100000, "price": "0.35"},
                                            {"upto": None, "price": "0.12"}]}
ROLES = ["anonymous", "merchant_user", "wj_editor", "operator_user", "bureau_user", "sysadmin"]
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")
TODAY = clock.today()
ZHIHE = "智慧核保(核保调查)"


def flat(unit: str, price: str) -> dict[str, Any]:
    return {"unit": unit, "bands": [{"upto": None, "price": price}]}


def as_user(name: str | None) -> dict[str, Any]:
    """A context that runs authorization as ``name`` ('' or None = anonymous)."""
    return {"user": name or "", "ignore_auth": False}


def call_as(role: str, action: str, **data: Any) -> Any:
    user = "" if role == "anonymous" else role
    return helpers.call_action(action, context=as_user(user), **data)


def system(action: str, **data: Any) -> Any:
    """As the system (ignore_auth: may backdate), e.g. to prepare history."""
    return helpers.call_action(action, context={"user": "", "ignore_auth": True}, **data)


def make_product(name: str, *, category: str = "industrial", title: str | None = None,
                 status: str = "approved") -> dict[str, Any]:
    return helpers.call_action(
        "package_create", context={"user": "sysadmin", "ignore_auth": True},
        type="product", name=name, title=title or name,
        owner_org="san-yi-yun-ying", category=category, scenario=title or name,
        product_forms=["api"], supplying_units=["shi-wei-jian-wei"], status=status)


def assert_bilingual_field_error(err: Any, field: str) -> str:
    """The ValidationError names ``field`` with a "中文 / English" message; returns it."""
    assert field in err.error_dict, err.error_dict
    message = " ".join(err.error_dict[field])
    assert HAN.search(message) and LATIN.search(message) and " / " in message, message
    return message


def build_pricing_world(sanyi_orgs: dict[str, Any]) -> dict[str, Any]:
    """sanyi_orgs + a sysadmin + the tiered 智慧核保 product (ceiling and price from last
    1 January) + a public-interest product (no prices) + a flat-priced product."""
    factories.Sysadmin(name="sysadmin")
    zhihe = make_product(demo_product_name(ZHIHE), title=ZHIHE)
    health = make_product("health-profile", category="public_interest", title="个人健康画像与风险预警")
    rental = make_product("rental", title="真实房屋租赁场景")
    start = dt.date(TODAY.year, 1, 1).isoformat()
    system("sanyi_price_ceiling_set", product=zhihe["name"], schedule=TIERED_CEILING,
           effective_from=start, label="上限")
    system("sanyi_price_set", product=zhihe["name"], schedule=TIERED_PRICE,
           effective_from=start, label="收费标准")
    system("sanyi_price_ceiling_set", product="rental", schedule=flat("call", "0.40"),
           effective_from=start)
    system("sanyi_price_set", product="rental", schedule=flat("call", "0.30"),
           effective_from=start)
    system("sanyi_price_ceiling_set", product="health-profile", schedule=flat("year", "20000"),
           effective_from=start)
    system("sanyi_price_set", product="health-profile", schedule=flat("year", "15000"),
           effective_from=start)
    return {"zhihe": zhihe, "health": health, "rental": rental, "start": start, **sanyi_orgs}
