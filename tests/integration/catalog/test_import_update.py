"""Re-importing changed rows: the bulk update path gives what ``package_update`` gives.

An updated row's ``package_show`` (cached and not), its search-index row and document and
its "changed package" activity equal those of the same change made with ``package_update``
(modulo ids and timestamps); each updated resource gets its own activity naming the file,
shown so in the activity stream; a row of a unit the importing user does not edit is
refused; an unknown unit is an error naming the closest units.
"""
from __future__ import annotations

import csv
import datetime as dt

import pytest
from ckan import model
from ckan.tests import factories, helpers
from click.testing import CliRunner
from sqlalchemy import text
from test_import import _snapshot, _state

from ckanext.sanyi.catalog import importer
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

HEADER = ["序号", "数源单位", "数据资源名称", "提供方式", "更新周期", "分类分级", "最近更新日期",
          "资源描述"]
TODAY = clock.today()
PAST = (TODAY - dt.timedelta(days=30)).isoformat()
LATER = (TODAY - dt.timedelta(days=2)).isoformat()


def _csv(tmp_path, rows, name="catalog.csv", header=HEADER, title=None):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if title:
            w.writerow([title])
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def test_bulk_updated_dataset_equals_package_update(clean_db, tmp_path):
    admin = factories.Sysadmin(name="import_admin")["name"]
    rows = [[1, "市卫健委", "高血压患者健康管理数据", "接口", "每月", "L3", PAST, "随访记录"],
            [2, "市卫健委", "出院记录数据", "库表", "每月", "L2", PAST, ""]]
    report = importer.import_file(_csv(tmp_path, rows), user=admin)
    assert report.created == 2 and report.errors == []
    name = importer.resource_name("shi-wei-jian-wei", "高血压患者健康管理数据")
    before = helpers.call_action("package_show", context={"use_cache": False}, id=name)

    rows[0][3:] = ["接口、库表", "每季度", "四级（核心数据）", LATER, "随访与用药记录"]
    report = importer.import_file(_csv(tmp_path, rows, name="v2.csv"), user=admin)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert report.errors == []
    via_import = _snapshot(name)
    assert via_import["package_show"]["delivery_methods"] == ["api", "table"]
    assert via_import["package_show"]["grade_level"] == "L4"

    # the same change on the web: back to before, then package_update with the new values
    ctx = {"user": admin}
    helpers.call_action("package_update", context=dict(ctx), **before)
    changed = dict(before, delivery_methods=["api", "table"], update_cycle="quarterly",
                   grade_level="L4", last_updated=LATER, notes="随访与用药记录")
    helpers.call_action("package_update", context=dict(ctx), **changed)
    via_web = _snapshot(name)

    for key in ("package_show", "package_show_uncached", "index_row", "index_doc", "member"):
        assert via_import[key] == via_web[key], key
    # newest first: web update, web revert, import update, creation
    kinds = [a for a, _ in via_web["activities"]]
    assert kinds == ["changed package"] * 3 + ["new package"]
    web_data = via_web["activities"][0][1]
    import_data = dict(via_web["activities"][2][1])
    assert import_data.pop("import") == {"file": "v2.csv"}
    assert import_data == web_data


def test_each_updated_resource_has_its_activity_naming_the_file(sanyi_orgs, tmp_path, app,
                                                                 login):
    rows = [[i, "市卫健委", f"资源{i}", "接口", "每月", "L3", PAST, ""] for i in range(1, 4)]
    importer.import_file(_csv(tmp_path, rows), user="wj_editor")
    for r in rows[:2]:
        r[4] = "每年"
    report = importer.import_file(_csv(tmp_path, rows, name="年度更新.csv"), user="wj_editor")
    assert (report.updated, report.unchanged) == (2, 1)
    for i, expected in ((1, True), (2, True), (3, False)):
        name = importer.resource_name("shi-wei-jian-wei", f"资源{i}")
        acts = helpers.call_action("package_activity_list", id=name)
        imported = [a for a in acts if a["activity_type"] == "changed package"]
        assert bool(imported) is expected
        if expected:
            assert len(imported) == 1 and imported[0]["data"]["import"]["file"] == "年度更新.csv"
            assert imported[0]["user_id"] == model.User.get("wj_editor").id
    name = importer.resource_name("shi-wei-jian-wei", "资源1")
    login(app, "wj_editor")
    page = app.get(f"/dataset/activity/{name}").body
    assert "通过导入文件“年度更新.csv”更新" in page
    page = app.get(f"/en/dataset/activity/{name}").body
    assert "updated by import of 年度更新.csv" in page


