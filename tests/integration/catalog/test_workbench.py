"""Each role lands on its own page after logging in; a data unit's editor lands on the unit's
workbench (its resources, overdue first, the review queue beside), reached over HTTP."""
from __future__ import annotations

import re

import pytest
from applications_support import call_as, to_status
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")


def csrf_token(app, url: str = "/user/login") -> str:
    """The CSRF token the form on ``url`` hands the current session."""
    return re.search(r'name="_csrf_token" value="([^"]+)"', app.get(url).body).group(1)


@pytest.fixture
def bench(world):
    factories.User(name="no_role")
    # 高血压… last updated long ago (monthly): overdue; 医保参保人员 stays current
    call_as("wj_editor", "package_patch", id="hypertension", last_updated="2020-01-01")
    application = to_status("unit_review")
    return {"application": application, **world}


@pytest.mark.parametrize("user, landing", [
    ("wj_editor", "/unit/workbench"), ("merchant_user", "/merchant/entitlements"),
    ("bureau_user", "/bureau/supervision"), ("operator_user", "/orders"),
    ("no_role", "/dashboard/datasets"), ("sysadmin", "/dashboard/datasets")])
def test_login_form_lands_each_role_on_its_page(app, bench, login, user, landing):
    login(app, user)
    res = app.get("/after-login", follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith(landing)
    assert app.get(landing).status_code == 200


def test_login_itself_goes_to_the_landing(app, bench):
    from ckan import model
    user = model.User.get("wj_editor")
    user.password = "Sanyi-test-2026"
    model.Session.commit()
    res = app.post("/user/login", data={"login": "wj_editor", "password": "Sanyi-test-2026",
                                        "_csrf_token": csrf_token(app)}, follow_redirects=True)
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "本单位资源" in html and "sanyi-workbench-table" in html


@pytest.mark.parametrize("prefix, words", [
    ("", ["本单位资源", "市卫健委", "待本单位审核的申请", "标记为已更新"]),
    ("/en", ["Our resources", "Applications awaiting our review", "Mark as updated"])])
def test_workbench_lists_own_resources_overdue_first_and_the_queue(app, bench, login, prefix,
                                                                   words):
    login(app, "wj_editor")
    html = app.get(f"{prefix}/unit/workbench").get_data(as_text=True)
    for word in words:
        assert word in html, word
    table = html.split("sanyi-workbench-table", 1)[1]
    assert "高血压患者健康管理数据" in table
    assert "医保参保人员" not in table and "市场流通药品相关数据" not in table  # other units
    first_row = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert "sanyi-row-overdue" in first_row and "高血压患者健康管理数据" in first_row
    queue = html.split("sanyi-workbench-queue", 1)[1]
    assert bench["application"]["id"] in queue


def test_workbench_refused_to_others(app, bench, login):
    res = app.get("/unit/workbench", follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]
    for user in ("merchant_user", "no_role"):
        login(app, user)
        assert app.get("/unit/workbench", follow_redirects=False).status_code == 403
    login(app, "yb_editor")  # another unit: its own resources only, nothing overdue
    html = app.get("/unit/workbench").get_data(as_text=True)
    assert "医保参保人员" in html and "高血压患者健康管理数据" not in html
    assert "sanyi-row-overdue" not in html


def test_mark_updated_from_the_workbench_returns_to_it(app, bench, login):
    login(app, "wj_editor")
    res = app.post("/dataset/hypertension/mark-updated",
                   data={"return_to": "workbench", "_csrf_token": csrf_token(app, "/unit/workbench")},
                   follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/unit/workbench")
    html = app.get("/unit/workbench").get_data(as_text=True)
    assert "sanyi-row-overdue" not in html
