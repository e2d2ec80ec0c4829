"""Changed rows validated and shown field by field give what ``package_update`` gives.

Of each kind of change in a batch the first row is validated and shown whole as well (and
must agree); the others are validated with their changed fields' validators only and shown
from the index's previous dicts (``catalog/delta.py``). These tests take rows down that
path (asserted, not assumed), then make the same change with ``package_update`` on the
dataset and compare ``package_show`` (cached and not), the index row and document and the
activity; a field-by-field result that disagrees with the whole validation or show sends
the rows to the whole path; switched off, no row takes it.
"""
from __future__ import annotations

import datetime as dt
import logging

import pytest
from ckan import model
from ckan.tests import helpers
from test_import import _snapshot
from test_import_update import _csv

from ckanext.sanyi.catalog import bulk, delta, importer
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

TODAY = clock.today()
PAST = (TODAY - dt.timedelta(days=40)).isoformat()
LATER = (TODAY - dt.timedelta(days=3)).isoformat()
UNIT = "市卫健委"


def _rows():
    return [[1, UNIT, "门诊就诊记录数据", "接口", "每月", "L3", PAST, "门诊记录"],
            [2, UNIT, "住院结算数据", "库表", "每月", "L2", PAST, "住院结算"],
            [3, UNIT, "慢病随访数据", "接口;文件", "每周", "L3", PAST, ""],
            [4, UNIT, "疫苗接种数据", "文件", "每年", "L1", PAST, "接种记录"]]


def _changed(rows):
    """Rows 1-3: the same kind of change (更新周期, 资源描述); row 4 another (提供方式,
    分类分级, 最近更新日期)."""
    rows = [list(r) for r in rows]
    for r, cycle in zip(rows[:3], ("每季度", "每日", "每年"), strict=True):
        r[4], r[7] = cycle, r[7] + "（第二版）"
    rows[3][3:7] = ["接口、库表", "每年", "四级（核心数据）", LATER]
    return rows


def _name(title):
    return importer.resource_name("shi-wei-jian-wei", title)


def _by_field(plan):
    return [r.row for r in plan.of(importer.CHANGE) if bulk._DELTA in r.data]


def _shown_by_field(monkeypatch):
    """The ids :meth:`FieldDelta.shown` answered for (observed, the real method runs)."""
    seen: list[str] = []
    real = delta.FieldDelta.shown

    def spy(self, default, custom, pkg, fields, context):
        out = real(self, default, custom, pkg, fields, context)
        if out is not None:
            seen.append(pkg.id)
        return out
    monkeypatch.setattr(delta.FieldDelta, "shown", spy)
    return seen


@pytest.fixture
def warnings(caplog, monkeypatch):
    """The bulk module's warnings (test.ini's logging set-up disables the loggers it does
    not name; deploy/ckan.ini names ``ckanext``)."""
    log = logging.getLogger("ckanext.sanyi.catalog.bulk")
    monkeypatch.setattr(log, "disabled", False)
    log.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.WARNING)
    yield caplog
    log.removeHandler(caplog.handler)


def _web_snapshot(name, before, user, **changes):
    """The dataset put back as it was, then changed with package_update; its snapshot."""
    ctx = {"user": user}
    helpers.call_action("package_update", context=dict(ctx), **before)
    helpers.call_action("package_update", context=dict(ctx), **dict(before, **changes))
    return _snapshot(name)


def test_rows_validated_and_shown_field_by_field_equal_package_update(
        sanyi_orgs, tmp_path, monkeypatch):
    rows = _rows()
    report = importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    assert report.created == 4
    names = [_name(r[2]) for r in rows]
    before = {n: helpers.call_action("package_show", context={"use_cache": False}, id=n)
              for n in names}

    plan = importer.plan_file(_csv(tmp_path, _changed(rows), name="v2.csv"),
                              user="bureau_user")
    # the file's rows 2 and 5 (after the header) are the first of their kind: validated
    # whole (and compared)
    assert _by_field(plan) == [3, 4]
    shown = _shown_by_field(monkeypatch)
    report = importer.apply_plan(plan)
    assert (report.updated, report.errors) == (4, [])
    # row 3 is the first field-by-field row of the batch: also shown whole, compared
    ids = {n: model.Package.get(n).id for n in names}
    assert set(shown) == {ids[names[1]], ids[names[2]]}

    via_import = {n: _snapshot(n) for n in names[1:3]}
    for n in names[1:3]:
        cached = helpers.call_action("package_show", id=n)
        fresh = helpers.call_action("package_show", context={"use_cache": False}, id=n)
        assert cached == fresh  # metadata_modified included: the index holds it as it is
    expected = {names[1]: dict(update_cycle="daily", notes="住院结算（第二版）"),
                names[2]: dict(update_cycle="yearly", notes="（第二版）")}
    for n, changes in expected.items():
        shown_now = via_import[n]["package_show"]
        assert {k: shown_now[k] for k in changes} == changes
        assert shown_now["next_due"] != before[n]["next_due"]  # derived from the cycle
        via_web = _web_snapshot(n, before[n], "bureau_user", **changes)
        for key in ("package_show", "package_show_uncached", "index_row", "index_doc",
                    "member"):
            assert via_import[n][key] == via_web[key], (n, key)
        web_data = via_web["activities"][0][1]
        import_data = dict(via_web["activities"][2][1])
        assert import_data.pop("import") == {"file": "v2.csv"}
        assert import_data == web_data


