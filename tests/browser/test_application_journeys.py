"""The two application journeys in a real browser (Chromium, headless).

* Free: a merchant registers a company profile, the bureau verifies it, the merchant applies
  for 个人健康画像与风险预警 for public-interest use from the product page, 市卫健委 approves in
  its queue, the bureau approves: the application is 使用中 with an entitlement (有效) and no
  order.
* Paid: the same merchant applies for 智慧核保(核保调查) for industrial use, both reviews pass
  (unit then bureau), the merchant pays on the payment page with localstripe's stand-in
  Stripe.js, localstripe's signed webhook reaches /stripe/webhook, the order is 已支付 and the
  entitlement 有效.

How the payment is completed (the closest real path localstripe's stand-in supports): its
``confirmCardPayment`` does not send the card typed into its card element; it only opens its
fake 3-D Secure dialog and calls ``/v1/payment_intents/<id>/_authenticate``, which needs the
PaymentIntent to be in ``requires_action``. So, once the payment page has created the
order's PaymentIntent, the test attaches the 3-D Secure test card 4000002500003155 and
confirms the intent server-side against localstripe (localstripe's confirm endpoint takes
no payment_method, so the card is set on the intent first; Stripe.js would do both with the
typed card), types the same card into the stand-in's card element, clicks 支付 and then the
dialog's "Complete authentication". The 4242 4242 4242 4242 card cannot be used through the
stand-in: it succeeds at the server-side confirmation, leaving nothing for the browser to do
(``_authenticate`` refuses an intent that is not ``requires_action``). The order becomes paid
only when localstripe's signed ``payment_intent.succeeded`` webhook arrives, never from the
browser.

These tests start their own portal (own database ``<browser db>_journeys``, own CKAN server
configured for localstripe, own localstripe and Chromium) so the session portal of conftest.py
keeps its configuration. Screenshots go to /tmp/sanyi-journey-*.png.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import CHROMIUM, chromium, prepare_portal, start_portal, stop

from ckanext.sanyi import devtools
from ckanext.sanyi.common import clock

pytestmark = pytest.mark.browser

FREE_PRODUCT = "个人健康画像与风险预警"
PAID_PRODUCT = "智慧核保(核保调查)"
CREDIT_CODE = "91350100M000100Y43"
WEBHOOK_SECRET = "whsec_test"
SECRET_KEY = "sk_test_x"
CARD_3DS = "4000002500003155"
PASSWORDS = {"merchant": "Sanyi-merchant-2026", "bureau": "Sanyi-bureau-2026",
             "weijian": "Sanyi-weijian-2026", "yibao": "Sanyi-yibao-2026"}


def _wait_port(url: str, proc: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"localstripe exited with {proc.returncode}")
        try:
            requests.get(url + "/v1/balance", auth=(SECRET_KEY, ""), timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError("localstripe did not start")


@pytest.fixture(scope="module")
def journey_portal(request):
    """(portal URL, localstripe URL): a portal with demo data, configured for localstripe."""
    base_ini = request.config.getoption("--ckan-ini")
    if not base_ini:
        pytest.skip("no --ckan-ini given")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} missing (deploy/setup.sh test installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="sanyi-journeys-"))
    procs: list[subprocess.Popen] = []
    ls_log = None
    try:
        ls_port = devtools.free_port()
        ls_url = f"http://127.0.0.1:{ls_port}"
        ls_log = open(workdir / "localstripe.log", "wb")
        ls = subprocess.Popen([str(Path(sys.executable).with_name("localstripe")), "--port",
                               str(ls_port), "--from-scratch"], stdout=ls_log,
                              stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(ls)
        _wait_port(ls_url, ls)

        port = devtools.free_port()
        ini = prepare_portal(base_ini, workdir, port, suffix="_journeys", settings={
            "ckanext.sanyi.stripe.secret_key": SECRET_KEY,
            "ckanext.sanyi.stripe.publishable_key": "pk_test_x",
            "ckanext.sanyi.stripe.api_base": ls_url,
            "ckanext.sanyi.stripe.js_url": f"{ls_url}/js.stripe.com/v3/",
            "ckanext.sanyi.stripe.webhook_secret": WEBHOOK_SECRET})
        procs.append(start_portal(ini, port, workdir))
        portal = f"http://127.0.0.1:{port}"
        # localstripe signs and delivers its events to the portal's webhook
        r = requests.post(f"{ls_url}/_config/webhooks/sanyi", timeout=10,
                          data={"url": portal + "/stripe/webhook", "secret": WEBHOOK_SECRET})
        r.raise_for_status()
        yield portal, ls_url
    finally:
        for p in reversed(procs):
            stop(p)
        if ls_log is not None:
            ls_log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def journey_browser(journey_portal):
    with chromium() as b:
        yield b


@pytest.fixture
def login(journey_browser, journey_portal):
    """login(user) → a page of a fresh browser context, logged in through /user/login."""
    contexts = []

    def _login(user: str):
        from playwright.sync_api import expect
        context = journey_browser.new_context(base_url=journey_portal[0], locale="zh-CN",
                                              viewport={"width": 1280, "height": 900})
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        pg.goto("/user/login")
        pg.locator("#field-login").fill(user)
        pg.locator("#field-password").fill(PASSWORDS[user])
        pg.locator("#field-password").press("Enter")
        pg.wait_for_load_state()
        expect(pg.locator("#field-password")).to_have_count(0)
        return pg

    yield _login
    for c in contexts:
        c.close()


def _product_name(page, title: str) -> str:
    r = page.request.get("/api/3/action/package_search",
                         params={"fq": "dataset_type:product", "rows": "1000"})
    names = [p["name"] for p in r.json()["result"]["results"] if p["title"] == title]
    assert names, title
    return names[0]


def _ensure_verified_merchant(login) -> None:
    """The merchant registers its company in the browser; the bureau verifies it there."""
    from playwright.sync_api import expect
    merchant = login("merchant")
    merchant.goto("/merchant/register")
    if merchant.locator(".sanyi-merchant-status").count() == 0:
        merchant.locator("#field-company_name").fill("福州三医数据科技有限公司")
        merchant.locator("#field-credit_code").fill(CREDIT_CODE)
        merchant.locator("#field-contact_name").fill("张三")
        merchant.locator("#field-contact_phone").fill("13800138000")
        merchant.locator("#field-contact_email").fill("zhangsan@example.com")
        merchant.locator("#field-enterprise_size").select_option("small")
        merchant.locator("form.sanyi-merchant-form button[type=submit]").click()
        merchant.wait_for_load_state()
        expect(merchant.locator(".sanyi-merchant-status")).to_contain_text("待核验")
        merchant.screenshot(path="/tmp/sanyi-journey-merchant-registered.png", full_page=True)
    if "已核验" in merchant.locator(".sanyi-merchant-status").inner_text():
        return
    bureau = login("bureau")
    bureau.goto("/bureau/merchants")
    row = bureau.locator("table.sanyi-merchants tr", has_text=CREDIT_CODE)
    row.locator("button[name=decision][value=approve]").click()
    bureau.wait_for_load_state()
    bureau.goto("/bureau/merchants?status=verified")
    expect(bureau.locator("table.sanyi-merchants tr", has_text=CREDIT_CODE)).to_contain_text(
        "已核验")
    merchant.goto("/merchant/register")
    expect(merchant.locator(".sanyi-merchant-status")).to_contain_text("已核验")


def _apply(merchant, product_title: str, use: str, volume: str, scenario: str) -> str:
    """Apply from the product page and submit; returns the application's URL path."""
    from playwright.sync_api import expect
    merchant.goto(f"/product/{_product_name(merchant, product_title)}")
    expect(merchant.locator("h1").first).to_contain_text(product_title.split("(")[0])
    merchant.locator("a.sanyi-apply-button").click()
    merchant.wait_for_url(re.compile(r"/apply/"))
    form = merchant.locator("form.sanyi-apply-form")
    form.locator("#field-scenario").fill(scenario)
    form.locator(f"#use-{use}").check()
    form.locator("#field-purpose").fill(f"{scenario}（测试用途说明）")
    items = form.locator("input[name=data_items]")
    expect(items.first).to_be_visible()
    items.first.check()
    today = clock.today()
    form.locator("#field-period_start").fill(today.isoformat())
    form.locator("#field-period_end").fill(today.replace(year=today.year + 1).isoformat()
                                           if not (today.month == 2 and today.day == 29)
                                           else (today + dt.timedelta(days=365)).isoformat())
    form.locator("#field-expected_volume").fill(volume)
    # the fee estimate follows the use and the quantity as they are typed
    estimate = form.locator("#sanyi-fee-estimate")
    if use == "public_interest":
        expect(estimate).to_contain_text("免费")
    else:
        expect(estimate).to_contain_text(re.compile(r"费用估算：¥[0-9,]+\.[0-9]{2}"))
        first = estimate.get_attribute("data-amount-fen")
        form.locator("#field-expected_volume").fill(str(int(volume) * 2))
        expect(estimate).not_to_have_attribute("data-amount-fen", first or "")
        assert int(estimate.get_attribute("data-amount-fen")) > int(first or 0)
        form.locator("#field-expected_volume").fill(volume)
        expect(estimate).to_have_attribute("data-amount-fen", first or "")
    merchant.screenshot(path=f"/tmp/sanyi-journey-{use}-form.png", full_page=True)
    form.locator("button[name=submit_now]").click()
    merchant.wait_for_url(re.compile(r"/application/[^/]+$"))
    expect(merchant.locator("h1 .sanyi-app-status")).to_have_text("数源单位审核中")
    return urlsplit(merchant.url).path


