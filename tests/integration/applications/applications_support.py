"""Helpers of the application tests (no tests here): the world of units, resources, products
and merchants (``build_world``, the ``world`` fixture of tests/integration/conftest.py); role
contexts; snapshots to prove that a refusal changed nothing."""
from __future__ import annotations

import datetime as dt
import importlib.util
import re
from typing import Any

import pytest
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories, helpers
from sqlalchemy import text

from ckanext.sanyi.common import clock
from ckanext.sanyi.domain.credit_code import compute_check_char

TODAY = clock.today()
HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]{3,}")
ITEMS_CHRONIC = ["hypertension:患者编号", "hypertension:随访日期", "insured"]
ROLES = ["anonymous", "merchant_user", "merchant_two", "wj_editor", "yb_editor", "yj_editor",
         "operator_user", "bureau_user", "sysadmin"]
HAS_PAYMENTS = importlib.util.find_spec("ckanext.sanyi.payments") is not None


def credit_code(n: int) -> str:
    body = f"9135010{n:010d}"
    return body + compute_check_char(body)


def as_user(name: str | None) -> dict[str, Any]:
    return {"user": name or "", "ignore_auth": False}


def call_as(user: str, action: str, **data: Any) -> Any:
    return helpers.call_action(action, context=as_user("" if user == "anonymous" else user),
                               **data)


def system(action: str, **data: Any) -> Any:
    return helpers.call_action(action, context={"user": "", "ignore_auth": True}, **data)


def _resource(user: str, org: str, name: str, title: str, **extra: Any) -> dict[str, Any]:
    data = dict(name=name, title=title, owner_org=org, domain="health", delivery_methods=["api"],
                update_cycle="monthly", grade_level="L3", open_attribute="authorized",
                last_updated=(TODAY - dt.timedelta(days=3)).isoformat())
    data.update(extra)
    return helpers.call_action("package_create", context={"user": user}, **data)


def _product(name: str, title: str, category: str, units: list[str], sources: list[str],
             status: str = "approved") -> dict[str, Any]:
    return helpers.call_action(
        "package_create", context={"user": "sysadmin", "ignore_auth": True}, type="product",
        name=name, title=title, owner_org="san-yi-yun-ying", category=category, scenario=title,
        product_forms=["api"], supplying_units=units, source_resources=sources, status=status)


def register_merchant(user: str, n: int, verify: bool = True, **extra: Any) -> dict[str, Any]:
    data = dict(company_name=f"福州数商科技有限公司{n}", credit_code=credit_code(n),
                contact_name="张三", contact_phone="0591-12345678",
                contact_email=f"{user}@example.com", enterprise_size="small")
    data.update(extra)
    merchant = call_as(user, "sanyi_merchant_register", **data)
    if verify:
        merchant = call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"],
                           decision="approve")
    return merchant


def build_world(sanyi_orgs: dict[str, Any]) -> dict[str, Any]:
    """sanyi_orgs + a sysadmin, a second merchant, an uninvolved data unit (市药监局, editor
    yj_editor), resources of 市卫健委 (with fields) and 市医保局 (no field list), a charged
    product drawing on both (慢病线上开处方, 0.30 yuan per call) and a free public-interest
    one (个人健康画像与风险预警) drawing on 市卫健委 only; both merchants verified."""
    factories.Sysadmin(name="sysadmin")
    factories.User(name="merchant_two")
    factories.User(name="yj_editor")
    yj = factories.Organization(name="shi-yao-jian-ju", title="市药监局",
                                users=[{"name": "yj_editor", "capacity": "editor"}])
    _resource("wj_editor", "shi-wei-jian-wei", "hypertension", "高血压患者健康管理数据",
              data_fields=[{"field_name": "患者编号", "field_type": "code", "sensitive": "yes"},
                           {"field_name": "随访日期", "field_type": "date", "sensitive": "no"}])
    _resource("yb_editor", "shi-yi-bao-ju", "insured", "医保参保人员", domain="insurance")
    _resource("yj_editor", "shi-yao-jian-ju", "drugs", "市场流通药品相关数据", domain="drug")
    chronic = _product("chronic-refill", "慢病线上开处方", "industrial",
                       ["shi-wei-jian-wei", "shi-yi-bao-ju"], ["hypertension", "insured"])
    health = _product("health-profile", "个人健康画像与风险预警", "public_interest",
                      ["shi-wei-jian-wei"], ["hypertension"])
    draft = _product("not-listed", "未上架产品", "industrial", ["shi-wei-jian-wei"],
                     ["hypertension"], status="draft")
    start = dt.date(TODAY.year, 1, 1).isoformat()
    flat = {"bands": [{"upto": None, "price": "0.40"}], "unit": "call"}
    system("sanyi_price_ceiling_set", product="chronic-refill", schedule=flat, effective_from=start)
    system("sanyi_price_set", product="chronic-refill",
           schedule=dict(flat, bands=[{"upto": None, "price": "0.30"}]), effective_from=start)
    merchants = {"merchant_user": register_merchant("merchant_user", 1),
                 "merchant_two": register_merchant("merchant_two", 2)}
    return {"chronic": chronic, "health": health, "draft_product": draft, "yj": yj,
            "merchants": merchants, **sanyi_orgs}


