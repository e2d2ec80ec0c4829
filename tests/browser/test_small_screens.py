"""A phone (390×844): no page is wider than the screen, the page's own content comes first.

Each page is opened in Chromium at 390 px as the visitor who reaches it (anonymous, the demo
merchant, the bureau, the operator); the document's scroll width must equal the viewport's width
(a wide table may scroll inside itself, the page never). The price and order tables become
stacked cards: one row of the table, one card, each value under its column's label.
"""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PUBLIC = ["/", "/dataset/", "/dataset/?q=高血压", "/product/", "/prices", "/organization/",
          "/about", "/user/login", "/api/delivery/docs", "/transparency/checkpoints",
          "/disclosure", "/merchant/register", "/no-such-page"]
BY_ROLE = {
    "merchant": ["/dashboard/", "/merchant/entitlements", "/merchant/applications",
                 "/merchant/orders", "/orders"],
    "weijian": ["/dashboard/overdue", "/review/applications", "/dashboard/applications"],
    "bureau": ["/bureau/supervision", "/bureau/merchants", "/bureau/entitlements",
               "/bureau/pricing", "/bureau/delivery", "/reports", "/bureau/supervision/audit"],
    "operator": ["/operator/pricing", "/orders"],
}
WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


def phone(browser, portal_url, user: str | None = None):
    context = browser.new_context(base_url=portal_url, locale="zh-CN", viewport=PHONE)
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    if user:
        pg.goto("/user/login")
        pg.locator("#field-login").fill(user)
        pg.locator("#field-password").fill(f"Sanyi-{user}-2026")
        pg.locator("#field-password").press("Enter")
        pg.wait_for_load_state()
        assert pg.locator("#field-password").count() == 0, f"{user} could not log in"
    return context, pg


def links(pg, pattern: str) -> list[str]:
    hrefs = pg.evaluate("() => [...document.querySelectorAll('a[href]')]"
                        ".map(a => a.getAttribute('href'))")
    return sorted({h for h in hrefs if re.fullmatch(pattern, h)})


def too_wide(pg, paths: list[str]) -> dict[str, int]:
    wide = {}
    for path in paths:
        response = pg.goto(path)
        assert response is not None and response.status < 500, path
        scroll, client = pg.evaluate(WIDTH)
        if scroll > client:
            wide[path] = scroll
    return wide


def test_no_page_is_wider_than_a_phone(browser, portal_url):
    context, pg = phone(browser, portal_url)
    try:
        pg.goto("/product/")
        products = links(pg, r"/product/p-[0-9a-f]+")
        pg.goto("/dataset/")
        resources = links(pg, r"/dataset/r-[0-9a-f]+")
        assert products and resources
        extra = [products[0], "/prices/" + products[0].rsplit("/", 1)[1], resources[0]]
        assert too_wide(pg, PUBLIC + extra) == {}
    finally:
        context.close()
    for user, paths in BY_ROLE.items():
        context, pg = phone(browser, portal_url, user)
        try:
            assert too_wide(pg, paths) == {}, user
        finally:
            context.close()


def test_the_product_comes_before_the_sidebar_on_a_phone(browser, portal_url):
    context, pg = phone(browser, portal_url, "operator")
    try:
        pg.goto("/product/")
        product = links(pg, r"/product/p-[0-9a-f]+")[0]
        pg.goto(product)
        primary = pg.locator(".row.wrapper > .primary").bounding_box()
        secondary = pg.locator(".row.wrapper > .secondary").bounding_box()
        assert primary and secondary
        assert primary["y"] < secondary["y"]
        # on a wide screen the sidebar stays beside the content
        pg.set_viewport_size({"width": 1280, "height": 900})
        primary = pg.locator(".row.wrapper > .primary").bounding_box()
        secondary = pg.locator(".row.wrapper > .secondary").bounding_box()
        assert primary and secondary
        assert abs(primary["y"] - secondary["y"]) < 40 and secondary["x"] < primary["x"]
    finally:
        context.close()


def test_price_and_order_tables_become_cards_on_a_phone(browser, portal_url):
    context, pg = phone(browser, portal_url, "merchant")
    try:
        for path, table in (("/prices", "table.sanyi-price-table"), ("/orders", "table.sanyi-order-table")):
            pg.goto(path)
            cards = pg.locator(f"{table} tbody tr")
            assert cards.count() >= 1, path
            assert pg.locator(f"{table} thead").is_hidden()
            assert cards.first.evaluate("tr => getComputedStyle(tr).display") == "block"
            labelled = pg.locator(f"{table} tbody tr:first-child td[data-label]")
            label = labelled.first.evaluate(
                "td => getComputedStyle(td, '::before').content")
            assert label.strip('"') == labelled.first.get_attribute("data-label") != ""
        pg.set_viewport_size({"width": 1280, "height": 900})
        pg.goto("/prices")
        assert pg.locator("table.sanyi-price-table thead").is_visible()
        assert pg.locator("table.sanyi-price-table tbody tr").first.evaluate(
            "tr => getComputedStyle(tr).display") == "table-row"
    finally:
        context.close()