def test_user_must_edit_each_rows_unit(sanyi_orgs, tmp_path):
    rows = [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", "L3", PAST, ""],
            [2, "市医保局", "医保结算数据", "接口", "每月", "L3", PAST, ""]]
    before = _state()
    report = importer.import_file(_csv(tmp_path, rows), user="yb_editor")
    assert report.created == 1 and [e.row for e in report.errors] == [2]
    assert "不能导入“市卫健委”的资源" in report.errors[0].message
    assert "may not import resources of '市卫健委'" in report.errors[0].message
    assert _state()["packages"] == before["packages"] + 1
    # no role at all: every row refused
    factories.User(name="nobody_special")
    report = importer.import_file(_csv(tmp_path, rows, name="b.csv"), user="nobody_special")
    assert report.created == 0 and [e.row for e in report.errors] == [2, 3]


def test_cli_user_and_create_units(sanyi_orgs, tmp_path):
    from ckanext.sanyi.cli import sanyi
    path = _csv(tmp_path, [[1, "市卫建委", "门诊就诊记录数据", "接口", "每月", "L3", PAST, ""],
                           [2, "市新设单位", "某数据", "接口", "每月", "L2", PAST, ""]])
    result = CliRunner().invoke(sanyi, ["import-catalog", path, "--user", "wj_editor"])
    assert result.exit_code == 1, result.output
    assert "未知的数源单位“市卫建委”；最接近的单位：市卫健委" in result.output
    assert "Unknown source unit '市卫建委'; closest: 市卫健委" in result.output
    result = CliRunner().invoke(sanyi, ["import-catalog", path, "--user", "wj_editor",
                                        "--create-units"])
    assert result.exit_code == 2
    assert "只有数据局工作人员可以在导入时新建数源单位" in result.output
    assert "Only data bureau staff may create data units" in result.output
    result = CliRunner().invoke(sanyi, ["import-catalog", path, "--user", "bureau_user",
                                        "--create-units"])
    assert result.exit_code == 0, result.output
    assert "新建单位 2" in result.output  # 市卫建委 too: the bureau asked for it
    assert model.Session.execute(text(
        "SELECT count(*) FROM \"group\" WHERE title = '市新设单位'")).scalar() == 1


def test_lenient_cells_and_the_dry_run(sanyi_orgs, tmp_path):
    rows = [["１", "市卫健委\u3000", "门诊就诊记录数据（第１号）", "ＡＰＩ，文件", "每季度", "三级（重要数据）",
             "2026年1月5日", ""],
            [2, "市卫健委", "出院记录数据", "库表、接口", "realtime", "", "2025/12/01", ""],
            [3, "市卫健委", "坏日期数据", "接口", "每月", "", "明天", ""]]
    path = _csv(tmp_path, rows, title="公共数据资源目录导入模板（市卫健委）")
    before = _state()
    plan = importer.plan_file(path, user="wj_editor")
    assert _state() == before  # a dry run writes nothing
    assert plan.counts() == {"add": 2, "change": 0, "unchanged": 0, "reject": 1}
    bad = plan.of(importer.REJECT)[0]
    assert bad.row == 5 and "日期格式无效“明天”" in bad.reason and "Invalid date" in bad.reason
    first, second = plan.of(importer.ADD)
    assert first.row == 3 and dict(first.defaulted) == {"domain": "health",
                                                         "open_attribute": "authorized"}
    assert dict(second.defaulted)["grade_level"] == "L3"
    report = importer.apply_plan(plan)
    assert report.created == 2
    pkg = helpers.call_action("package_show", id=first.name)
    assert pkg["title"] == "门诊就诊记录数据（第１号）"  # titles are not folded
    assert pkg["delivery_methods"] == ["api", "file"]
    assert (pkg["last_updated"], pkg["grade_level"]) == ("2026-01-05", "L3")
    second_pkg = helpers.call_action("package_show", id=second.name)
    assert second_pkg["delivery_methods"] == ["api", "table"]
    assert second_pkg["update_cycle"] == "realtime"

    rows[1][4] = "每月"
    plan = importer.plan_file(_csv(tmp_path, rows, name="v2.csv"), user="wj_editor")
    assert plan.counts() == {"add": 0, "change": 1, "unchanged": 1, "reject": 1}
    (change,) = plan.of(importer.CHANGE)
    assert change.changes == [("update_cycle", "实时", "每月")]


