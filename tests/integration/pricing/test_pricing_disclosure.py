"""sanyi_disclosure_export: ceilings, product list and prices in force during a year."""
from __future__ import annotations

import csv
import io

import pytest
from ckan.plugins import toolkit as tk
from pricing_support import (
    TODAY,
    assert_bilingual_field_error,
    call_as,
    flat,
    make_product,
    system,
)

pytestmark = pytest.mark.usefixtures("with_plugins")
Y = TODAY.year


@pytest.fixture
def history(pricing_world, sanyi_db, request):
    """rental: last year 0.20 (ceiling 0.25) from 1 March; from 1 January this year the
    fixture's 0.30 (ceiling 0.40); a 0.35 price scheduled next year (built once while the
    tests only read: ``sanyi_db.layer``)."""
    return sanyi_db.layer(request, lambda: _history(pricing_world))


def _history(pricing_world):
    system("sanyi_price_ceiling_set", product="rental", schedule=flat("call", "0.25"),
           effective_from=f"{Y - 1}-03-01")
    system("sanyi_price_set", product="rental", schedule=flat("call", "0.20"),
           effective_from=f"{Y - 1}-03-01", label="去年")
    system("sanyi_price_set", product="rental", schedule=flat("call", "0.35"),
           effective_from=f"{Y + 1}-01-01")
    return pricing_world


def rows_of(content: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content)))


def test_csv_for_last_year(history):
    result = call_as("anonymous", "sanyi_disclosure_export", year=Y - 1, format="csv")
    assert result["filename"] == f"sanyi-price-disclosure-{Y - 1}.csv"
    rows = rows_of(result["content"])
    rental = [r for r in rows if r["product_name"] == "rental"]
    assert sorted((r["kind"], r["unit_price_yuan"], r["in_force_from"], r["in_force_until"])
                  for r in rental) == [("ceiling", "0.25", f"{Y - 1}-03-01", f"{Y - 1}-12-31"),
                                       ("price", "0.20", f"{Y - 1}-03-01", f"{Y - 1}-12-31")]
    assert {r["year"] for r in rows} == {str(Y - 1)}
    # listed products without a price that year are still on the product list
    zhihe = [r for r in rows if r["product_name"] == history["zhihe"]["name"]]
    assert len(zhihe) == 1 and zhihe[0]["kind"] == "" and zhihe[0]["category"] == "industrial"


def test_csv_for_this_year_has_every_band(history):
    rows = rows_of(call_as("anonymous", "sanyi_disclosure_export", year=Y, format="csv")["content"])
    zhihe = [r for r in rows if r["product_name"] == history["zhihe"]["name"] and r["kind"] == "price"]
    assert [(r["band"], r["band_from"], r["band_to"], r["unit_price_yuan"]) for r in zhihe] == [
        ("1", "1", "10000", "0.50"), ("2", "10001", "100000", "0.30"), ("3", "100001", "", "0.10")]
    rental = sorted((r["kind"], r["unit_price_yuan"], r["in_force_from"], r["in_force_until"])
                    for r in rows if r["product_name"] == "rental")
    assert rental == [("ceiling", "0.40", f"{Y}-01-01", f"{Y}-12-31"),
                      ("price", "0.30", f"{Y}-01-01", f"{Y}-12-31")]
    assert all(r["product_title"] for r in rows)


def test_json_next_year_and_unlisted_products(history):
    make_product("draft-with-nothing", status="draft")
    data = call_as("anonymous", "sanyi_disclosure_export", year=Y + 1)
    by_name = {p["name"]: p for p in data["products"]}
    assert "draft-with-nothing" not in by_name
    assert [v["schedule"]["bands"][0]["price"] for v in by_name["rental"]["prices"]] == ["0.35"]
    assert by_name["health-profile"]["category"] == "public_interest"
    assert data["year"] == Y + 1 and data["currency"] == "CNY"


@pytest.mark.parametrize("data, field", [({"year": "20x6"}, "year"), ({"year": 1900}, "year"),
                                         ({"format": "xml"}, "format")])
def test_bad_parameters(pricing_world, data, field):
    with pytest.raises(tk.ValidationError) as err:
        call_as("anonymous", "sanyi_disclosure_export", **data)
    assert_bilingual_field_error(err.value, field)


def test_download_views(app, history):
    res = app.get(f"/prices/disclosure/{Y - 1}.csv")
    assert res.headers["Content-Type"].startswith("text/csv")
    text = res.get_data(as_text=True).lstrip("\ufeff")
    # the Chinese page's export: Chinese headers, codes in words, prices formatted
    rows = rows_of(text)
    assert any(r["单价"] == "¥0.20" for r in rows) and "unit_price_yuan" not in text
    assert {r["计费单位"] for r in rows} <= {"按服务次数", "按数据调用量（条）", "按产品/数据集份数",
                                          "按服务时间（月）", "按服务时间（年）", ""}
    # the English page's (and the API's): the codes and plain yuan
    text = app.get(f"/en/prices/disclosure/{Y - 1}.csv").get_data(as_text=True).lstrip("\ufeff")
    assert any(r["unit_price_yuan"] == "0.20" for r in rows_of(text))
    res = app.get(f"/prices/disclosure/{Y}.json")
    assert res.json["year"] == Y
    app.get(f"/prices/disclosure/{Y}.xml", status=404)
