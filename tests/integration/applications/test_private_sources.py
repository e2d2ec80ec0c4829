"""Private data stays private on the application paths, over HTTP.

* ``sanyi_application_data_items`` and ``/apply/<product>`` answer 404 for a product the
  caller may not see (an unlisted one, to the public and to merchants), exactly as for one
  that does not exist: neither its title nor its existence shows;
* a listed (approved) product draws only on published catalog resources: approving one that
  names a private or deleted resource is refused on ``source_resources``;
* the data items offered never come from a resource the viewer could not ``package_show``.
"""
from __future__ import annotations

import re

import pytest
from applications_support import HAN, app_data
from ckan import model
from ckan.tests import factories, helpers
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("with_plugins")
USERS = ("merchant_user", "wj_editor", "yb_editor", "operator_user", "bureau_user", "sysadmin")
SECRET_TITLE = "绝密体检档案"
SECRET_FIELD = "身份证号码"


@pytest.fixture
def tokens(world):
    return {u: factories.APIToken(user=u)["token"] for u in USERS}


def api(app, action, token=None, expect=200, **data):
    res = app.post(f"/api/3/action/{action}", json=data,
                   headers={"Authorization": token} if token else {})
    body = res.get_json()
    assert res.status_code == expect, (action, res.status_code, body)
    return body["result"] if expect == 200 else body["error"]


def get_items(app, product, token=None, expect=200, prefix=""):
    res = app.get(f"{prefix}/api/3/action/sanyi_application_data_items?product={product}",
                  headers={"Authorization": token} if token else {})
    assert res.status_code == expect, res.get_data(as_text=True)[:1000]
    return res


def secret_resource(private=True):
    """A 市卫健委 catalog resource with a field list, private by default."""
    return helpers.call_action(
        "package_create", context={"user": "wj_editor"}, name="secret-res", title=SECRET_TITLE,
        owner_org="shi-wei-jian-wei", domain="health", delivery_methods=["api"],
        update_cycle="monthly", grade_level="L4", open_attribute="conditional",
        last_updated="2026-01-05", private=private,
        data_fields=[{"field_name": SECRET_FIELD, "field_type": "code", "sensitive": "yes"}])


def applications():
    return model.Session.execute(text("SELECT count(*) FROM sanyi_application")).scalar()


# -- an unlisted product --------------------------------------------------------------------

@pytest.mark.parametrize("who", [None, "merchant_user", "wj_editor"])
def test_an_unlisted_product_is_not_found_for_whoever_may_not_see_it(app, world, tokens, who):
    token = tokens[who] if who else None
    draft = world["draft_product"]
    missing = get_items(app, "no-such-product", token, 404).get_json()
    for ref in ("not-listed", draft["id"]):
        body = get_items(app, ref, token, 404).get_data(as_text=True)
        assert "未上架产品" not in body and "not listed" not in body, body
        error = get_items(app, ref, token, 404).get_json()["error"]
        assert error["__type"] == missing["error"]["__type"] == "Not Found Error"
        assert error["message"] == missing["error"]["message"].replace("no-such-product", ref)
    # as CKAN answers for the product itself
    assert app.get("/api/3/action/package_show?id=not-listed",
                   headers={"Authorization": token} if token else {}).status_code == 403


def test_applying_for_an_unlisted_product_looks_like_applying_for_none(app, world, tokens):
    error = api(app, "sanyi_application_create", tokens["merchant_user"], 409,
                **app_data(product="not-listed"))
    gone = api(app, "sanyi_application_create", tokens["merchant_user"], 409,
               **app_data(product="no-such-product"))
    assert "未上架产品" not in " ".join(error["product"])
    assert error["product"] == [m.replace("no-such-product", "not-listed") for m in gone["product"]]
    assert applications() == 0


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_apply_page_of_an_unlisted_product_is_not_found(app, world, tokens, prefix):
    res = app.get(f"{prefix}/apply/not-listed", headers={"Authorization": tokens["merchant_user"]})
    body = res.get_data(as_text=True)
    assert res.status_code == 404 and "未上架产品" not in body


@pytest.mark.parametrize("who", ["operator_user", "bureau_user"])
def test_those_who_see_an_unlisted_product_are_told_it_is_not_listed(app, world, tokens, who):
    error = get_items(app, "not-listed", tokens[who], 409).get_json()["error"]
    message = " ".join(error["product"])
    assert "尚未上架" in message and "not listed" in message