def test_a_changed_row_the_schema_refuses_is_rejected_in_the_plan(sanyi_orgs, tmp_path):
    rows = [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", "L3", PAST, ""]]
    importer.import_file(_csv(tmp_path, rows), user="wj_editor")
    rows[0][3] = "接口;传真"
    before = _state()
    plan = importer.plan_file(_csv(tmp_path, rows, name="v2.csv"), user="wj_editor")
    (bad,) = plan.of(importer.REJECT)
    assert "未知的提供方式“传真”" in bad.reason and "Unknown delivery method" in bad.reason
    assert importer.apply_plan(plan).updated == 0
    assert _state()["index"] == before["index"]



def test_parallel_workers_update_the_same(sanyi_orgs, tmp_path):
    rows = [[i, "市卫健委", f"并行资源{i}", "接口", "每月", "L3", PAST, ""] for i in range(1, 13)]
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    for r in rows:
        r[3] = "文件"
    rows[5][3] = "传真"
    report = importer.import_file(_csv(tmp_path, rows, name="v2.csv"), user="bureau_user",
                                  batch_size=3, workers=2)
    assert report.updated == 11 and [e.row for e in report.errors] == [7]
    model.Session.remove()
    hits = helpers.call_action("package_search", q="并行资源", rows=20)["results"]
    assert sorted(h["delivery_methods"] == ["file"] for h in hits) == [False] + [True] * 11
    acts = model.Session.execute(text(
        "SELECT count(*) FROM activity WHERE activity_type = 'changed package'")).scalar()
    assert acts == 11


def test_a_resource_created_on_the_web_is_found_by_unit_and_title(sanyi_orgs, tmp_path):
    org = model.Group.get("shi-wei-jian-wei")
    helpers.call_action("package_create", context={"user": "wj_editor"}, name="web-made",
                        title="网页创建的资源", owner_org=org.id, delivery_methods=["api"],
                        update_cycle="monthly", grade_level="L3", domain="health",
                        open_attribute="authorized", last_updated=PAST)
    rows = [[1, "市卫健委", "网页创建的资源", "接口", "每月", "三级（重要数据）", PAST, ""]]
    plan = importer.plan_file(_csv(tmp_path, rows), user="wj_editor")
    assert plan.counts()["unchanged"] == 1
    rows[0][4] = "每年"
    report = importer.import_file(_csv(tmp_path, rows, name="v2.csv"), user="wj_editor")
    assert (report.created, report.updated) == (0, 1)
    assert helpers.call_action("package_show", id="web-made")["update_cycle"] == "yearly"


def test_the_plan_is_the_same_in_one_process_or_several(sanyi_orgs, tmp_path):
    """Rows validated in forked workers come back as the same plan, rejections included."""
    rows = [[i, "市卫健委", f"分进程资源{i}", "接口", "每月", "L3", PAST, ""] for i in range(1, 10)]
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    for r in rows[:6]:
        r[4] = "每季度"
    rows[4][3] = "传真"  # refused by the schema, in a child's batch
    rows += [[i, "市卫健委", f"分进程新资源{i}", "文件", "每年", "L2", PAST, "新"] for i in (10, 11, 12)]
    path = _csv(tmp_path, rows, name="v2.csv")
    serial = importer.plan_file(path, user="bureau_user", batch_size=3, workers=1)
    model.Session.remove()
    parallel = importer.plan_file(path, user="bureau_user", batch_size=3, workers=2)
    assert parallel.counts() == serial.counts() == {
        importer.ADD: 3, importer.CHANGE: 5, importer.UNCHANGED: 3, importer.REJECT: 1}
    assert parallel.digest() == serial.digest()
    assert [(r.row, r.action, r.reason, r.changes, r.data) for r in parallel.rows] == \
        [(r.row, r.action, r.reason, r.changes, r.data) for r in serial.rows]
    assert "传真" in parallel.of(importer.REJECT)[0].reason


def test_the_plan_reads_package_show_from_the_index_while_it_is_current(
        sanyi_orgs, tmp_path, monkeypatch):
    """``cached_shows`` answers as ``package_show`` with its cache does: the index's
    validated dict where it is current (more ids than one search may carry), the database's
    dictization where the package changed since it was indexed."""
    from ckanext.sanyi.catalog import bulk
    rows = [[i, "市卫健委", f"缓存资源{i}", "接口", "每月", "L3", PAST, "说明"] for i in range(1, 6)]
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    pkgs = model.Session.query(model.Package).filter(
        model.Package.title.like("缓存资源%")).order_by(model.Package.title).all()
    fresh = bulk.show_packages(pkgs, "bureau_user", custom_only=True)
    monkeypatch.setattr(bulk, "_SHOW_SEARCH_IDS", 2)
    shown: list[int] = []
    real = bulk.show_packages
    monkeypatch.setattr(bulk, "show_packages",
                        lambda p, *a, **k: shown.append(len(p)) or real(p, *a, **k))
    assert bulk.cached_shows(pkgs, "bureau_user") == fresh and shown == []
    # a package written behind the index's back is shown from the database
    model.Session.execute(text("UPDATE package SET metadata_modified = metadata_modified"
                               " + interval '1 second', notes = '改' WHERE id = :i"),
                          {"i": pkgs[2].id})
    model.Session.expire_all()
    out = bulk.cached_shows(pkgs, "bureau_user")
    assert shown == [1] and out[2][1]["notes"] == "改"
    assert [o[1]["name"] for o in out] == [p.name for p in pkgs]
    model.Session.rollback()


@pytest.mark.parametrize("micro", [500599, 0, 750000, 748965])
def test_the_index_is_current_whatever_the_digits_of_the_time(
        sanyi_orgs, tmp_path, monkeypatch, micro):
    """The index keeps ``metadata_modified`` to the millisecond and drops trailing zeros
    (``…:19.5Z``, ``…:19Z``): it still holds the package as it is now."""
    from ckanext.sanyi.catalog import bulk
    rows = [[1, "市卫健委", "时间精度资源", "接口", "每月", "L3", PAST, "说明"]]
    importer.import_file(_csv(tmp_path, rows), user="bureau_user")
    pkg = model.Package.get(importer.resource_name("shi-wei-jian-wei", "时间精度资源"))
    model.Session.execute(text("UPDATE package SET metadata_modified = :t WHERE id = :i"),
                          {"t": dt.datetime(2026, 12, 4, 4, 20, 19, micro), "i": pkg.id})
    model.Session.expire_all()
    bulk.index_packages([pkg], "bureau_user")
    model.Session.commit()
    real = bulk.show_packages
    shown: list[int] = []
    monkeypatch.setattr(bulk, "show_packages",
                        lambda p, *a, **k: shown.append(len(p)) or real(p, *a, **k))
    assert list(bulk.indexed_docs([pkg.id], ("validated_data_dict",))) == [pkg.id]
    (_, custom), = bulk.cached_shows([pkg], "bureau_user")
    assert shown == [] and custom["notes"] == "说明"
    # a millisecond later it is not
    model.Session.execute(text("UPDATE package SET metadata_modified = metadata_modified"
                               " + interval '1 millisecond' WHERE id = :i"), {"i": pkg.id})
    assert bulk.indexed_docs([pkg.id], ("validated_data_dict",)) == {}
    model.Session.rollback()
