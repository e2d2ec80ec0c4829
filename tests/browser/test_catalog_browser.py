"""An anonymous visitor finds a catalog resource in a real browser (Chromium, headless).

The portal (own database with the demo first batch, own CKAN server) comes from conftest.py.
Screenshots go to /tmp/sanyi-*.png.
"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

TITLE = "高血压患者健康管理数据"


def test_anonymous_finds_resource_by_search_and_unit_facet(page):
    from playwright.sync_api import expect

    # the home page: the catalog's shape and a prominent search box
    page.goto("/")
    expect(page.locator(".sanyi-hero-title")).to_have_text("三医公共数据授权运营平台")
    units_chart = page.locator(".sanyi-chart[aria-labelledby=sanyi-chart-units]")
    expect(units_chart.locator(".sanyi-bar", has_text="市卫健委")).to_be_visible()
    nav = page.locator(".masthead .main-navbar")
    for label in ("资源目录", "产品清单", "数源单位"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    expect(page.locator(".sanyi-product-card").first).to_be_visible()
    page.screenshot(path="/tmp/sanyi-home.png", full_page=True)

    # search 高血压 from the home page
    page.locator("#sanyi-home-q").fill("高血压")
    page.locator(".sanyi-hero-search button[type=submit]").click()
    page.wait_for_url(re.compile(r"/dataset/\?q="))
    results = page.locator("ul.dataset-list > li.dataset-item")
    expect(results.first).to_be_visible()
    expect(results.first.locator(".dataset-heading a")).to_have_text(TITLE)
    page.screenshot(path="/tmp/sanyi-search.png", full_page=True)

    # filter by the 数源单位 facet 市卫健委
    facet = page.locator("section.module-narrow").filter(
        has=page.locator("h2", has_text="数源单位"))
    facet.locator("a", has_text="市卫健委").click()
    page.wait_for_url(re.compile(r"organization=shi-wei-jian-wei"))
    expect(page.locator(".filter-list .filtered")).to_contain_text("市卫健委")
    expect(results.first.locator(".dataset-heading a")).to_have_text(TITLE)
    badges = results.first.locator(".sanyi-item-badges")
    expect(badges).to_contain_text("市卫健委")
    expect(badges).to_contain_text("每月")
    for item in results.all():
        expect(item.locator(".sanyi-badge-unit")).to_contain_text("市卫健委")

    # open the resource page: 提供方式 and 更新周期
    results.first.locator(".dataset-heading a").click()
    page.wait_for_url(re.compile(r"/dataset/r-[0-9a-f]+$"))
    expect(page.locator("h1")).to_contain_text(TITLE)
    facts = page.locator(".sanyi-facts-table")
    methods = facts.locator("tr", has=page.locator("th", has_text="提供方式"))
    for label in ("接口", "库表", "文件"):
        expect(methods.locator(".sanyi-chip", has_text=label)).to_be_visible()
    cycle = facts.locator("tr", has=page.locator("th", has_text="更新周期"))
    expect(cycle.locator("td")).to_have_text("每月")
    expect(facts.locator("tr", has=page.locator("th", has_text="数源单位"))).to_contain_text(
        "市卫健委")
    # anonymous visitors never get the editors' button
    expect(page.locator("form.sanyi-mark-updated")).to_have_count(0)
    page.screenshot(path="/tmp/sanyi-resource.png", full_page=True)

    # the same page in English
    page.locator(".sanyi-lang-switch a[hreflang=en]").click()
    page.wait_for_url(re.compile(r"/en/dataset/"))
    expect(facts.locator("tr", has=page.locator("th", has_text="Update cycle"))
           .locator("td")).to_have_text("Monthly")
    expect(facts).to_contain_text("Database table")
