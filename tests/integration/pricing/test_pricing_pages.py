"""Pages: the fee calculator on the demo tiered schedule, /prices, /bureau/pricing, /operator/pricing;
and the demo loader (idempotent)."""
from __future__ import annotations

import datetime as dt

import pytest
from ckan.tests import factories
from pricing_support import TODAY, ZHIHE, call_as, make_product

from ckanext.sanyi.common import audit
from ckanext.sanyi.pricing import load_demo_prices
from ckanext.sanyi.pricing.demo import DEMO_SCHEDULES, demo_product_name

pytestmark = pytest.mark.usefixtures("with_plugins")
HEALTH = "个人健康画像与风险预警"


@pytest.fixture
def demo_world(sanyi_orgs, sanyi_db, request):
    """The demo products and prices (built once while the tests only read:
    ``sanyi_db.layer``)."""
    return sanyi_db.layer(request, lambda: _demo_world(sanyi_orgs))


def _demo_world(sanyi_orgs):
    factories.Sysadmin(name="sysadmin")
    for scenario in (ZHIHE, "普惠金融"):
        make_product(demo_product_name(scenario), title=scenario)
    make_product(demo_product_name(HEALTH), title=HEALTH, category="public_interest")
    assert load_demo_prices(echo=lambda _: None, today=TODAY) == 6  # 4 for 智慧核保, 2 for 普惠金融
    return sanyi_orgs


def token(user: str) -> dict[str, str]:
    return {"Authorization": factories.APIToken(user=user)["token"]}


def test_demo_loader_is_idempotent(demo_world):
    records = audit.count()
    assert load_demo_prices(echo=lambda _: None, today=TODAY) == 0
    assert audit.count() == records
    settings = call_as("bureau_user", "sanyi_pricing_settings_show")
    assert settings["priority_discount_pct"] == "20"
    assert settings["shares"]["operator_share"] == "60"
    assert str(TODAY.year) in settings["revenue_caps"]
    assert ZHIHE in DEMO_SCHEDULES


def test_calculator_on_the_tiered_demo_schedule(app, demo_world):
    name = demo_product_name(ZHIHE)
    res = app.get(f"/prices/{name}", query_string={"use": "industrial", "unit": "call",
                                                   "quantity": "15000"})
    html = res.get_data(as_text=True)
    assert "¥6,500.00" in html
    assert "¥5,000.00" in html and "¥1,500.00" in html  # the two band lines
    assert "sanyi-fee-calculator" in html and 'name="quantity"' in html


def test_calculator_shows_the_error_in_the_pages_language_not_a_500(app, demo_world):
    for prefix, said, other in (("", "数量须大于 0", "greater than 0"),
                                ("/en", "greater than 0", "数量须大于 0")):
        res = app.get(f"{prefix}/prices/{demo_product_name(ZHIHE)}",
                      query_string={"use": "industrial", "unit": "call", "quantity": "0"})
        html = res.get_data(as_text=True)
        errors = html.split("alert-danger", 1)[1].split("</div>", 1)[0]
        assert said in errors and other not in errors and "quantity:" not in errors


def test_calculator_free_use_and_unknown_product(app, demo_world):
    res = app.get(f"/prices/{demo_product_name(HEALTH)}",
                  query_string={"use": "public_interest", "unit": "call", "quantity": "5"})
    assert "¥0.00" in res.get_data(as_text=True)
    app.get("/prices/no-such-product", status=404)


def test_product_page_includes_the_calculator(app, demo_world):
    html = app.get(f"/product/{demo_product_name(ZHIHE)}").get_data(as_text=True)
    assert "sanyi-fee-calculator" in html
    assert f'action="/prices/{demo_product_name(ZHIHE)}#calculator"' in html


def test_calculator_snippet_renders_standalone(app, demo_world):
    """The snippet alone, as the product page includes it."""
    from ckan.plugins import toolkit as tk
    name = demo_product_name(ZHIHE)
    with app.flask_app.test_request_context():
        html = tk.h.snippet("sanyi/pricing/calculator.html", pkg={"id": name, "name": name})
    assert f'action="/prices/{name}#calculator"' in html
    assert 'value="call"' in html and 'value="record"' not in html  # only units with a price


