"""The catalog's result page, over HTTP as anonymous: each resource with its 数源单位, 更新周期
and last update; products matching the same words offered beside, marked as products."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("with_plugins")


def page(app, url: str) -> str:
    res = app.get(url)
    assert res.status_code == 200, url
    return res.get_data(as_text=True)


@pytest.mark.parametrize("prefix, words", [("", ["市卫健委", "每月", "更新于"]),
                                           ("/en", ["updated"])])
def test_each_result_shows_unit_cycle_and_last_update(app, world, prefix, words):
    html = page(app, f"{prefix}/dataset/?q=高血压")
    item = html.split("dataset-item", 1)[1].split("</li>\n", 1)[0]
    assert "高血压患者健康管理数据" in html
    for word in words:
        assert word in html, word
    resource = app.get("/api/3/action/package_show?id=hypertension").json["result"]
    assert resource["last_updated"][:10] in html.split("sanyi-badge-updated", 1)[1][:300]
    assert "sanyi-badge-unit" in item or "sanyi-badge-unit" in html


@pytest.mark.parametrize("prefix, marker, more", [("", "产品", "在产品清单中查看全部"),
                                                  ("/en", "Product", "in the product list")])
def test_matching_products_are_offered_with_a_marker(app, world, prefix, marker, more):
    html = page(app, f"{prefix}/dataset/?q=慢病")
    box = html.split("sanyi-matching-products", 1)[1].split("</aside>", 1)[0]
    assert "慢病线上开处方" in box and f">{marker}</span>" in box and more in box
    assert "/product/chronic-refill" in box


def test_no_product_box_without_a_match_or_for_unlisted_products(app, world):
    assert "sanyi-matching-products" not in page(app, "/dataset/?q=医保参保人员")
    assert "sanyi-matching-products" not in page(app, "/dataset/")
    assert "sanyi-matching-products" not in page(app, "/dataset/?q=未上架产品")  # a draft
