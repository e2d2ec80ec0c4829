"""The JS translations URL a rendered page makes CKAN's JavaScript request answers 200.

CKAN's ``ckan.initialize()`` reads ``<html lang>``, ``client.getLocaleData()`` turns it back into
a locale with ``locale.replace('-', '_')`` (first hyphen only) and requests
``<site-root>/api/i18n/<locale>``; only when that answers does ``ckan.module.initialize()`` start
the page's JavaScript modules. The URL is derived here from each rendered page the same way.
"""
from __future__ import annotations

import json
import os
import re
from urllib.parse import urlsplit

import pytest
from ckan.tests import helpers

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def js_translations(ckan_config, tmp_path):
    """CKAN's JS translation files, built as ``ckan run`` builds them, in a fresh storage path."""
    from ckan.lib.i18n import build_js_translations, get_js_translations_dir
    ckan_config["ckan.storage_path"] = str(tmp_path)
    build_js_translations()
    return get_js_translations_dir()


@pytest.fixture
def resource(sanyi_orgs):
    return helpers.call_action(
        "package_create", context={"user": "wj_editor"}, name="hypertension",
        title="高血压患者健康管理数据", owner_org=sanyi_orgs["orgs"]["wj"]["id"], domain="health",
        delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
        open_attribute="authorized", last_updated="2026-01-05", notes="随访记录。",
        data_fields=[{"field_name": "患者编号", "field_type": "code", "sensitive": "yes"}])


def _client_js() -> str:
    import ckan
    path = os.path.join(os.path.dirname(ckan.__file__), "public", "base", "javascript",
                        "client.js")
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_ckan_client_still_builds_the_url_this_way():
    """The derivation below mirrors client.js's getLocaleData; fail loudly if CKAN changes it."""
    src = _client_js()
    body = src[src.index("getLocaleData: function"):][:400]
    assert "locale = locale.replace('-', '_');" in body
    assert "this.url('/api/i18n/' + (locale || ''))" in body


def i18n_url_of(html: str) -> str:
    """The path ckan.initialize() -> client.getLocaleData() requests for this page."""
    lang = re.search(r'<html[^>]*\blang="([^"]+)"', html).group(1)
    site_root = re.search(r'<meta name="site-root" content="([^"]+)"', html).group(1)
    locale = lang.replace("-", "_", 1)  # JS String.replace with a string: first match only
    return urlsplit(site_root).path.rstrip("/") + "/api/i18n/" + locale


def _page(app, url: str, token: str | None = None) -> str:
    res = app.get(url, headers={"Authorization": token} if token else {})
    assert res.status_code == 200, url
    return res.get_data(as_text=True)


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("path", ["/", "/dataset/", "/dataset/hypertension",
                                  "/dataset/edit/hypertension"])
def test_chinese_pages_get_the_zh_hans_cn_translations(app, js_translations, resource, path):
    from ckan.tests import factories
    token = factories.APIToken(user="wj_editor")["token"]  # the unit's editor may open the edit page
    html = _page(app, path, token)
    assert 'lang="zh-Hans-CN"' in html
    i18n = i18n_url_of(html)
    answer = app.get(i18n)
    assert answer.status_code == 200, (i18n, answer.get_data(as_text=True)[:300])
    data = json.loads(answer.get_data(as_text=True))
    # the real zh_Hans_CN JS catalogue CKAN built, not an empty object
    with open(os.path.join(js_translations, "zh_Hans_CN.js"), encoding="utf-8") as f:
        assert data == json.loads(f.read())
    assert data[""]["lang"] == "zh_Hans_CN"
    assert data["Cancel"][1] == "取消"
    assert data["Edit"][1] == "编辑"


@pytest.mark.usefixtures("with_plugins")
@pytest.mark.parametrize("path", ["/en/", "/en/dataset/", "/en/dataset/hypertension"])
def test_english_pages_get_an_answer(app, js_translations, resource, path):
    html = _page(app, path)
    assert '<html lang="en"' in html
    i18n = i18n_url_of(html)
    assert i18n.endswith("/api/i18n/en")
    answer = app.get(i18n)
    assert answer.status_code == 200, (i18n, answer.get_data(as_text=True)[:300])
    body = answer.get_data(as_text=True)
    assert isinstance(json.loads(body), dict)
    assert not CJK.search(body)  # English is CKAN's source language: no Chinese catalogue


@pytest.mark.usefixtures("with_plugins")
def test_the_hyphenated_form_answers_what_ckan_answers_for_the_locale(app, js_translations):
    hyphenated = app.get("/api/i18n/zh_Hans-CN")
    posix = app.get("/api/i18n/zh_Hans_CN")
    assert hyphenated.status_code == posix.status_code == 200
    assert hyphenated.get_data() == posix.get_data()
    assert hyphenated.headers["Content-Type"] == posix.headers["Content-Type"]
    # CKAN's own view still refuses what no offered locale maps to
    assert app.get("/api/i18n/xx_Yyyy-ZZ").status_code == 400