def test_prices_page_lists_products(app, demo_world):
    html = app.get("/prices").get_data(as_text=True)
    assert "收费公示" in html
    for title in (ZHIHE, "普惠金融", HEALTH):
        assert title in html
    assert "¥0.50/次" in html and "¥0.60/次" in html  # price and ceiling bands
    assert f"/prices/disclosure/{TODAY.year - 1}.csv" in html


@pytest.mark.parametrize("user", [None, "merchant_user", "wj_editor", "operator_user"])
def test_bureau_page_is_403_for_others(app, demo_world, user):
    app.get("/bureau/pricing", headers=token(user) if user else {}, status=403)


@pytest.mark.parametrize("user", ["bureau_user", "sysadmin"])
def test_bureau_page_works_for_bureau(app, demo_world, user):
    html = app.get("/bureau/pricing", headers=token(user)).get_data(as_text=True)
    assert "上限收费标准" in html and "最高准许收入" in html and "收益分配" in html
    assert "/bureau/supervision/audit?object_type=price_ceiling" in html  # the change history
    assert "sanyi-revenue-warning" in html   # demo revenue is above 80 % of the cap


def test_bureau_sets_a_ceiling_through_the_page(app, demo_world):
    soon = (TODAY + dt.timedelta(days=3)).isoformat()
    res = app.post("/bureau/pricing/ceiling", headers=token("bureau_user"), data={
        "product": demo_product_name("普惠金融"), "unit": "record", "effective_from": soon,
        "label": "按条", "bands": "1000 0.010\n* 0.008"}, follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/bureau/pricing")
    [record] = audit.list(object_type="price_ceiling", actor="bureau_user")
    assert record["after"]["schedule"]["bands"] == [{"upto": 1000, "price": "0.010"},
                                                    {"upto": None, "price": "0.008"}]


def test_bureau_form_errors_store_nothing(app, demo_world):
    before = audit.count()
    app.post("/bureau/pricing/ceiling", headers=token("bureau_user"), data={
        "product": demo_product_name("普惠金融"), "unit": "call", "bands": "abc 0.1\n0.05"})
    app.post("/bureau/pricing/cap", headers=token("bureau_user"), data={
        "period": "2026", "allowed_cost": "1.234", "allowed_profit": "1", "tax": "1"})
    assert audit.count() == before


def test_bureau_settings_forms(app, demo_world):
    headers = token("bureau_user")
    app.post("/bureau/pricing/discount", headers=headers, data={"pct": "25"})
    app.post("/bureau/pricing/cap", headers=headers, data={
        "period": str(TODAY.year + 1), "allowed_cost": "1,000,000.50", "allowed_profit": "100000",
        "tax": "60000", "warning_pct": "85"})
    app.post("/bureau/pricing/shares", headers=headers, data={
        "treasury_pct": "30", "operator_share": "70", "merchants_share": "30"})
    app.post("/bureau/pricing/policy", headers=headers, data={
        "product": demo_product_name(HEALTH), "industrial_use_allowed": "true"})
    settings = call_as("bureau_user", "sanyi_pricing_settings_show")
    assert settings["priority_discount_pct"] == "25"
    assert settings["revenue_caps"][str(TODAY.year + 1)]["value"]["allowed_cost_fen"] == 100000050
    assert settings["shares"]["operator_share"] == "70"
    assert list(settings["policies"].values())[0]["value"] == {"industrial_use_allowed": True}
    app.post("/bureau/pricing/nope", headers=headers, data={}, status=404)
    app.post("/bureau/pricing/discount", headers=token("operator_user"), data={"pct": "1"},
             status=403)


def test_operator_page_and_price_form(app, demo_world):
    app.get("/operator/pricing", headers=token("bureau_user"), status=403)
    assert "实际收费标准" in app.get("/operator/pricing", headers=token("operator_user")).get_data(
        as_text=True)
    soon = (TODAY + dt.timedelta(days=3)).isoformat()
    app.post("/operator/pricing/price", headers=token("operator_user"), data={
        "product": demo_product_name(ZHIHE), "unit": "call", "effective_from": soon,
        "bands": "10000 0.45\n100000 0.30\n* 0.10"})
    [record] = audit.list(object_type="price", actor="operator_user")
    assert record["after"]["schedule"]["bands"][0]["price"] == "0.45"


def test_the_operator_page_and_the_revenue_status_refuse_the_public(app, demo_world):
    """Over HTTP: anonymous and a user with no role get neither the operator's page nor the
    revenue status; operator and bureau staff get the status from the Action API."""
    factories.User(name="nobody_here")
    for user in (None, "nobody_here"):
        headers = token(user) if user else {}
        app.get("/operator/pricing", headers=headers, status=403)
        res = app.post("/api/3/action/sanyi_revenue_status", headers=headers, json={},
                       status=403)
        assert res.json["success"] is False and "result" not in res.json
    for user in ("operator_user", "bureau_user"):
        res = app.post("/api/3/action/sanyi_revenue_status", headers=token(user), json={})
        assert res.json["result"]["current"]["level"] == "warning"


@pytest.mark.parametrize("prefix, level, other", [("", "已达预警线", "Warning level reached"),
                                                  ("/en", "Warning level reached", "已达预警线")])
def test_operator_page_shows_the_revenue_cap_it_is_bound_by(app, demo_world, prefix, level, other):
    html = app.get(f"{prefix}/operator/pricing", headers=token("operator_user")).get_data(
        as_text=True)
    table = html.split('class="table table-sm mt-3 sanyi-revenue"', 1)[1].split("</table>", 1)[0]
    assert f">{TODAY.year}<" in table and 'data-level="warning"' in table
    assert ("¥" if not prefix else "CNY ") in table and ".00<" in table  # money as people read it
    assert level in table and other not in table and ">warning<" not in table
    assert "sanyi-revenue-warning" in html          # demo revenue is above 80 % of the cap
    assert "/bureau/pricing/cap" not in html        # the bureau sets it, not the operator


def band_form(product: str, rows: list[tuple[str, str]], **extra: str) -> dict:
    uptos, prices = [u for u, _ in rows], [p for _, p in rows]
    return {"product": product, "unit": "call",
            "effective_from": (TODAY + dt.timedelta(days=3)).isoformat(),
            "band_upto": uptos + [""] * (6 - len(rows)),
            "band_price": prices + [""] * (6 - len(rows)), **extra}


def test_operator_sets_prices_in_the_band_table(app, demo_world):
    html = app.get("/operator/pricing", headers=token("operator_user")).get_data(as_text=True)
    assert html.count('name="band_upto"') == 6 and 'name="bands"' not in html
    res = app.post("/operator/pricing/price", headers=token("operator_user"), data=band_form(
        demo_product_name(ZHIHE), [("10,000", "0.45"), ("100000", "0.30"), ("", "0.10")]),
        follow_redirects=False)
    assert res.status_code == 302
    [record] = audit.list(object_type="price", actor="operator_user")
    assert record["after"]["schedule"]["bands"] == [
        {"upto": 10000, "price": "0.45"}, {"upto": 100000, "price": "0.30"},
        {"upto": None, "price": "0.10"}]


@pytest.mark.parametrize("prefix, message, other", [
    ("", "第 1 行须填写上限数量", "row 1"), ("/en", "row 1: enter the limit", "第 1 行")])
def test_a_refused_band_table_keeps_what_was_typed(app, demo_world, prefix, message, other):
    before = audit.count()
    res = app.post(f"{prefix}/operator/pricing/price", headers=token("operator_user"),
                   data=band_form(demo_product_name(ZHIHE), [("", "0.45"), ("", "0.10")],
                                  label="二〇二七版"))
    assert res.status_code == 400
    html = res.get_data(as_text=True)
    form = html.split('id="price-form"', 1)[1].split("</form>", 1)[0]
    assert message in form and other not in form and "bands[" not in form
    assert 'value="0.45"' in form and 'value="0.10"' in form and 'value="二〇二七版"' in form
    assert audit.count() == before


def test_a_band_table_above_the_ceiling_is_refused_with_the_ceilings_words(app, demo_world):
    res = app.post("/operator/pricing/price", headers=token("operator_user"),
                   data=band_form(demo_product_name(ZHIHE), [("", "99.00")]))
    assert res.status_code == 400
    form = res.get_data(as_text=True).split('id="price-form"', 1)[1].split("</form>", 1)[0]
    assert "上限" in form and 'value="99.00"' in form and " / " not in form.split(
        "sanyi-form-error", 1)[1].split("</div>", 1)[0]
