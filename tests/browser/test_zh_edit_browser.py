"""CKAN's JavaScript runs on the Chinese pages: a data unit's editor edits a catalog resource.

At the Chinese default UI the page's JS asks /api/i18n/<locale> for its translations and
starts CKAN's JavaScript modules only once that answers: the scheming field-list editor (新增
adds a field, the hidden template row is dropped before the form is posted), the footer
language selector (select2 + select-switch) and autocomplete. The portal (own database with
the demo data, own CKAN server) comes from conftest.py. Screenshots go to /tmp/sanyi-zh-*.png.
"""
from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.browser

EDITOR, PASSWORD = "weijian", "Sanyi-weijian-2026"
UNIT = "shi-wei-jian-wei"
# test_catalog_browser.py reads this resource: edit another one
READ_ELSEWHERE = "高血压患者健康管理数据"


class PageWatch:
    """Console errors, uncaught exceptions and failing (4xx/5xx) requests of a page."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.failed: list[tuple[int, str]] = []
        self.i18n: list[tuple[int, str]] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("response", self._response)

    def _response(self, r) -> None:
        if "/api/i18n/" in r.url:
            self.i18n.append((r.status, r.url))
        if r.status >= 400:
            self.failed.append((r.status, r.url))

    def assert_clean(self, where: str) -> None:
        assert not self.errors, f"{where}: console errors {self.errors}"
        assert not self.failed, f"{where}: failing requests {self.failed}"


def log_in(page) -> None:
    from playwright.sync_api import expect
    page.goto("/user/login")
    page.locator("#field-login").fill(EDITOR)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("#field-password").press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#field-password")).to_have_count(0)


def unit_resource(page) -> str:
    """Path of one of 市卫健委's catalog resources (not the one other browser tests read)."""
    page.goto(f"/organization/{UNIT}")
    items = page.locator("ul.dataset-list > li.dataset-item .dataset-heading a")
    for link in items.all():
        if link.inner_text().strip() != READ_ELSEWHERE:
            return link.get_attribute("href")
    raise AssertionError(f"{UNIT} lists no other catalog resource")


def open_and_wait(page, watch: PageWatch, path: str) -> None:
    """Open ``path`` and wait until CKAN's JS has asked for its translations and settled."""
    from playwright.sync_api import expect
    seen = len(watch.i18n)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert len(watch.i18n) > seen, f"{path}: the page's JS asked no /api/i18n/"
    # the footer language selector is a select2 widget once the modules started
    expect(page.locator("footer .lang-select .select2-container")).to_be_visible()


def test_pages_start_their_scripts_in_chinese_and_english(page):
    """Home, catalog, a resource and its edit page: every script starts, in both languages."""
    watch = PageWatch(page)
    log_in(page)
    resource = unit_resource(page)
    name = resource.rsplit("/", 1)[1]
    for prefix, lang in (("", "zh-Hans-CN"), ("/en", "en")):
        for path in ("/", "/dataset/", resource, f"/dataset/edit/{name}"):
            url = prefix + path
            open_and_wait(page, watch, url)
            assert page.locator("html").get_attribute("lang") == lang, url
            watch.assert_clean(url)
    assert watch.i18n and all(status == 200 for status, _ in watch.i18n), watch.i18n


def test_editor_edits_description_and_adds_a_field_then_switches_language(page):
    from playwright.sync_api import expect

    watch = PageWatch(page)
    log_in(page)
    resource = unit_resource(page)
    name = resource.rsplit("/", 1)[1]
    stamp = str(int(time.time() * 1000))
    notes = f"浏览器编辑的描述 {stamp}"
    field = f"测试字段{stamp}"

    # the edit page at the Chinese default UI
    open_and_wait(page, watch, f"/dataset/edit/{name}")
    assert page.locator("html").get_attribute("lang") == "zh-Hans-CN"
    editor = page.locator("fieldset[name=scheming-repeating-subfields]")
    # the field-list module took its template row out of the form
    expect(editor.locator("div[name=repeating-template]")).to_have_count(0)
    groups = editor.locator(".scheming-subfield-group")
    before = groups.count()

    page.locator("#field-notes").fill(notes)
    editor.locator("a[name=repeating-add]", has_text="新增").click()
    expect(groups).to_have_count(before + 1)
    groups.last.get_by_label("字段名").fill(field)
    groups.last.get_by_label("类型").select_option("string")
    page.screenshot(path="/tmp/sanyi-zh-edit.png", full_page=True)
    page.locator("form button[name=save]", has_text="更新").click()

    # saved: back on the resource page with the new description and field
    page.wait_for_url(re.compile(rf"/dataset/{re.escape(name)}$"))
    page.wait_for_load_state("networkidle")
    expect(page.locator(".error-explanation")).to_have_count(0)
    expect(page.locator(".notes")).to_contain_text(notes)
    row = page.locator(".sanyi-field-table tbody tr", has_text=field)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("字符串")
    page.screenshot(path="/tmp/sanyi-zh-saved.png", full_page=True)
    watch.assert_clean("edit and save")

    # the footer language switch: choose English
    page.locator("footer .lang-select .select2-selection").click()
    page.locator(".lang-dropdown .select2-results__option", has_text="English").click()
    page.wait_for_url(re.compile(rf"/en/dataset/{re.escape(name)}$"))
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator(".sanyi-fields h2")).to_contain_text("Fields")
    expect(page.locator(".sanyi-field-table thead")).to_contain_text("Field name")
    expect(page.locator(".sanyi-field-table tbody tr", has_text=field)).to_contain_text("String")
    expect(page.locator("footer .lang-select label")).to_have_text("Language")
    page.screenshot(path="/tmp/sanyi-zh-to-en.png", full_page=True)
    watch.assert_clean("language switch")