def app_data(**overrides: Any) -> dict[str, Any]:
    data = dict(product="chronic-refill", scenario="为本市慢病患者提供线上续方服务",
                use="industrial", purpose="核验慢病患者身份与随访记录后续方",
                data_items=list(ITEMS_CHRONIC), period_start=TODAY.isoformat(),
                period_end=(TODAY + dt.timedelta(days=364)).isoformat(), expected_volume=15000)
    data.update(overrides)
    return data


def free_data(**overrides: Any) -> dict[str, Any]:
    data = dict(product="health-profile", use="public_interest", scenario="居民健康画像",
                purpose="慢病风险预警（公益）", data_items=["hypertension:随访日期"],
                expected_volume=1000)
    data.update(overrides)
    return app_data(**data)


def create(user: str = "merchant_user", **overrides: Any) -> dict[str, Any]:
    return call_as(user, "sanyi_application_create", **app_data(**overrides))


def to_status(status: str, *, free: bool = False, user: str = "merchant_user") -> dict[str, Any]:
    """A new application driven through the actions to ``status``."""
    app = call_as(user, "sanyi_application_create", **(free_data() if free else app_data()))
    aid = app["id"]
    if status == "draft":
        return app
    if status == "withdrawn":
        return call_as(user, "sanyi_application_withdraw", id=aid)
    app = call_as(user, "sanyi_application_submit", id=aid)
    if status == "unit_review":
        return app
    if status == "returned":
        return call_as("wj_editor", "sanyi_application_review", id=aid, decision="return",
                       comment="请补充使用场景说明")
    if status == "rejected":
        return call_as("wj_editor", "sanyi_application_review", id=aid, decision="reject",
                       comment="超出最小必要范围")
    for unit_user in ("wj_editor",) if free else ("wj_editor", "yb_editor"):
        app = call_as(unit_user, "sanyi_application_review", id=aid, decision="approve",
                      comment="同意")
    if status == "bureau_review":
        return app
    app = call_as("bureau_user", "sanyi_application_review", id=aid, decision="approve",
                  comment="同意")
    if status in ("awaiting_payment", "active") and app["status"] == status:
        return app
    if status in ("paid", "active", "suspended", "expired", "revoked") and not free:
        pay(aid)
        app = call_as(user, "sanyi_application_show", id=aid)
    if status == "suspended":
        app = call_as("bureau_user", "sanyi_entitlement_suspend", id=app["entitlement"]["id"],
                      reason="超范围调用核查")["application"]
    elif status == "revoked":
        app = call_as("bureau_user", "sanyi_entitlement_revoke", id=app["entitlement"]["id"],
                      reason="违规使用")["application"]
    assert app["status"] == status, (status, app["status"])
    return call_as(user, "sanyi_application_show", id=aid)


def pay(application_id: str, ref: str = "BANK-0001") -> None:
    """Payment confirmed: through payments' bank transfer when it is there, else directly."""
    from ckanext.sanyi.applications import service
    app = service.get(application_id)
    if HAS_PAYMENTS and app["order_id"]:
        call_as("operator_user", "sanyi_order_record_bank_transfer", id=app["order_id"],
                reference=ref, amount_fen=app["quote"]["amount_fen"],
                received_on=TODAY.isoformat())
    else:
        service.mark_paid(application_id, "operator_user", ref, commit=True)


def snapshot(application_id: str | None = None) -> tuple:
    """Everything a refusal must leave as it was."""
    s = model.Session
    s.rollback()
    row = s.execute(text("SELECT to_jsonb(a) FROM sanyi_application a WHERE id = :id"),
                    {"id": application_id or ""}).scalar()
    counts = tuple(s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in (
        "sanyi_application", "sanyi_audit", "sanyi_application_review", "sanyi_entitlement",
        "sanyi_notification", "sanyi_merchant", "sanyi_application_attachment"))
    ent = s.execute(text("SELECT jsonb_agg(to_jsonb(e) ORDER BY id) FROM sanyi_entitlement e")).scalar()
    return row, counts, ent


def bilingual(err: Any, field: str) -> str:
    assert field in err.error_dict, err.error_dict
    message = " ".join(str(m) for m in err.error_dict[field])
    assert HAN.search(message) and LATIN.search(message) and " / " in message, message
    return message


def refused(exc: type, fn: Any, *args: Any, **kwargs: Any) -> Any:
    with pytest.raises(exc) as err:
        fn(*args, **kwargs)
    return err.value


__all__ = ["TODAY", "ITEMS_CHRONIC", "ROLES", "HAS_PAYMENTS", "credit_code", "call_as", "system",
           "register_merchant", "build_world", "app_data", "free_data", "create", "to_status", "pay",
           "snapshot", "bilingual", "refused", "tk"]