def _review(page, app_path: str, product_title: str, expect_after: str, shot: str) -> None:
    """A reviewer finds the application in its queue and approves it."""
    from playwright.sync_api import expect
    page.goto("/review/applications")
    link = page.locator(f"table.sanyi-app-table a[href='{app_path}']")
    expect(link).to_have_text(product_title)
    link.click()
    page.wait_for_url(re.compile(re.escape(app_path) + "$"))
    page.locator("#review-comment").fill("材料齐全，同意。")
    page.locator("form.sanyi-review-form button[name=decision][value=approve]").click()
    page.wait_for_url(re.compile(re.escape(app_path) + "$"))
    expect(page.locator(".alert").filter(has_text="操作已完成")).to_be_visible()
    expect(page.locator("h1 .sanyi-app-status")).to_have_text(expect_after)
    page.screenshot(path=f"/tmp/sanyi-journey-{shot}.png", full_page=True)


def test_free_public_interest_journey(login):
    from playwright.sync_api import expect
    _ensure_verified_merchant(login)
    merchant = login("merchant")
    app_path = _apply(merchant, FREE_PRODUCT, "public_interest", "1000",
                      "社区慢病居民健康画像公益服务")

    # the product draws on 市卫健委 and 市医保局 data: each unit reviews (分级审批)
    _review(login("weijian"), app_path, FREE_PRODUCT, "数源单位审核中", "free-unit-approved")
    _review(login("yibao"), app_path, FREE_PRODUCT, "数据局审批中", "free-units-approved")
    _review(login("bureau"), app_path, FREE_PRODUCT, "使用中", "free-bureau-approved")

    merchant.goto(app_path)
    expect(merchant.locator("h1 .sanyi-app-status")).to_have_text("使用中")
    expect(merchant.locator(".sanyi-entitlement")).to_contain_text("有效")
    expect(merchant.locator(".sanyi-app-fee")).to_have_count(0)  # free: no fee, no order link
    expect(merchant.locator("a[href^='/order/']")).to_have_count(0)
    merchant.screenshot(path="/tmp/sanyi-journey-free-active.png", full_page=True)

    merchant.goto("/merchant/entitlements")
    row = merchant.locator("table.sanyi-entitlements tbody tr").filter(
        has=merchant.locator(f"a[href='{app_path}']"))
    expect(row).to_have_count(1)
    expect(row).to_contain_text("有效")
    merchant.screenshot(path="/tmp/sanyi-journey-free-entitlements.png", full_page=True)

    merchant.goto("/merchant/orders")
    expect(merchant.locator("main, body").first).not_to_contain_text(app_path.rsplit("/", 1)[1])