def test_search_finds_what_the_field_by_field_rows_say(sanyi_orgs, tmp_path, app):
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    changed = _changed(rows)
    changed[2][7] = "慢病随访的第二版说明"
    plan = importer.plan_file(_csv(tmp_path, changed, name="v2.csv"), user="bureau_user")
    assert 4 in _by_field(plan)
    importer.apply_plan(plan)
    model.Session.remove()
    for lang in ("", "/en"):
        hits = app.get(f"{lang}/api/3/action/package_search",
                       params={"q": "第二版说明"}).json["result"]
        assert [h["name"] for h in hits["results"]] == [_name("慢病随访数据")]
        faceted = app.get(f"{lang}/api/3/action/package_search", params={
            "q": "", "fq": "update_cycle:yearly", "rows": 10,
            "facet.field": '["update_cycle"]'}).json["result"]
        assert sorted(h["title"] for h in faceted["results"]) == ["慢病随访数据", "疫苗接种数据"]


def test_a_field_by_field_validation_that_disagrees_sends_the_kind_whole(
        sanyi_orgs, tmp_path, monkeypatch, warnings):
    """As if a validator read a field it was not declared to read: the first row of the
    kind, validated whole as well, disagrees; every row of that kind is validated whole."""
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    real = delta.FieldDelta.validate

    def wrong(self, fields, show, patch, context):
        stored, errors = real(self, fields, show, patch, context)
        if "update_cycle" in stored:
            stored["update_cycle"] = "realtime"
        return stored, errors
    monkeypatch.setattr(delta.FieldDelta, "validate", wrong)
    plan = importer.plan_file(_csv(tmp_path, _changed(rows), name="v2.csv"),
                              user="bureau_user")
    assert _by_field(plan) == []
    assert "validated whole" in warnings.text
    importer.apply_plan(plan)
    cycles = [helpers.call_action("package_show", id=_name(r[2]))["update_cycle"]
              for r in rows]
    assert cycles == ["quarterly", "daily", "yearly", "yearly"]


def test_a_field_by_field_show_that_disagrees_is_shown_whole(
        sanyi_orgs, tmp_path, monkeypatch, warnings):
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    plan = importer.plan_file(_csv(tmp_path, _changed(rows), name="v2.csv"),
                              user="bureau_user")
    assert _by_field(plan) == [3, 4]
    real = delta.FieldDelta.shown

    def wrong(self, default, custom, pkg, fields, context):
        pair = real(self, default, custom, pkg, fields, context)
        if pair is not None:
            pair[1]["notes"] = "错误的说明"
        return pair
    monkeypatch.setattr(delta.FieldDelta, "shown", wrong)
    importer.apply_plan(plan)
    assert "shown whole" in warnings.text
    for r, notes in zip(rows[1:3], ("住院结算（第二版）", "（第二版）"), strict=True):
        n = _name(r[2])
        cached = helpers.call_action("package_show", id=n)
        assert cached == helpers.call_action("package_show", context={"use_cache": False},
                                             id=n)
        assert cached["notes"] == notes


def test_a_changed_value_the_validators_refuse_gets_package_updates_error(
        sanyi_orgs, tmp_path):
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    changed = _changed(rows)
    changed[2][3] = "接口;传真"  # 提供方式 too: another kind, refused by its validator
    changed[1][4] = "每世纪"
    plan = importer.plan_file(_csv(tmp_path, changed, name="v2.csv"), user="bureau_user")
    reasons = {r.row: r.reason for r in plan.of(importer.REJECT)}
    assert set(reasons) == {3, 4}
    pkg = model.Package.get(_name(rows[1][2]))
    show = helpers.call_action("package_show", id=pkg.name)
    _, whole = bulk.validate_update(pkg, dict(show, update_cycle="每世纪",
                                              notes="住院结算（第二版）", batch=""),
                                    "bureau_user")
    assert reasons[3] == bulk.error_text(whole)
    assert "更新周期" in reasons[3] and "传真" in reasons[4]


@pytest.mark.ckan_config("ckanext.sanyi.catalog.import_field_delta", "false")
def test_switched_off_every_changed_row_is_validated_whole(sanyi_orgs, tmp_path):
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    plan = importer.plan_file(_csv(tmp_path, _changed(rows), name="v2.csv"),
                              user="bureau_user")
    assert len(plan.of(importer.CHANGE)) == 4 and _by_field(plan) == []


def test_the_plans_digest_is_the_same_validated_whole_or_field_by_field(
        sanyi_orgs, tmp_path, monkeypatch):
    """A preview confirmed later is compared by digest: how the rows were validated must
    not change it, what they would write must."""
    import ckan.plugins.toolkit as tk
    rows = _rows()
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    path = _csv(tmp_path, _changed(rows), name="v2.csv")
    by_field = importer.plan_file(path, user="bureau_user")
    monkeypatch.setitem(tk.config, "ckanext.sanyi.catalog.import_field_delta", "false")
    whole = importer.plan_file(path, user="bureau_user")
    assert _by_field(by_field) == [3, 4] and _by_field(whole) == []
    assert whole.digest() == by_field.digest()
    other = _changed(rows)
    other[2][7] = "另一版"
    assert importer.plan_file(_csv(tmp_path, other, name="v3.csv"),
                              user="bureau_user").digest() != whole.digest()
