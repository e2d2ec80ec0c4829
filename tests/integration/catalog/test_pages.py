"""The portal's pages in Chinese (default) and English: they render, and show the right things."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from ckan.tests import factories, helpers
from pagecheck import checked_body, page_text

from ckanext.sanyi.common import clock

TODAY = clock.today()


def _days_ago(n: int) -> str:
    return (TODAY - dt.timedelta(days=n)).isoformat()


def _resource(org_id: str, name: str, title: str, last_updated: str, **extra) -> dict:
    data = dict(name=name, title=title, owner_org=org_id, domain="health",
                delivery_methods=["api", "table", "file"], update_cycle="monthly",
                grade_level="L3", open_attribute="authorized", last_updated=last_updated,
                batch="第一批")
    data.update(extra)
    return helpers.call_action("package_create", context={"user": "wj_editor"}, **data)


@pytest.fixture
def portal(sanyi_orgs, sanyi_db, request):
    """Two catalog resources of 市卫健委 (one overdue, one current), one of 市医保局, a product
    (built once while the tests only read: ``sanyi_db.layer``)."""
    return sanyi_db.layer(request, lambda: _portal(sanyi_orgs))


def _portal(sanyi_orgs):
    orgs = sanyi_orgs["orgs"]
    overdue = _resource(
        orgs["wj"]["id"], "hypertension", "高血压患者健康管理数据", _days_ago(75),
        notes="辖区高血压患者随访管理记录。",
        title_en="Hypertension patient health management data",
        data_fields=[{"field_name": "患者编号", "field_type": "code", "sensitive": "yes"},
                     {"field_name": "随访日期", "field_type": "date", "sensitive": "no"}])
    current = _resource(orgs["wj"]["id"], "outpatient", "门诊就诊记录数据", _days_ago(3))
    insured = helpers.call_action(
        "package_create", context={"user": "yb_editor"}, name="insured", title="医保参保人员",
        owner_org=orgs["yb"]["id"], domain="insurance", delivery_methods=["api"],
        update_cycle="quarterly", grade_level="L3", open_attribute="authorized",
        last_updated=_days_ago(10))
    product = helpers.call_action(
        "package_create", context={"ignore_auth": True, "user": "bureau_user"},
        type="product", name="chronic-refill", title="慢病线上开处方",
        title_en="Online prescription renewal for chronic diseases",
        owner_org=orgs["operator"]["id"], category="industrial", scenario="慢病线上开处方",
        notes="为慢病患者提供网上续方购药服务。", product_forms=["dataset", "api"],
        supplying_units=["shi-wei-jian-wei", "shi-yi-bao-ju"],
        source_resources=["hypertension", "insured"], status="approved")
    tokens = {name: factories.APIToken(user=name)["token"]
              for name in ("wj_editor", "yb_editor")}
    return {"overdue": overdue, "current": current, "insured": insured, "product": product,
            "tokens": tokens, **sanyi_orgs}


def _get(app, url: str, token: str | None = None, status: int = 200) -> str:
    headers = {"Authorization": token} if token else {}
    res = app.get(url, headers=headers)
    return checked_body(res, url, status)




PAGES = ["/", "/dataset/", "/dataset/hypertension", "/dataset/outpatient", "/product/",
         "/product/chronic-refill", "/organization/", "/organization/shi-wei-jian-wei",
         "/dataset/?q=高血压", "/dataset/?organization=shi-wei-jian-wei"]


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_public_pages_render_in_both_languages(app, portal, prefix):
    for page in PAGES:
        _get(app, prefix + page)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_dashboard_overdue_renders_in_both_languages(app, portal, prefix):
    body = _get(app, prefix + "/dashboard/overdue", portal["tokens"]["wj_editor"])
    assert "高血压患者健康管理数据" in body
    _get(app, prefix + "/dashboard/datasets", portal["tokens"]["wj_editor"])


@pytest.mark.usefixtures("with_plugins")
def test_home_shows_catalog_shape_search_and_products(app, portal):
    body = _get(app, "/")
    text = page_text(body)
    # header navigation and the language switch
    for label, href in (("资源目录", "/dataset/"), ("产品清单", "/product/"),
                        ("数源单位", "/organization/")):
        assert re.search(rf'<a[^>]+href="{re.escape(href)}"[^>]*>\s*{label}\s*</a>', body), label
    assert 'id="field-lang-select"' in body          # CKAN's selector in the footer
    assert 'href="/en/"' in body                      # the visible switch in the account bar
    # the prominent search posts to the catalog
    assert re.search(r'<form class="sanyi-hero-search" action="/dataset/" method="get"', body)
    # totals and bars per unit and per domain, with visible numbers
    assert re.search(r'目录资源\s*</dt>\s*<dd><a href="/dataset/">3</a>', body)
    assert 'href="/dataset/?organization=shi-wei-jian-wei"' in body
    bars = dict(re.findall(r'title="([^"]+)">[^<]+</a>\s*<span class="sanyi-bar-track"[^>]*>'
                           r'<span class="sanyi-bar-fill" style="width: [\d.]+%"></span></span>\s*'
                           r'<span class="sanyi-bar-value">(\d+)', body))
    assert bars["市卫健委"] == "2" and bars["市医保局"] == "1"
    assert bars["卫健"] == "2" and bars["医保"] == "1"
    assert 'style="width: 100.0%"' in body and 'style="width: 50.0%"' in body
    # product cards link to the product, with category, forms and supplying units
    assert 'href="/product/chronic-refill"' in body
    assert "产业发展/行业发展" in text and "API接口" in text
    assert re.search(r"供给单位 (市卫健委、市医保局|市医保局、市卫健委)", text)


@pytest.mark.usefixtures("with_plugins")
def test_home_in_english(app, portal):
    text = page_text(_get(app, "/en/"))
    for words in ("Catalog", "Products", "Data units", "By data unit", "By domain",
                  "Health care", "Industrial / industry development", "Search"):
        assert words in text, words


@pytest.mark.usefixtures("with_plugins")
def test_resource_page_shows_catalog_facts(app, portal):
    body = _get(app, "/dataset/hypertension")
    text = page_text(body)
    for words in ("数源单位", "市卫健委", "提供方式", "接口", "库表", "文件", "更新周期", "每月",
                  "领域", "卫健", "分类分级", "三级（重要数据）", "开放属性", "授权运营",
                  "最近更新日期", _days_ago(75), "下次应更新日期",
                  portal["overdue"]["next_due"], "公示批次", "第一批"):
        assert words in text, words
    # the field list table
    assert re.search(r"字段名\s*</th>\s*<th[^>]*>\s*类型\s*</th>\s*<th[^>]*>\s*敏感", body)
    assert "患者编号" in text and "代码" in text and "是（需脱敏）" in text
    assert "随访日期" in text and "日期" in text


@pytest.mark.usefixtures("with_plugins")
def test_resource_page_in_english(app, portal):
    text = page_text(_get(app, "/en/dataset/hypertension"))
    for words in ("Delivery method", "API", "Database table", "File", "Update cycle", "Monthly",
                  "Classification level", "Level 3 (important)", "Fields", "days overdue"):
        assert words in text, words


@pytest.mark.usefixtures("with_plugins")
def test_overdue_banner_only_for_overdue_resource(app, portal):
    days = (TODAY - dt.date.fromisoformat(portal["overdue"]["next_due"])).days
    assert days > 0
    overdue = _get(app, "/dataset/hypertension")
    assert "sanyi-overdue-banner" in overdue
    assert f"已逾期 {days} 天" in page_text(overdue)
    assert f"{days} days overdue" in page_text(_get(app, "/en/dataset/hypertension"))
    current = _get(app, "/dataset/outpatient")
    assert "sanyi-overdue-banner" not in current
    assert "已逾期" not in page_text(current)
    assert "按期更新" in page_text(current)


@pytest.mark.usefixtures("with_plugins")
def test_mark_updated_button_only_for_the_units_editors(app, portal):
    form = 'action="/dataset/hypertension/mark-updated"'
    anonymous = _get(app, "/dataset/hypertension")
    assert form not in anonymous and "标记为已更新" not in anonymous
    other_unit = _get(app, "/dataset/hypertension", portal["tokens"]["yb_editor"])
    assert form not in other_unit
    editor = _get(app, "/dataset/hypertension", portal["tokens"]["wj_editor"])
    assert form in editor and "标记为已更新" in editor
    assert re.search(form + r'.*?name="_csrf_token"', editor, flags=re.S)
    # current resources can be marked too (after an update ahead of time)
    assert 'action="/dataset/outpatient/mark-updated"' in _get(
        app, "/dataset/outpatient", portal["tokens"]["wj_editor"])
    assert "Mark as updated" in _get(app, "/en/dataset/hypertension",
                                     portal["tokens"]["wj_editor"])


@pytest.mark.usefixtures("with_plugins")
def test_mark_updated_clears_the_banner(app, portal):
    token = portal["tokens"]["wj_editor"]
    res = app.post("/dataset/hypertension/mark-updated", headers={"Authorization": token})
    assert res.status_code == 200
    pkg = helpers.call_action("package_show", id="hypertension")
    assert pkg["last_updated"] == TODAY.isoformat()
    body = _get(app, "/dataset/hypertension", token)
    assert "sanyi-overdue-banner" not in body
    assert "hypertension" not in _get(app, "/dashboard/overdue", token)


@pytest.mark.usefixtures("with_plugins")
def test_mark_updated_from_dashboard_returns_there(app, portal):
    token = portal["tokens"]["wj_editor"]
    res = app.post("/dataset/hypertension/mark-updated", data={"return_to": "overdue"},
                   headers={"Authorization": token}, follow_redirects=False)
    assert res.status_code == 302
    assert res.headers["Location"].endswith("/dashboard/overdue")
    res = app.post("/dataset/outpatient/mark-updated", data={"return_to": "https://evil.example"},
                   headers={"Authorization": token}, follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/dataset/outpatient")


@pytest.mark.usefixtures("with_plugins")
def test_mark_updated_refused_to_another_unit(app, portal):
    res = app.post("/dataset/hypertension/mark-updated",
                   headers={"Authorization": portal["tokens"]["yb_editor"]})
    assert res.status_code == 403
    assert helpers.call_action("package_show", id="hypertension")["last_updated"] == _days_ago(75)


@pytest.mark.usefixtures("with_plugins")
def test_search_results_show_unit_method_and_cycle_badges(app, portal):
    body = _get(app, "/dataset/?q=高血压")
    start = body.index('href="/dataset/hypertension"')
    end = body.find('class="dataset-item', start)
    item = body[start:end if end > 0 else start + 4000]
    text = page_text(item)
    for words in ("市卫健委", "接口", "库表", "文件", "每月", "已逾期"):
        assert words in text, words
    assert "sanyi-badge-cycle" in item and "sanyi-badge-method" in item
    text_en = page_text(_get(app, "/en/dataset/?q=高血压"))
    assert "Monthly" in text_en and "Database table" in text_en


@pytest.mark.usefixtures("with_plugins")
def test_product_page_links_units_and_source_resources(app, portal):
    body = _get(app, "/product/chronic-refill")
    text = page_text(body)
    for words in ("类别", "产业发展/行业发展", "应用场景", "慢病线上开处方", "产品形态", "数据集",
                  "API接口", "数据主要供给单位", "来源数据资源"):
        assert words in text, words
    assert re.search(r'<a href="/organization/shi-wei-jian-wei">\s*市卫健委\s*</a>', body)
    assert re.search(r'<a href="/organization/shi-yi-bao-ju">\s*市医保局\s*</a>', body)
    assert re.search(r'<a href="/dataset/hypertension">\s*高血压患者健康管理数据\s*</a>', body)
    assert re.search(r'<a href="/dataset/insured">\s*医保参保人员\s*</a>', body)
    en = page_text(_get(app, "/en/product/chronic-refill"))
    assert "Supplying units" in en and "Source resources" in en


@pytest.mark.usefixtures("with_plugins")
def test_product_list_cards(app, portal):
    text = page_text(_get(app, "/product/"))
    assert "慢病线上开处方" in text and "产业发展/行业发展" in text and "市医保局" in text


@pytest.mark.usefixtures("with_plugins")
def test_product_list_facets_show_labels_not_codes(app, portal):
    labels = re.findall(r'<span class="item-label">([^<]+)</span>', _get(app, "/product/"))
    assert "产业发展/行业发展" in labels and "API接口" in labels
    assert not {"industrial", "api", "dataset", "approved"} & set(labels)


@pytest.mark.usefixtures("with_plugins")
def test_dashboard_tab_lists_only_own_units_overdue(app, portal):
    body = _get(app, "/dashboard/overdue", portal["tokens"]["wj_editor"])
    assert re.search(r'<a href="/dashboard/overdue"[^>]*>.*?数据更新提醒', body, flags=re.S)
    text = page_text(body)
    assert "高血压患者健康管理数据" in text and "门诊就诊记录数据" not in text
    days = (TODAY - dt.date.fromisoformat(portal["overdue"]["next_due"])).days
    assert f"{days} 天" in text and "每月" in text and _days_ago(75) in text
    assert 'action="/dataset/hypertension/mark-updated"' in body
    assert 'name="return_to" value="overdue"' in body
    # the account bar reminds the editor too
    assert "sanyi-overdue-notice" in body
    other = _get(app, "/dashboard/overdue", portal["tokens"]["yb_editor"])
    assert "高血压患者健康管理数据" not in other and "没有逾期的资源" in page_text(other)
    en = page_text(_get(app, "/en/dashboard/overdue", portal["tokens"]["wj_editor"]))
    assert "Overdue" in en and "Days overdue" in en and f"{days} day" in en


@pytest.mark.usefixtures("with_plugins")
def test_dashboard_overdue_needs_login(app, portal):
    res = app.get("/dashboard/overdue", follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]


ENGLISH = {"hypertension": ("高血压患者健康管理数据", "Hypertension patient health management data"),
           "chronic-refill": ("慢病线上开处方", "Online prescription renewal for chronic diseases")}


@pytest.mark.parametrize("who", ["anonymous", "no_role"])
@pytest.mark.parametrize("url, name", [("/dataset", "hypertension"), ("/product", "chronic-refill"),
                                       ("/", "chronic-refill")])
def test_lists_show_the_english_title_on_english_pages(app, portal, url, name, who):
    zh_title, en_title = ENGLISH[name]
    headers = {}
    if who == "no_role":  # a logged-in user with no role sees the same
        factories.User(name="plain_visitor")
        headers = {"Authorization": factories.APIToken(user="plain_visitor")["token"]}
    zh = page_text(checked_body(app.get(url, headers=headers), url))
    en = page_text(checked_body(app.get("/en" + url, headers=headers), "/en" + url))
    assert zh_title in zh and en_title not in zh
    assert en_title in en and zh_title not in en
    # a resource without an English title keeps its Chinese one on English pages
    if url == "/dataset":
        assert "门诊就诊记录数据" in en


@pytest.mark.parametrize("name", sorted(ENGLISH))
def test_the_page_heading_is_english_with_the_original_below(app, portal, name):
    zh_title, en_title = ENGLISH[name]
    kind = "product" if name == "chronic-refill" else "dataset"
    en = checked_body(app.get(f"/en/{kind}/{name}"), f"/en/{kind}/{name}")
    heading = en.split('class="sanyi-page-heading"', 1)[1].split("</header>", 1)[0]
    assert en_title in heading.split("</h1>", 1)[0]
    assert f'class="sanyi-title-original" lang="zh-Hans">{zh_title}<' in heading
    assert f"<title>{en_title}" in en
    zh = checked_body(app.get(f"/{kind}/{name}"), f"/{kind}/{name}")
    assert zh_title in zh.split("</h1>", 1)[0] and "sanyi-title-original" not in zh