# -- a listed product draws only on published resources ------------------------------------------

def test_approving_a_product_with_a_private_source_is_refused(app, world, tokens):
    secret_resource()
    api(app, "package_create", tokens["operator_user"], type="product", name="p-secret",
        title="体检风控", owner_org="san-yi-yun-ying", category="industrial", scenario="体检风控",
        product_forms=["api"], supplying_units=["shi-wei-jian-wei"],
        source_resources=["hypertension", "secret-res"], status="filed")
    for user in ("bureau_user", "sysadmin"):
        error = api(app, "package_patch", tokens[user], 409, id="p-secret", status="approved")
        message = " ".join(error["source_resources"])
        assert HAN.search(message) and "已公开发布" in message and "secret-res" in message
        assert "published catalog resources" in message
    pkg = model.Package.get("p-secret")
    assert (pkg.extras["status"], pkg.private) == ("filed", True)
    # once the data unit publishes the resource, the bureau may approve
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="secret-res",
                        private=False)
    assert api(app, "package_patch", tokens["bureau_user"], id="p-secret",
               status="approved")["status"] == "approved"


def test_a_listed_product_keeps_only_published_sources(app, world, tokens):
    """A source made private after listing: saving the listed product is refused until the
    operator drops it (which sends the product back to review)."""
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="hypertension",
                        private=True)
    error = api(app, "package_patch", tokens["operator_user"], 409, id="chronic-refill",
                notes="新的介绍")
    assert "hypertension" in " ".join(error["source_resources"])
    # a deleted source is refused too
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="hypertension",
                        private=False)
    helpers.call_action("package_delete", context={"user": "yb_editor"}, id="insured")
    error = api(app, "package_patch", tokens["bureau_user"], 409, id="chronic-refill",
                notes="新的介绍")
    assert "insured" in " ".join(error["source_resources"])


# -- item options only from what the viewer may see ------------------------------------------

def _listed_with_secret(app, tokens):
    """A listed product one of whose sources its data unit made private after listing."""
    secret_resource(private=False)
    api(app, "package_create", tokens["operator_user"], type="product", name="p-later",
        title="体检风控", owner_org="san-yi-yun-ying", category="industrial", scenario="体检风控",
        product_forms=["api"], supplying_units=["shi-yi-bao-ju"],
        source_resources=["insured", "secret-res"], status="filed")
    api(app, "package_patch", tokens["bureau_user"], id="p-later", status="approved")
    helpers.call_action("package_patch", context={"user": "wj_editor"}, id="secret-res",
                        private=True)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_item_options_never_show_a_resource_the_viewer_cannot_see(app, world, tokens, prefix):
    _listed_with_secret(app, tokens)
    for token in (None, tokens["merchant_user"], tokens["yb_editor"]):
        body = get_items(app, "p-later", token, prefix=prefix).get_data(as_text=True)
        assert SECRET_TITLE not in body and SECRET_FIELD not in body and "secret-res" not in body
        items = get_items(app, "p-later", token, prefix=prefix).get_json()["result"]
        assert [o["value"] for o in items["data_items"]] == ["insured"]
    page = app.get(f"{prefix}/apply/p-later", headers={"Authorization": tokens["merchant_user"]})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "医保参保人员" in html
    assert SECRET_TITLE not in html and SECRET_FIELD not in html and "secret-res" not in html
    # the data unit that owns it still sees its own resource among the options
    own = get_items(app, "p-later", tokens["wj_editor"]).get_json()["result"]
    assert f"secret-res:{SECRET_FIELD}" in [o["value"] for o in own["data_items"]]


def test_a_merchant_cannot_request_items_of_a_private_resource(app, world, tokens):
    _listed_with_secret(app, tokens)
    error = api(app, "sanyi_application_create", tokens["merchant_user"], 409,
                **app_data(product="p-later", data_items=[f"secret-res:{SECRET_FIELD}"]))
    assert "secret-res" in " ".join(error["data_items"])
    assert applications() == 0
    created = api(app, "sanyi_application_create", tokens["merchant_user"],
                  **app_data(product="p-later", data_items=["insured"]))
    assert [u["name"] for u in created["required_units"]] == ["shi-yi-bao-ju"]
    assert not re.search(SECRET_TITLE, str(created))
