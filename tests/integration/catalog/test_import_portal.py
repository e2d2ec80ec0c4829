"""The catalog import pages: upload, dry run, confirm, export, over HTTP.

Anonymous visitors, users with no role and editors of another unit are refused (403); a
unit's editor imports and exports only their own unit's resources; the bureau may import
for any unit and create units. The preview writes nothing; the confirm applies exactly the
previewed plan (the stored file by its hash, the plan by its digest) or shows the new
preview (409); the import is audited; export → import changes nothing.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from ckan import model
from ckan.tests import factories, helpers
from sqlalchemy import text
from test_import import _state

from ckanext.sanyi.catalog import importer
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

UNIT = "shi-wei-jian-wei"
PAGE = f"/organization/{UNIT}/catalog-import"
HEADER = ["序号", "数源单位", "数据资源名称", "提供方式", "更新周期", "最近更新日期"]
PAST = (clock.today() - dt.timedelta(days=20)).isoformat()
USERS = ("no_role", "wj_editor", "yb_editor", "bureau_user")


def _build(orgs):
    factories.User(name="no_role")
    path = "/tmp/sanyi-portal-world.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(1, 4):
            w.writerow([i, "市卫健委", f"门诊资源{i}", "接口", "每月", PAST])
        w.writerow([4, "市医保局", "医保结算数据", "文件", "每月", PAST])
    report = importer.import_file(path, user="bureau_user")
    assert report.created == 4, report.errors
    return {"tokens": {u: factories.APIToken(user=u)["token"] for u in USERS}}


@pytest.fixture
def portal(sanyi_orgs, sanyi_db, request):
    return sanyi_db.layer(request, lambda: _build(sanyi_orgs))


def _auth(portal, user):
    return {"Authorization": portal["tokens"][user]} if user else {}


def _csv_bytes(rows, header=HEADER, title=None):
    buf = io.StringIO()
    w = csv.writer(buf)
    if title:
        w.writerow([title])
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _upload(app, portal, user, body, name="catalog.csv", url=PAGE, extra=None, status=200):
    data = {"file": (io.BytesIO(body), name), **(extra or {})}
    res = app.post(url, data=data, headers=_auth(portal, user), follow_redirects=False)
    assert res.status_code == status, res.get_data(as_text=True)[:2000]
    return res.get_data(as_text=True)


def _hidden(page, name):
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def _confirm(app, portal, user, page, url=PAGE + "/confirm", status=200, **override):
    data = {k: _hidden(page, k) for k in ("sha256", "digest", "file_name")}
    if 'name="create_units"' in page:
        data["create_units"] = "1"
    data.update(override)
    res = app.post(url, data=data, headers=_auth(portal, user), follow_redirects=False)
    assert res.status_code == status, res.get_data(as_text=True)[:2000]
    return res.get_data(as_text=True)


def _count(page, kind):
    return int(re.search(rf'data-count="{kind}">[^<]*?(\d+)<', page).group(1))


def test_who_may_open_import_and_export(app, portal):
    for user in (None, "no_role", "yb_editor"):
        for url in (PAGE, f"/organization/{UNIT}/catalog-export.csv",
                    f"/organization/{UNIT}/catalog-export.xlsx", f"/en{PAGE}"):
            res = app.get(url, headers=_auth(portal, user), follow_redirects=False)
            assert res.status_code == 403, (user, url)
        _upload(app, portal, user, _csv_bytes([[1, "市卫健委", "新资源", "接口", "每月", PAST]]),
                status=403)
    assert "只有本单位的编辑可以导入或导出本单位的目录" in app.get(
        PAGE, headers=_auth(portal, "yb_editor")).get_data(as_text=True)
    for user in ("wj_editor", "bureau_user"):
        zh = app.get(PAGE, headers=_auth(portal, user)).get_data(as_text=True)
        assert "批量导入目录" in zh and "上传并预览" in zh and "导出 XLSX" in zh
        en = app.get("/en" + PAGE, headers=_auth(portal, user)).get_data(as_text=True)
        assert "Import catalog" in en and "Upload and preview" in en
    # the page across units, with the create-units option, is the bureau's
    assert app.get("/catalog/import", headers=_auth(portal, "wj_editor")).status_code == 403
    page = app.get("/catalog/import", headers=_auth(portal, "bureau_user")).get_data(as_text=True)
    assert 'name="create_units"' in page
    # linked where editors look: the unit's page and the overdue dashboard
    unit_page = app.get(f"/organization/{UNIT}", headers=_auth(portal, "wj_editor"))
    assert PAGE in unit_page.get_data(as_text=True)
    assert PAGE not in app.get(f"/organization/{UNIT}").get_data(as_text=True)
    assert PAGE in app.get("/dashboard/overdue",
                           headers=_auth(portal, "wj_editor")).get_data(as_text=True)


def test_dry_run_then_confirm_applies_the_preview(app, portal):
    body = _csv_bytes([
        [1, "市卫健委", "门诊资源1", "接口、库表", "每季度", PAST],     # changed
        [2, "市卫健委", "门诊资源2", "接口", "每月", PAST],             # unchanged
        [3, "", "新的门诊资源", "文件", "每年", ""],                    # added, unit defaulted
        [4, "市医保局", "医保结算数据", "接口", "每月", PAST],           # another unit
        [5, "市卫健委", "坏数据", "传真", "每月", PAST],                 # rejected
    ], title="公共数据资源目录（市卫健委）")
    before = _state()
    page = _upload(app, portal, "wj_editor", body, name="门诊目录.csv")
    assert _state() == before  # the dry run wrote nothing
    assert [_count(page, k) for k in ("add", "change", "unchanged", "reject")] == [1, 1, 1, 2]
    assert "提供方式" in page and "接口</del> → <ins>接口、库表" in page
    assert "每月</del> → <ins>每季度" in page
    assert "不能导入“市医保局”的资源" in page and "未知的提供方式“传真”" in page
    assert "数源单位 = 市卫健委" in page and "最近更新日期 = " in page  # defaulted, per row
    en = _upload(app, portal, "wj_editor", body, url="/en" + PAGE)
    assert "Import preview" in en and "Defaulted fields" in en and "Unknown delivery method" in en

    done = _confirm(app, portal, "wj_editor", page)
    assert "新增 1，修改 1，不变 1，新建单位 0，拒绝 2" in done
    name = importer.resource_name(UNIT, "门诊资源1")
    pkg = helpers.call_action("package_show", id=name)
    assert pkg["delivery_methods"] == ["api", "table"] and pkg["update_cycle"] == "quarterly"
    new = helpers.call_action("package_show", id=importer.resource_name(UNIT, "新的门诊资源"))
    assert new["organization"]["name"] == UNIT
    acts = helpers.call_action("package_activity_list", id=name)
    assert acts[0]["activity_type"] == "changed package"
    assert acts[0]["data"]["import"] == {"file": "门诊目录.csv"}
    audit = model.Session.execute(text(
        "SELECT actor, action, object_id, after FROM sanyi_audit WHERE action = 'catalog_import'"
    )).one()
    org_id = model.Group.get(UNIT).id
    assert audit[:3] == ("wj_editor", "catalog_import", org_id)
    assert audit[3]["file"] == "门诊目录.csv" and audit[3]["created"] == 1
    assert audit[3]["updated"] == 1 and audit[3]["error_rows"] == [6, 7]  # row 1 is the title
    # the same confirmation again: the plan is no longer the previewed one
    again = _confirm(app, portal, "wj_editor", page, status=409)
    assert "目录在上次预览之后已有变化" in again


@pytest.mark.parametrize("lang", ["", "/en"])
def test_changed_rows_confirmed_on_the_page_are_written_field_by_field(
        app, portal, monkeypatch, lang):
    """Three rows of the same change uploaded and confirmed on the page: the first is
    validated whole, the others field by field; anonymous visitors and users with no role
    cannot confirm the preview; what the editor's confirm writes is what package_show (cached
    and not) and the search say."""
    from ckanext.sanyi.catalog import bulk
    made: list[str] = []  # observed: the rows validate_updates made field by field
    real = bulk.validate_updates

    def spy(items, user):
        out = real(items, user)
        made.extend(pkg.name for (pkg, _, _, _), (v, _) in zip(items, out, strict=True)
                    if bulk._DELTA in v)
        return out
    monkeypatch.setattr(bulk, "validate_updates", spy)
    body = _csv_bytes([[i, "市卫健委", f"门诊资源{i}", "文件", "每年", PAST] for i in (1, 2, 3)])
    page = _upload(app, portal, "wj_editor", body, url=lang + PAGE)
    assert [_count(page, k) for k in ("add", "change", "unchanged", "reject")] == [0, 3, 0, 0]
    before = _state()
    for user in (None, "no_role"):
        _confirm(app, portal, user, page, url=lang + PAGE + "/confirm", status=403)
    assert _state() == before
    made.clear()
    done = _confirm(app, portal, "wj_editor", page, url=lang + PAGE + "/confirm")
    assert ("修改 3" if not lang else "changed 3") in done
    names = [importer.resource_name(UNIT, f"门诊资源{i}") for i in (1, 2, 3)]
    assert made == names[1:]  # the first row of the kind is validated whole
    for name in names:
        cached = helpers.call_action("package_show", id=name)
        assert cached == helpers.call_action("package_show", context={"use_cache": False},
                                             id=name)
        assert (cached["delivery_methods"], cached["update_cycle"]) == (["file"], "yearly")
    hits = app.get(lang + "/api/3/action/package_search", params={
        "q": "门诊资源", "fq": "update_cycle:yearly", "rows": 10}).json["result"]
    assert sorted(h["name"] for h in hits["results"]) == sorted(names)


def test_confirm_refuses_a_changed_catalog_or_file(app, portal):
    body = _csv_bytes([[1, "市卫健委", "门诊资源1", "库表", "每月", PAST]])
    page = _upload(app, portal, "wj_editor", body)
    name = importer.resource_name(UNIT, "门诊资源1")
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id=name,
                        notes="网页上改过")
    stale = _confirm(app, portal, "wj_editor", page, status=409)
    assert "目录在上次预览之后已有变化" in stale
    assert helpers.call_action("package_show", id=name)["delivery_methods"] == ["api"]
    # a hash of a file never uploaded, a malformed digest
    bad = _confirm(app, portal, "wj_editor", page, sha256="0" * 64, status=400)
    assert "预览的文件已不存在" in bad
    bad = _confirm(app, portal, "wj_editor", page, digest="x", status=400)
    assert "确认请求不完整" in bad
    # another unit's editor cannot confirm it
    _confirm(app, portal, "yb_editor", stale, status=403)
    assert helpers.call_action("package_show", id=name)["delivery_methods"] == ["api"]


def test_bad_files_are_field_errors(app, portal):
    page = _upload(app, portal, "wj_editor", b"{}", name="catalog.json", status=400)
    assert "不支持的文件类型" in page and "Unsupported file type" not in page  # the page's language
    assert "sanyi-field-error" in page
    page = _upload(app, portal, "wj_editor", _csv_bytes([[1, "x"]], header=["序号", "名称"]),
                   status=400)
    assert "表头缺少列" in page and "Missing columns" not in page
    page = _upload(app, portal, "wj_editor", b"PK\x03\x04broken", name="catalog.xlsx",
                   status=400)
    assert "无法读取 XLSX 文件" in page
    res = app.post(PAGE, data={}, headers=_auth(portal, "wj_editor"))
    assert res.status_code == 400 and "请选择要上传的 CSV 或 XLSX 文件" in res.get_data(as_text=True)


@pytest.mark.ckan_config("ckanext.sanyi.catalog.import_max_bytes", "2048")
def test_a_file_over_the_limit_is_413(app, portal):
    rows = [[i, "市卫健委", f"资源{i}" * 5, "接口", "每月", PAST] for i in range(100)]
    page = _upload(app, portal, "wj_editor", _csv_bytes(rows), status=413)
    assert "文件过大" in page and "File too large" in page


def test_cookie_login_needs_the_csrf_token(app, portal, login):
    login(app, "wj_editor")
    body = _csv_bytes([[1, "市卫健委", "新资源", "接口", "每月", PAST]])
    res = app.post(PAGE, data={"file": (io.BytesIO(body), "a.csv")}, follow_redirects=False)
    assert res.status_code == 400
    token = re.search(r'name="_csrf_token" value="([^"]+)"',
                      app.get(PAGE).get_data(as_text=True)).group(1)
    res = app.post(PAGE, data={"file": (io.BytesIO(body), "a.csv"), "_csrf_token": token})
    assert res.status_code == 200 and "导入预览" in res.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_changes_nothing(app, portal, fmt):
    res = app.get(f"/organization/{UNIT}/catalog-export.{fmt}", headers=_auth(portal, "wj_editor"))
    assert res.status_code == 200
    assert "attachment" in res.headers["Content-Disposition"]
    body = res.data
    if fmt == "csv":
        lines = body.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("公共数据资源目录 · 市卫健委")
        assert lines[1].startswith("序号,数源单位,数据资源名称,提供方式,更新周期")
        assert len(lines) == 5 and "医保结算数据" not in body.decode("utf-8-sig")
    before = _state()
    page = _upload(app, portal, "wj_editor", body, name=f"export.{fmt}")
    assert [_count(page, k) for k in ("add", "change", "unchanged", "reject")] == [0, 0, 3, 0]
    assert "没有需要写入的内容" in page
    assert _state() == before


def test_bureau_imports_across_units_and_creates_units(app, portal):
    body = _csv_bytes([[1, "市医保局", "医保目录数据", "接口", "每月", PAST],
                       [2, "市新设单位", "新单位数据", "文件", "每月", PAST],
                       [3, "市卫建委", "错别字数据", "文件", "每月", PAST]])
    page = _upload(app, portal, "bureau_user", body, url="/catalog/import")
    assert _count(page, "add") == 1 and _count(page, "reject") == 2
    assert "未知的数源单位“市卫建委”；最接近的单位：市卫健委" in page
    page = _upload(app, portal, "bureau_user", body, url="/catalog/import",
                   extra={"create_units": "1"})
    assert _count(page, "add") == 3 and "新建单位" in page
    # only the bureau may ask for it
    _upload(app, portal, "wj_editor", body, url="/catalog/import",
            extra={"create_units": "1"}, status=403)
    done = _confirm(app, portal, "bureau_user", page, url="/catalog/import/confirm")
    assert "新增 3" in done and "新建单位 2" in done
    assert model.Session.execute(text(
        "SELECT count(*) FROM \"group\" WHERE title IN ('市新设单位', '市卫建委')")).scalar() == 2


@pytest.mark.parametrize("prefix, reason, other", [
    ("", "数源单位：未知的数源单位“市卫建委”；最接近的单位：市卫健委", "Unknown source unit"),
    ("/en", "Source unit: Unknown source unit &#39;市卫建委&#39;; closest: 市卫健委", "未知的数源单位")])
def test_rejected_rows_speak_the_pages_language(app, portal, prefix, reason, other):
    body = _csv_bytes([[1, "市卫建委", "错别字数据", "文件", "每月", PAST]])
    page = _upload(app, portal, "bureau_user", body, url=prefix + "/catalog/import")
    rejected = page.split("将被拒绝的行" if not prefix else "Rows to be rejected", 1)[1]
    assert reason in rejected and other not in rejected
