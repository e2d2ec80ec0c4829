"""An anonymous visitor asking for an unlisted (private) product gets 403, not a 500: CKAN's
``package_show`` auth is chained (bureau staff see products under review), and that chain must
take the visitor's ``AnonymousUser`` for no user."""
from __future__ import annotations

import pytest
from ckan.tests import helpers

pytestmark = pytest.mark.usefixtures("with_plugins")


def test_private_product_is_403_to_a_visitor(app, sanyi_orgs):
    helpers.call_action(
        "package_create", context={"user": "operator_user"}, type="product",
        name="draft-product", title="未上架产品", owner_org=sanyi_orgs["orgs"]["operator"]["id"],
        category="industrial", status="draft", scenario="理赔", notes="草稿",
        product_forms=["api"], supplying_units=["shi-wei-jian-wei"], source_resources=[])
    for url in ("/api/3/action/package_show?id=draft-product", "/product/draft-product",
                "/en/product/draft-product"):
        res = app.get(url)
        assert res.status_code in (403, 404), (url, res.status_code)
    res = app.get("/api/3/action/package_show?id=draft-product")
    assert res.json["success"] is False
