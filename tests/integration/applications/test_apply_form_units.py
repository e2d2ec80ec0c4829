"""The application form offers only the billing units the product is priced in, and carries
what its fee estimate asks (the public quote action), over HTTP as the merchant."""
from __future__ import annotations

import re

import pytest
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")


def form_of(app, product: str, prefix: str = "") -> str:
    token = factories.APIToken(user="merchant_user")["token"]
    res = app.get(f"{prefix}/apply/{product}", headers={"Authorization": token})
    assert res.status_code == 200
    return res.get_data(as_text=True)


def test_only_the_priced_units_are_offered(app, world):
    html = form_of(app, "chronic-refill")
    select = html.split('id="field-billing_unit"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([a-z]+)"', select) == ["call"]  # priced per call only
    assert "sanyi-fee-estimate" in html and "/sanyi/fee-estimate.js" in html


@pytest.mark.parametrize("prefix, label", [("", "费用估算"), ("/en", "Fee estimate")])
def test_the_estimate_asks_the_public_quote(app, world, prefix, label):
    html = form_of(app, "chronic-refill", prefix)
    box = html.split('id="sanyi-fee-estimate"', 1)[1].split(">", 1)[0]
    url = re.search(r'data-quote-url="([^"]+)"', box).group(1)
    assert f'data-label="{label}"' in box
    quote = app.get(url, query_string={"product": "chronic-refill", "use": "industrial",
                                       "unit": "call", "quantity": "15000"})
    assert quote.status_code == 200 and quote.json["result"]["amount_fen"] == 450000