def test_paid_industrial_journey(login, journey_portal):
    from playwright.sync_api import expect
    _, ls_url = journey_portal
    _ensure_verified_merchant(login)
    merchant = login("merchant")
    app_path = _apply(merchant, PAID_PRODUCT, "industrial", "15000", "健康险智能核保风控")

    # the product draws on 市卫健委 and 市医保局 data: each unit reviews (分级审批)
    _review(login("weijian"), app_path, PAID_PRODUCT, "数源单位审核中", "paid-unit-approved")
    _review(login("yibao"), app_path, PAID_PRODUCT, "数据局审批中", "paid-units-approved")
    _review(login("bureau"), app_path, PAID_PRODUCT, "待缴费", "paid-bureau-approved")

    # the merchant opens its order from the application and goes to the payment page
    merchant.goto(app_path)
    expect(merchant.locator("h1 .sanyi-app-status")).to_have_text("待缴费")
    merchant.locator(".sanyi-app-fee a").click()
    merchant.wait_for_url(re.compile(r"/order/[^/]+$"))
    order_path = urlsplit(merchant.url).path
    expect(merchant.locator("h1")).to_contain_text("待支付")
    merchant.locator("a.sanyi-pay-link").click()
    merchant.wait_for_url(re.compile(r"/order/[^/]+/pay$"))
    form = merchant.locator("#sanyi-payment-form")
    card = merchant.locator("#sanyi-payment-element input")
    expect(card.first).to_be_visible()  # the stand-in's card element is mounted

    # see the module docstring: the 3-D Secure test card, attached and confirmed server-side
    client_secret = form.get_attribute("data-client-secret")
    intent = re.match(r"^(pi_\w+?)_secret_", client_secret).group(1)
    auth = (SECRET_KEY, "")
    pm = requests.post(f"{ls_url}/v1/payment_methods", auth=auth, timeout=10, data={
        "type": "card", "card[number]": CARD_3DS, "card[exp_month]": "12",
        "card[exp_year]": str(dt.date.today().year + 3), "card[cvc]": "123"})
    pm.raise_for_status()
    # localstripe's confirm takes no payment_method ("Not implemented"): attach it first
    requests.post(f"{ls_url}/v1/payment_intents/{intent}", auth=auth, timeout=10,
                  data={"payment_method": pm.json()["id"]}).raise_for_status()
    confirmed = requests.post(f"{ls_url}/v1/payment_intents/{intent}/confirm", auth=auth,
                              timeout=10)
    confirmed.raise_for_status()
    assert confirmed.json()["status"] == "requires_action", confirmed.json()

    # the typed card (the stand-in does not send it) and the stand-in's 3-D Secure dialog
    values = {"number": CARD_3DS, "exp_month": "12", "exp_year": "30", "cvc": "123",
              "postal_code": "350001"}
    for i in range(card.count()):
        name = card.nth(i).get_attribute("name") or card.nth(i).get_attribute("placeholder") or ""
        for key, value in values.items():
            if key.replace("_", "") in name.replace("_", "").replace(" ", "").lower():
                card.nth(i).fill(value)
                break
    merchant.screenshot(path="/tmp/sanyi-journey-paid-pay-page.png", full_page=True)
    merchant.locator("#sanyi-pay-submit").click()
    complete = merchant.get_by_role("button", name="Complete authentication")
    expect(complete).to_be_visible()
    merchant.screenshot(path="/tmp/sanyi-journey-paid-3ds.png", full_page=True)
    complete.click()
    merchant.wait_for_url(re.compile(re.escape(order_path) + r"\?redirect_status=succeeded"))

    # the signed webhook settles the order; the page shows it once it has arrived
    deadline = time.monotonic() + 30
    while "已支付" not in merchant.locator("h1").inner_text() and time.monotonic() < deadline:
        time.sleep(1)
        merchant.goto(order_path)
    expect(merchant.locator("h1")).to_contain_text("已支付")
    expect(merchant.locator(".sanyi-order-facts")).to_contain_text(intent)
    expect(merchant.locator(".sanyi-order-amount")).to_contain_text("6,500.00")
    # settled by localstripe's signed webhook (recorded in the order's trace)
    expect(merchant.locator("body")).to_contain_text("stripe:payment_intent.succeeded")
    merchant.screenshot(path="/tmp/sanyi-journey-paid-order.png", full_page=True)

    merchant.goto(app_path)
    expect(merchant.locator("h1 .sanyi-app-status")).to_have_text("使用中")
    expect(merchant.locator(".sanyi-entitlement")).to_contain_text("有效")
    merchant.screenshot(path="/tmp/sanyi-journey-paid-active.png", full_page=True)
    merchant.goto("/merchant/entitlements")
    row = merchant.locator("table.sanyi-entitlements tbody tr").filter(
        has=merchant.locator(f"a[href='{app_path}']"))
    expect(row).to_contain_text("有效")
