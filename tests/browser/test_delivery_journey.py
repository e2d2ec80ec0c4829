"""Browser journey of the delivery API: the demo merchant creates an API client on 我的授权,
the test exchanges its secret for a token and calls an operation, and the page's usage chart
then shows the call on today's bar (Beijing time)."""
from __future__ import annotations

import requests

from ckanext.sanyi.common import clock

MERCHANT, PASSWORD = "merchant", "Sanyi-merchant-2026"
UNKNOWN_PERSON = "420822196511080012"  # documented as absent from the demo domain


def _login(page) -> None:
    from playwright.sync_api import expect
    page.goto("/user/login")
    page.locator("#field-login").fill(MERCHANT)
    page.locator("#field-password").fill(PASSWORD)
    page.locator("#field-password").press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#field-password")).to_have_count(0)


def test_merchant_creates_client_calls_api_and_sees_the_call(page, portal_url):
    from playwright.sync_api import expect
    _login(page)
    page.goto("/merchant/entitlements")
    card = page.locator(".sanyi-entitlement-clients:has(form.sanyi-client-create)").first
    expect(card).to_be_visible()
    entitlement = card.get_attribute("data-entitlement")
    card.locator("input[name=name]").fill("浏览器测试客户端")
    card.locator("form.sanyi-client-create button[type=submit]").click()
    page.wait_for_load_state()

    issued = page.locator(".sanyi-issued-secret")
    expect(issued).to_be_visible()
    client_id = issued.locator(".sanyi-client-id").inner_text().strip()
    secret = issued.locator(".sanyi-client-secret").inner_text().strip()
    assert client_id and secret

    tok = requests.post(f"{portal_url}/api/delivery/oauth/token", auth=(client_id, secret),
                        data={"grant_type": "client_credentials"}, timeout=30)
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token_type"] == "Bearer"
    product = body["scope"].split()[0].split(":")[0]

    call = requests.post(f"{portal_url}/api/delivery/v1/{product}/risk-assessment",
                         headers={"Authorization": f"Bearer {body['access_token']}"},
                         json={"id_number": UNKNOWN_PERSON, "consent_ref": "SQ-2026-000123"},
                         timeout=30)
    assert call.status_code == 200, call.text
    answer = call.json()
    assert answer["result"] == {"found": False}
    assert answer["usage"]["used"] >= 1

    page.goto("/merchant/entitlements")
    usage = page.locator(f".sanyi-usage[data-entitlement='{entitlement}']")
    expect(usage).to_be_visible()
    today = usage.locator(f"svg g.sanyi-usage-day[data-day='{clock.today().isoformat()}']")
    expect(today).to_have_attribute("data-granted", str(answer["usage"]["used"]))
    expect(usage.locator(".sanyi-quota-used")).to_have_text(f"{answer['usage']['used']:,}")
