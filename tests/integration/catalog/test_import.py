"""``ckan sanyi import-catalog``: CSV/XLSX in the first-batch layout, bulk and idempotent.

Each bad-input test asserts the message in Chinese *and* English and that the database
keeps no trace of the bad row: the package count, the organisations and the search index
(its rows and their modification times) are unchanged.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re

import pytest
from ckan import model
from ckan.tests import helpers
from click.testing import CliRunner
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from ckanext.sanyi.catalog import bulk, importer, units
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

HEADER = ["序号", "数源单位", "数据资源名称", "提供方式", "更新周期", "最近更新日期"]
FIRST_BATCH = os.path.join(os.path.dirname(importer.__file__), "..", "data",
                           "catalog-first-batch.csv")
TODAY = clock.today()
PAST = (TODAY - dt.timedelta(days=10)).isoformat()


def _csv(tmp_path, rows, header=HEADER, name="catalog.csv"):
    path = tmp_path / name
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def _xlsx(tmp_path, rows, header=HEADER, name="catalog.xlsx"):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    path = tmp_path / name
    wb.save(path)
    return str(path)


def _site_user():
    return helpers.call_action("get_site_user")["name"]


def _act(action, **kw):
    """Call an action as the site user (activities need a real user)."""
    return helpers.call_action(action, context={"user": _site_user()}, **kw)


def _state():
    """What a bad row must not change: datasets, organisations, the search index."""
    s = model.Session
    return {
        "packages": s.execute(text("SELECT count(*) FROM package")).scalar(),
        "datasets": sorted(r[0] for r in s.execute(text("SELECT name FROM package"))),
        "orgs": sorted(r[0] for r in s.execute(text('SELECT name FROM "group"'))),
        "members": s.execute(text("SELECT count(*) FROM member")).scalar(),
        "index": [tuple(r) for r in s.execute(text(
            "SELECT id, name, metadata_modified FROM sanyi_search_doc ORDER BY id"))],
    }


def _bilingual(message, zh, en):
    assert zh in message, f"{zh!r} not in {message!r}"
    assert en in message, f"{en!r} not in {message!r}"


def _index_count():
    return model.Session.execute(text("SELECT count(*) FROM sanyi_search_doc")).scalar()


# ---------------------------------------------------------------------------------------
# the first batch, CSV and XLSX, and idempotence

def test_first_batch_csv_imports_every_row_once(clean_db):
    report = importer.import_file(FIRST_BATCH, batch="第一批")
    assert report.errors == []
    assert (report.created, report.updated, report.unchanged) == (57, 0, 0)
    assert report.units_created == 11
    result = helpers.call_action("package_search", fq="+dataset_type:dataset", rows=0)
    assert result["count"] == 57
    assert _index_count() == 57
    # the identity of a row: (数源单位, 名称) -> a stable URL name
    pkg = helpers.call_action("package_show", id=importer.resource_name(
        "shi-wei-jian-wei", "高血压患者健康管理数据"))
    assert pkg["organization"]["title"] == "市卫健委"
    assert pkg["delivery_methods"] == ["api", "table", "file"]
    assert pkg["update_cycle"] == "monthly"           # 定期 -> monthly (cycles.py)
    assert pkg["domain"] == "health" and pkg["grade_level"] == "L3"
    assert pkg["batch"] == "第一批" and pkg["last_updated"] == TODAY.isoformat()
    hits = helpers.call_action("package_search", q="高血压")["results"]
    assert [h["name"] for h in hits] == [pkg["name"]]


def test_reimporting_the_same_file_changes_nothing(clean_db):
    path = FIRST_BATCH
    importer.import_file(path, batch="第一批", today=TODAY - dt.timedelta(days=3))
    before = _state()
    activities = model.Session.execute(text("SELECT count(*) FROM activity")).scalar()
    report = importer.import_file(path, batch="第一批")  # a later day: no date column
    assert (report.created, report.updated, report.unchanged) == (0, 0, 57)
    assert report.errors == [] and report.units_created == 0
    assert _state() == before
    # only the run itself is recorded
    assert model.Session.execute(text("SELECT count(*) FROM activity")).scalar() \
        == activities + 1


def test_xlsx_with_dates_and_aliases(clean_db, tmp_path):
    header = ["seq", "source_unit", "title", "delivery_methods", "update_cycle",
              "last_updated", "grade_level", "domain"]
    path = _xlsx(tmp_path, [
        [1, "市医保局", "医保结算数据", "接口;文件", "每季度", dt.datetime(2025, 11, 30), "L4", "医保"],
        [2, "市卫健委", "出生医学证明数据", "库表", "实时", dt.date(2026, 1, 2), None, None],
    ], header=header)
    report = importer.import_file(path)
    assert report.errors == [] and report.created == 2
    pkg = helpers.call_action("package_show", id=importer.resource_name(
        "shi-yi-bao-ju", "医保结算数据"))
    assert pkg["delivery_methods"] == ["api", "file"]
    assert pkg["update_cycle"] == "quarterly"
    assert pkg["last_updated"] == "2025-11-30"
    assert pkg["next_due"] == "2026-02-28"          # month end clamps
    assert (pkg["grade_level"], pkg["domain"]) == ("L4", "insurance")
    again = importer.import_file(path)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_changed_cell_updates_only_that_resource(clean_db, tmp_path):
    rows = [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", "2026-01-05"],
            [2, "市卫健委", "出院记录数据", "接口", "每月", "2026-01-05"]]
    importer.import_file(_csv(tmp_path, rows))
    name = importer.resource_name("shi-wei-jian-wei", "门诊就诊记录数据")
    _act("package_patch", id=name, grade_level="L4")  # edited on the web
    rows[0][3] = "接口;库表"
    report = importer.import_file(_csv(tmp_path, rows, name="v2.csv"))
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    pkg = helpers.call_action("package_show", id=name)
    assert pkg["delivery_methods"] == ["api", "table"]
    assert pkg["grade_level"] == "L4"   # no 分类分级 column: the web edit stays
    assert helpers.call_action("package_search", q="门诊就诊记录")["results"][0][
        "delivery_methods"] == ["api", "table"]


def test_a_deleted_resource_is_created_again(clean_db, tmp_path):
    path = _csv(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST]])
    importer.import_file(path)
    name = importer.resource_name("shi-wei-jian-wei", "门诊就诊记录数据")
    old_id = helpers.call_action("package_show", id=name)["id"]
    _act("package_delete", id=name)
    report = importer.import_file(path)
    assert report.created == 1 and report.errors == []
    pkg = helpers.call_action("package_show", id=name)
    assert pkg["id"] != old_id and pkg["state"] == "active"
    assert model.Package.get(old_id).name == old_id  # as package_create does


# ---------------------------------------------------------------------------------------
# bulk-created == package_create

_TS = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)?")


def _normalize(value, ids):
    """Replace ids and timestamps, parse serialized dicts, sort term lists."""
    if isinstance(value, dict):
        return {k: _normalize(v, ids) for k, v in value.items()
                if k not in ("metadata_created", "metadata_modified", "score")}
    if isinstance(value, (list, tuple)):
        return [_normalize(v, ids) for v in value]
    if isinstance(value, str):
        if value[:1] in "{[" and value[-1:] in "}]":
            try:
                return _normalize(json.loads(value), ids)
            except ValueError:
                pass
        for i, old in enumerate(ids):
            value = value.replace(old, f"<id{i}>")
        return _TS.sub("<ts>", value)
    if isinstance(value, (dt.datetime, dt.date)):
        return "<ts>"
    return value


def _index_row(pkg_id):
    """The dataset's row in sanyi_search_doc (every column, whatever the layout: tsvectors
    as text) and its stored document as the engine returns it."""
    from ckan.lib.search import show
    row = model.Session.execute(text(
        "SELECT row_to_json(d)::text FROM sanyi_search_doc d WHERE d.id = :id"),
        {"id": pkg_id}).scalar_one()
    return json.loads(row), show(pkg_id)


def _sorted_lists(value):
    """Term/facet arrays are sets: compare them sorted (after ids are normalized)."""
    if isinstance(value, dict):
        return {k: _sorted_lists(v) for k, v in value.items()}
    if isinstance(value, list) and all(isinstance(v, (str, int)) for v in value):
        return sorted(value, key=str)
    return value


def _snapshot(name):
    pkg_id = model.Package.get(name).id
    index_id = model.Session.execute(text(
        "SELECT index_id FROM sanyi_search_doc WHERE id = :id"), {"id": pkg_id}).scalar()
    ids = [pkg_id, index_id]
    shown = helpers.call_action("package_show", id=name)
    fresh = helpers.call_action("package_show", context={"use_cache": False}, id=name)
    row, stored = _index_row(pkg_id)
    acts = helpers.call_action("package_activity_list", id=name)
    return {
        "package_show": _normalize(shown, ids),
        "package_show_uncached": _normalize(fresh, ids),
        "index_row": _sorted_lists(_normalize(row, ids)),
        "index_doc": _normalize(stored, ids),
        "activities": [(a["activity_type"], _normalize(a["data"], ids)) for a in acts],
        "member": [tuple(r) for r in model.Session.execute(text(
            "SELECT table_name, capacity, group_id, state FROM member WHERE table_id = :id"),
            {"id": pkg_id})],
    }


def test_bulk_created_dataset_equals_package_create(clean_db, tmp_path):
    row = {"unit": "市卫健委", "title": "高血压患者健康管理数据", "delivery_methods": "接口;文件",
           "update_cycle": "每季度", "last_updated": "2025-11-30", "notes": "慢病随访**记录**",
           "grade_level": "三级（重要数据）", "batch": "第一批"}
    from ckan.tests import factories
    site = factories.Sysadmin(name="importer_admin")["name"]  # its activities are listed
    org = units.create_unit("市卫健委", site)
    data = importer.row_to_dataset(row, org, "第一批", TODAY)
    helpers.call_action("package_create", context={"user": site}, **data)
    via_api = _snapshot(data["name"])
    helpers.call_action("dataset_purge", context={"user": site}, id=data["name"])
    assert _index_count() == 0

    path = _csv(tmp_path, [[1, row["unit"], row["title"], row["delivery_methods"],
                            row["update_cycle"], row["last_updated"], row["notes"],
                            row["grade_level"], row["batch"]]],
                header=HEADER + ["资源描述", "分类分级", "公示批次"])
    report = importer.import_file(path, user=site)
    assert report.created == 1 and report.errors == []
    via_import = _snapshot(data["name"])

    assert via_import["package_show"]["next_due"] == "2026-02-28"
    for key in via_api:
        assert via_import[key] == via_api[key], key
    assert via_api["activities"][0][0] == "new package"


def test_a_batch_that_fails_in_the_database_falls_back_to_package_create(
        clean_db, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise sa_exc.DBAPIError("INSERT", {}, Exception("simulated"))
    monkeypatch.setattr(bulk, "_write_new", broken)
    path = _csv(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST],
                           [2, "市卫健委", "出院记录数据", "传真", "每月", PAST],
                           [3, "市医保局", "医保结算数据", "文件", "实时", PAST]])
    report = importer.import_file(path)
    assert report.created == 2
    assert [e.row for e in report.errors] == [3]
    assert _index_count() == 2
    assert helpers.call_action("package_search", q="医保结算")["count"] == 1


def test_several_batches(clean_db, tmp_path):
    rows = [[i, ["市卫健委", "市医保局"][i % 2], f"资源{i}", "接口", "每月", PAST]
            for i in range(1, 24)]
    rows[10][4] = "每两年"
    report = importer.import_file(_csv(tmp_path, rows), batch_size=5)
    assert report.created == 22 and [e.row for e in report.errors] == [12]
    assert helpers.call_action("package_search", fq="+dataset_type:dataset",
                               rows=0)["count"] == 22


def test_parallel_workers_create_the_same(clean_db, tmp_path):
    rows = [[i, ["市卫健委", "市医保局"][i % 2], f"资源{i}", "接口;库表", "每月", PAST]
            for i in range(1, 15)]
    rows[4][3] = "传真"
    path = _csv(tmp_path, rows)
    importer.import_file(_csv(tmp_path, rows[:1], name="units.csv"))  # the units exist
    report = importer.import_file(path, batch_size=3, workers=2)
    assert report.created == 12 and report.unchanged == 1
    assert [e.row for e in report.errors] == [6]
    model.Session.remove()
    assert helpers.call_action("package_search", fq="+dataset_type:dataset",
                               rows=0)["count"] == 13
    assert _index_count() == 13
    assert helpers.call_action("package_search", q="资源14")["results"][0][
        "delivery_methods"] == ["api", "table"]
    again = importer.import_file(path, batch_size=3, workers=2)
    assert (again.created, again.unchanged) == (0, 13)


# ---------------------------------------------------------------------------------------
# bad input: a clear bilingual message, nothing half-written

def _import_bad(tmp_path, rows, **kw):
    before = _state()
    report = importer.import_file(_csv(tmp_path, rows), **kw)
    assert report.created == 0 and report.updated == 0
    assert _state() == before
    return report


def test_unknown_delivery_method(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口;传真", "每月", PAST]])
    (err,) = report.errors
    assert err.row == 2
    _bilingual(err.message, "提供方式", "Delivery method")
    _bilingual(err.message, "未知的提供方式“传真”", "Unknown delivery method '传真'")
    _bilingual(err.message, "接口、库表、文件", "api, table, file")


def test_date_in_the_future(sanyi_orgs, tmp_path):
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    report = _import_bad(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", future]])
    (err,) = report.errors
    assert err.row == 2
    _bilingual(err.message, "最近更新日期", "Last updated")
    _bilingual(err.message, "晚于今天", "is in the future")


def test_invalid_date(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", "2026/13/01"]])
    _bilingual(report.errors[0].message, "日期格式无效", "Invalid date")


def test_empty_title(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市卫健委", "", "接口", "每月", PAST]])
    (err,) = report.errors
    assert err.row == 2
    _bilingual(err.message, "数据资源名称", "Resource name")
    _bilingual(err.message, "必填项", "Missing value")


def test_unknown_update_cycle(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市医保局", "医保结算数据", "接口", "每两年", PAST]])
    (err,) = report.errors
    assert err.row == 2
    _bilingual(err.message, "更新周期", "Update cycle")
    _bilingual(err.message, "未知的更新周期“每两年”", "Unknown update cycle '每两年'")


def test_bad_rows_of_a_new_unit_create_no_organisation(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市新单位", "某数据", "传真", "每月", PAST],
                                    [2, "市新单位", "另一数据", "接口", "从不", PAST]])
    assert [e.row for e in report.errors] == [2, 3]
    _bilingual(report.errors[0].message, "提供方式", "Delivery method")
    _bilingual(report.errors[1].message, "更新周期", "Update cycle")


def test_unknown_unit_without_create_units(sanyi_orgs, tmp_path):
    report = _import_bad(tmp_path, [[1, "市新单位", "某数据", "接口", "每月", PAST]],
                         create_units=False)
    _bilingual(report.errors[0].message, "未知的数源单位“市新单位”", "Unknown source unit")


def test_duplicate_rows_in_one_file(sanyi_orgs, tmp_path):
    before = _state()
    row = [1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST]
    by_name = [4, "shi-wei-jian-wei"] + row[2:]  # the same unit, by its URL name
    report = importer.import_file(_csv(tmp_path, [row, row, [3] + row[1:], by_name]))
    assert report.created == 1
    assert [e.row for e in report.errors] == [3, 4, 5]
    for err in report.errors:
        _bilingual(err.message, "与第 2 行重复", "Duplicate of row 2")
    after = _state()
    assert after["packages"] == before["packages"] + 1
    assert len(after["index"]) == len(before["index"]) + 1


def test_good_rows_are_imported_and_bad_ones_reported(sanyi_orgs, tmp_path):
    before = _state()
    report = importer.import_file(_csv(tmp_path, [
        [1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST],
        [2, "市卫健委", "出院记录数据", "传真", "每月", PAST],
        [3, "市医保局", "", "接口", "每月", PAST]]))
    assert report.created == 1 and [e.row for e in report.errors] == [3, 4]
    after = _state()
    assert after["packages"] == before["packages"] + 1
    assert after["datasets"] == sorted(before["datasets"] + [
        importer.resource_name("shi-wei-jian-wei", "门诊就诊记录数据")])


def test_xlsx_with_wrong_headers(sanyi_orgs, tmp_path):
    before = _state()
    path = _xlsx(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月"]],
                 header=["序号", "单位", "资源名称", "提供方式", "更新周期"])
    with pytest.raises(importer.ImportFileError) as e:
        importer.import_file(path)
    (message,) = e.value.error_dict["file"]
    _bilingual(message, "表头缺少列：数源单位、数据资源名称", "Missing columns")
    _bilingual(message, "source_unit", "title")
    assert _state() == before


def test_unsupported_and_empty_files(sanyi_orgs, tmp_path):
    other = tmp_path / "catalog.json"
    other.write_text("{}")
    with pytest.raises(importer.ImportFileError) as e:
        importer.import_file(str(other))
    _bilingual(e.value.error_dict["file"][0], "不支持的文件类型", "Unsupported file type")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(importer.ImportFileError) as e:
        importer.import_file(str(empty))
    _bilingual(e.value.error_dict["file"][0], "文件为空", "empty")


def test_unknown_importing_user(sanyi_orgs, tmp_path):
    path = _csv(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST]])
    before = _state()
    with pytest.raises(importer.ImportFileError) as e:
        importer.import_file(path, user="nobody")
    _bilingual(e.value.error_dict["user"][0], "未知的用户“nobody”", "Unknown user 'nobody'")
    assert _state() == before


def test_gb18030_csv(sanyi_orgs, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(("序号,数源单位,数据资源名称,提供方式,更新周期\n"
                      "1,市卫健委,门诊就诊记录数据,接口,定期\n").encode("gb18030"))
    report = importer.import_file(str(path))
    assert report.created == 1 and report.errors == []


# ---------------------------------------------------------------------------------------
# the run is recorded; the command line

def test_one_activity_per_run_with_who_file_and_counts(sanyi_orgs, tmp_path):
    path = _csv(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST],
                           [2, "市卫健委", "出院记录数据", "传真", "每月", PAST]])
    report = importer.import_file(path, user="bureau_user")
    from ckanext.activity.model import Activity
    runs = model.Session.query(Activity).filter(
        Activity.activity_type == importer.IMPORT_ACTIVITY).all()
    assert len(runs) == 1 and runs[0].id == report.activity_id
    bureau = model.User.get("bureau_user")
    assert runs[0].user_id == bureau.id
    assert runs[0].data["import"] == {
        "file": "catalog.csv", "rows": 2, "created": 1, "updated": 0, "unchanged": 0,
        "units_created": 0, "errors": 1, "error_rows": [3]}
    # it is in the importer's activity stream
    stream = helpers.call_action("user_activity_list", context={"user": "bureau_user"},
                                 id="bureau_user")
    assert importer.IMPORT_ACTIVITY in [a["activity_type"] for a in stream]
    # and the dataset it created has its own "new package" activity, as on the web
    acts = helpers.call_action("package_activity_list", id=importer.resource_name(
        "shi-wei-jian-wei", "门诊就诊记录数据"))
    assert [a["activity_type"] for a in acts] == ["new package"]


def test_cli_import_shows_progress_and_bad_rows(sanyi_orgs, tmp_path):
    from ckanext.sanyi.cli import sanyi
    path = _csv(tmp_path, [[1, "市卫健委", "门诊就诊记录数据", "接口", "每月", PAST],
                           [2, "市卫健委", "出院记录数据", "传真", "每月", PAST]])
    result = CliRunner().invoke(sanyi, ["import-catalog", path, "--batch", "第二批"])
    assert result.exit_code == 1, result.output
    assert "导入 / importing" in result.output
    assert "新增 1" in result.output and "created 1" in result.output
    assert "第 3 行 / row 3" in result.output
    assert "未知的提供方式“传真”" in result.output and "Unknown delivery method" in result.output
    again = CliRunner().invoke(sanyi, ["import-catalog", path, "--batch", "第二批"])
    assert "未变 1" in again.output and "unchanged 1" in again.output


def test_cli_refuses_a_file_with_wrong_headers(sanyi_orgs, tmp_path):
    from ckanext.sanyi.cli import sanyi
    path = _csv(tmp_path, [[1, "x"]], header=["序号", "名称"])
    result = CliRunner().invoke(sanyi, ["import-catalog", path])
    assert result.exit_code == 2
    assert "表头缺少列" in result.output and "Missing columns" in result.output
