"""The demo's API clients: ``ckan sanyi load-demo`` ends with the demo merchant verified,
two active paid entitlements of 智慧核保 for industrial use (15,000 and 5 calls) built through
the real actions, and a fixed demo client of each; running it again changes nothing."""
from __future__ import annotations

import pytest
from ckan import model
from client_calls import token_request
from sqlalchemy import text

from ckanext.sanyi.catalog import demo
from ckanext.sanyi.delivery import client_demo, clients

pytestmark = pytest.mark.usefixtures("with_plugins")
TABLES = ("sanyi_merchant", "sanyi_application", "sanyi_application_review", "sanyi_entitlement",
          "sanyi_order", "sanyi_payment_event", "sanyi_api_client", "sanyi_audit",
          "sanyi_notification")


def _state() -> dict[str, list]:
    model.Session.remove()
    return {t: model.Session.execute(text(
        f"SELECT to_jsonb(x)::text FROM {t} x ORDER BY 1")).scalars().all() for t in TABLES}


@pytest.mark.ckan_config("ckanext.sanyi.demo_passwords", "true")
def test_demo_clients_through_the_real_actions_and_idempotent(clean_db, app):
    printed: list[str] = []
    demo.load(echo=printed.append)
    merchant = model.Session.execute(text(
        "SELECT m.company_name, m.status FROM sanyi_merchant m JOIN \"user\" u ON u.id = m.user_id "
        "WHERE u.name = 'merchant'")).one()
    assert tuple(merchant) == ("健康保险科技有限公司", "verified")
    rows = model.Session.execute(text(
        "SELECT c.client_id, e.quota, e.quota_unit, e.use, e.status, a.status, o.status "
        "FROM sanyi_api_client c JOIN sanyi_entitlement e ON e.id = c.entitlement_id "
        "JOIN sanyi_application a ON a.id = e.application_id "
        "JOIN sanyi_order o ON o.id = a.order_id ORDER BY e.quota DESC")).all()
    assert [tuple(r) for r in rows] == [
        ("demo-underwriting", 15000, "call", "industrial", "active", "active", "paid"),
        ("demo-trial", 5, "call", "industrial", "active", "active", "paid")]
    for client_id, secret, *_ in client_demo.DEMO_CLIENTS:
        assert any(client_id in line and secret in line for line in printed), printed
        res = token_request(app, {"client_id": client_id, "client_secret": secret})
        assert res.status_code == 200, res.get_data(as_text=True)
        info = clients.authenticate_bearer(res.json["access_token"])
        assert info.product_name == client_demo.demo_product_name(client_demo.PRODUCT_SCENARIO)
    reviews = model.Session.execute(text(
        "SELECT DISTINCT actor FROM sanyi_application_review ORDER BY 1")).scalars().all()
    assert "bureau" in reviews and "weijian" in reviews  # 市卫健委's editor and the bureau
    model.Session.execute(text("DELETE FROM sanyi_api_token"))  # tokens are not demo data
    model.Session.commit()
    before = _state()
    client_demo.load_demo_clients(echo=lambda line: None)
    assert _state() == before
