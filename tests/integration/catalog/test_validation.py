"""Field-level messages in Chinese and English through the API, and nothing half-written.

The same validators serve the web form, the API and the importer; here they are reached
through ``package_create``/``package_patch`` as a data-unit editor would.
"""
from __future__ import annotations

import datetime as dt

import pytest
from ckan import model
from ckan.tests import helpers
from sqlalchemy import text

from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

TODAY = clock.today()
PAST = (TODAY - dt.timedelta(days=3)).isoformat()


def create(**kw):
    data = dict(name="res-1", title="门诊就诊记录数据", owner_org="shi-wei-jian-wei",
                domain="health", delivery_methods=["api"], update_cycle="monthly",
                grade_level="L3", open_attribute="authorized", last_updated=PAST)
    data.update(kw)
    return helpers.call_action("package_create",
                               context={"user": "wj_editor", "ignore_auth": False}, **data)


def patch(**kw):
    return helpers.call_action("package_patch",
                               context={"user": "wj_editor", "ignore_auth": False}, **kw)


def state():
    s = model.Session
    return (s.execute(text("SELECT count(*) FROM package")).scalar(),
            s.execute(text("SELECT count(*) FROM package WHERE name = 'res-1'")).scalar(),
            [tuple(r) for r in s.execute(text(
                "SELECT id, name, metadata_modified FROM sanyi_search_doc ORDER BY id"))])


def refused(field, zh, en, **kw):
    """create(**kw) is refused on ``field`` with both texts, and writes nothing."""
    before = state()
    with pytest.raises(helpers.logic.ValidationError) as e:
        create(**kw)
    messages = " ".join(str(m) for m in e.value.error_dict[field])
    assert zh in messages, messages
    assert en in messages, messages
    assert state() == before
    return messages


def test_unknown_delivery_method(sanyi_orgs):
    msg = refused("delivery_methods", "未知的提供方式“fax”", "Unknown delivery method 'fax'",
                  delivery_methods=["api", "fax"])
    assert "接口、库表、文件" in msg and "api, table, file" in msg


def test_delivery_method_by_its_chinese_label(sanyi_orgs):
    assert create(delivery_methods="文件;接口")["delivery_methods"] == ["api", "file"]


def test_missing_delivery_method(sanyi_orgs):
    refused("delivery_methods", "必填项", "Missing value", delivery_methods=[])


def test_date_in_the_future(sanyi_orgs):
    future = (TODAY + dt.timedelta(days=30)).isoformat()
    refused("last_updated", "晚于今天", "is in the future", last_updated=future)


def test_date_not_a_date(sanyi_orgs):
    refused("last_updated", "日期格式无效“31/01/2026”", "Invalid date '31/01/2026'",
            last_updated="31/01/2026")


def test_empty_title(sanyi_orgs):
    refused("title", "必填项", "Missing value", title="   ")


def test_unknown_update_cycle(sanyi_orgs):
    msg = refused("update_cycle", "未知的更新周期“biweekly”", "Unknown update cycle 'biweekly'",
                  update_cycle="biweekly")
    assert "每月" in msg and "monthly" in msg


def test_unknown_grade_level(sanyi_orgs):
    refused("grade_level", "未知的分类分级“L9”", "Unknown classification level 'L9'",
            grade_level="L9")


def test_a_bad_update_leaves_the_resource_as_it_was(sanyi_orgs):
    create()
    before = state()
    pkg_before = helpers.call_action("package_show", id="res-1")
    for kw, field in (({"last_updated": (TODAY + dt.timedelta(days=1)).isoformat()},
                       "last_updated"),
                      ({"update_cycle": "sometimes"}, "update_cycle"),
                      ({"delivery_methods": ["carrier pigeon"]}, "delivery_methods"),
                      ({"title": ""}, "title")):
        with pytest.raises(helpers.logic.ValidationError) as e:
            patch(id="res-1", notes="changed as well", **kw)
        assert " / " in e.value.error_dict[field][0]   # "中文 / English"
        assert state() == before
        assert helpers.call_action("package_show", id="res-1") == pkg_before


def test_product_source_resources_must_exist(sanyi_orgs):
    before = state()
    with pytest.raises(helpers.logic.ValidationError) as e:
        helpers.call_action(
            "package_create", context={"user": "operator_user", "ignore_auth": False},
            type="product", name="p-src", title="产品", owner_org="san-yi-yun-ying",
            category="industrial", scenario="慢病续方", product_forms=["api"],
            supplying_units=["shi-wei-jian-wei"], status="draft",
            source_resources=["no-such-resource"])
    msg = e.value.error_dict["source_resources"][0]
    assert "来源数据资源不存在：no-such-resource" in msg
    assert "Unknown source resources: no-such-resource" in msg
    assert state() == before


def test_product_unknown_category_and_status(sanyi_orgs):
    with pytest.raises(helpers.logic.ValidationError) as e:
        helpers.call_action(
            "package_create", context={"user": "operator_user", "ignore_auth": False},
            type="product", name="p-cat", title="产品", owner_org="san-yi-yun-ying",
            category="charity", scenario="x", product_forms=["api"],
            supplying_units=["shi-wei-jian-wei"], status="live")
    assert "未知的类别“charity”" in e.value.error_dict["category"][0]
    assert "Unknown category 'charity'" in e.value.error_dict["category"][0]
    assert "未知的状态“live”" in e.value.error_dict["status"][0]
    assert "Unknown status 'live'" in e.value.error_dict["status"][0]
    assert model.Package.get("p-cat") is None
