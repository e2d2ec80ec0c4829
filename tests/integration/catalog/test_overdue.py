"""Keeping metadata current: next_due from update cycle + last update, overdue resources,
and every change recorded in the activity stream."""
from __future__ import annotations

import datetime as dt

import pytest
from ckan.tests import helpers

from ckanext.sanyi.catalog import overdue
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")


def create(name, cycle, last, user="wj_editor", org="shi-wei-jian-wei", **kw):
    return helpers.call_action(
        "package_create", context={"user": user, "ignore_auth": False},
        name=name, title=f"资源 {name}", owner_org=org, domain="health",
        delivery_methods=["api"], update_cycle=cycle, grade_level="L3",
        open_attribute="authorized", last_updated=last, **kw)


@pytest.mark.parametrize("cycle, last, due", [
    ("monthly", "2026-01-05", "2026-02-05"),
    ("monthly", "2026-01-31", "2026-02-28"),      # month end clamps
    ("monthly", "2024-01-31", "2024-02-29"),      # leap year
    ("quarterly", "2025-11-30", "2026-02-28"),
    ("quarterly", "2025-08-31", "2025-11-30"),
    ("yearly", "2024-02-29", "2025-02-28"),
    ("weekly", "2025-12-29", "2026-01-05"),
    ("realtime", "2026-01-05", "2026-01-06"),     # metadata confirmed daily
    ("irregular", "2026-01-05", ""),              # no due date
    ("定期", "2026-01-31", None),                  # API: only codes and labels
])
def test_next_due(sanyi_orgs, cycle, last, due):
    if due is None:
        with pytest.raises(helpers.logic.ValidationError):
            create("r1", cycle, last)
        return
    pkg = create("r1", cycle, last)
    assert pkg["next_due"] == due
    assert helpers.call_action("package_show", id="r1", context={"use_cache": False}
                               )["next_due"] == due
    found = helpers.call_action("package_search", q="资源 r1")["results"]
    assert found[0]["next_due"] == due


def test_next_due_is_computed_not_entered(sanyi_orgs):
    pkg = create("r2", "monthly", "2026-01-05", next_due="2099-01-01")
    assert pkg["next_due"] == "2026-02-05"


def test_next_due_follows_a_change_of_cycle_or_date(sanyi_orgs):
    create("r3", "monthly", "2025-12-31")
    ctx = {"user": "wj_editor", "ignore_auth": False}
    pkg = helpers.call_action("package_patch", context=dict(ctx), id="r3",
                              update_cycle="quarterly")
    assert pkg["next_due"] == "2026-03-31"
    pkg = helpers.call_action("package_patch", context=dict(ctx), id="r3",
                              update_cycle="每年")
    assert (pkg["update_cycle"], pkg["next_due"]) == ("yearly", "2026-12-31")
    pkg = helpers.call_action("package_patch", context=dict(ctx), id="r3",
                              update_cycle="irregular")
    assert pkg["next_due"] == ""


def test_overdue_resources_and_days(sanyi_orgs):
    create("due-monthly", "monthly", "2026-01-31")       # due 2026-02-28
    create("due-quarterly", "quarterly", "2025-11-30")   # due 2026-02-28
    create("never", "irregular", "2020-01-01")
    create("yb", "monthly", "2026-02-20", user="yb_editor", org="shi-yi-bao-ju")
    on_time = overdue.overdue_resources(today=dt.date(2026, 2, 28))
    assert on_time == []                                 # the due date itself is on time
    rows = overdue.overdue_resources(today=dt.date(2026, 3, 25))
    assert [(r["name"], r["days_overdue"]) for r in rows] == [
        ("due-monthly", 25), ("due-quarterly", 25), ("yb", 5)]
    assert all(r["next_due"] for r in rows)


def test_mark_updated_records_an_activity(sanyi_orgs):
    create("r4", "quarterly", "2025-01-31")
    ctx = {"user": "wj_editor", "ignore_auth": False}
    before = helpers.call_action("package_activity_list", id="r4")
    pkg = helpers.call_action("sanyi_mark_updated", context=dict(ctx), id="r4")
    today = clock.today()
    assert pkg["last_updated"] == today.isoformat()
    acts = helpers.call_action("package_activity_list", id="r4")
    assert len(acts) == len(before) + 1
    newest = acts[0]
    assert newest["activity_type"] == "changed package"
    assert newest["user_id"] == helpers.call_action("user_show", id="wj_editor")["id"]
    assert newest["data"]["package"]["last_updated"] == today.isoformat()
    assert newest["data"]["package"]["next_due"] == pkg["next_due"]


def test_mark_updated_with_a_date(sanyi_orgs):
    create("r5", "monthly", "2025-01-05")
    ctx = {"user": "wj_editor", "ignore_auth": False}
    pkg = helpers.call_action("sanyi_mark_updated", context=dict(ctx), id="r5",
                              date="2026-01-31")
    assert (pkg["last_updated"], pkg["next_due"]) == ("2026-01-31", "2026-02-28")
    future = (clock.today() + dt.timedelta(days=2)).isoformat()
    with pytest.raises(helpers.logic.ValidationError) as e:
        helpers.call_action("sanyi_mark_updated", context=dict(ctx), id="r5", date=future)
    assert "晚于今天" in e.value.error_dict["last_updated"][0]
    assert "in the future" in e.value.error_dict["last_updated"][0]
    assert helpers.call_action("package_show", id="r5")["last_updated"] == "2026-01-31"


def test_mark_updated_only_for_catalog_resources(sanyi_orgs):
    helpers.call_action(
        "package_create", context={"user": "operator_user", "ignore_auth": False},
        type="product", name="p-x", title="产品", owner_org="san-yi-yun-ying",
        category="industrial", scenario="x", product_forms=["api"],
        supplying_units=["shi-wei-jian-wei"], status="draft")
    with pytest.raises(helpers.logic.ValidationError) as e:
        helpers.call_action("sanyi_mark_updated",
                            context={"user": "operator_user", "ignore_auth": False}, id="p-x")
    assert "只有目录资源有更新周期" in e.value.error_dict["id"][0]
    assert "Only catalog resources have an update cycle" in e.value.error_dict["id"][0]


def test_every_metadata_change_is_an_activity(sanyi_orgs):
    create("r6", "monthly", "2025-06-30")
    ctx = {"user": "wj_editor", "ignore_auth": False}
    helpers.call_action("package_patch", context=dict(ctx), id="r6", grade_level="L4")
    helpers.call_action("package_patch", context=dict(ctx), id="r6", update_cycle="quarterly")
    acts = helpers.call_action("package_activity_list", id="r6")
    assert [a["activity_type"] for a in acts] == ["changed package", "changed package",
                                                  "new package"]
    assert acts[0]["data"]["package"]["update_cycle"] == "quarterly"
    assert acts[1]["data"]["package"]["grade_level"] == "L4"
