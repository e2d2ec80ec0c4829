"""Filing and approval of products are separate steps by separate people, over the Action API.

* nobody creates a product already approved (or delisted, which is public too);
* whoever filed the product or last changed its content cannot approve it (``filed_by``);
* a change to what a listed product draws on (source resources, supplying units), by anyone,
  puts it back to ``filed`` (private) until other bureau staff approve it again.
"""
from __future__ import annotations

import datetime as dt
import re

import pytest
from ckan import model
from ckan.tests import factories, helpers

pytestmark = pytest.mark.usefixtures("with_plugins")

PAST = (dt.date.today() - dt.timedelta(days=10)).isoformat()
HAN = re.compile(r"[\u4e00-\u9fff]")
USERS = ("bureau_user", "bureau_two", "operator_user", "wj_editor", "merchant_user", "root")


@pytest.fixture
def world(sanyi_orgs):
    """sanyi_orgs + a second bureau editor, a sysadmin and two published catalog resources."""
    factories.User(name="bureau_two")
    factories.Sysadmin(name="root")
    helpers.call_action("organization_member_create", id="shi-shu-ju-ju", username="bureau_two",
                        role="editor")
    for user, org, name in (("wj_editor", "shi-wei-jian-wei", "wj-res"),
                            ("yb_editor", "shi-yi-bao-ju", "yb-res")):
        helpers.call_action("package_create", context={"user": user}, name=name,
                            title=f"资源 {name}", owner_org=org, domain="health",
                            delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
                            open_attribute="authorized", last_updated=PAST)
    return {u: factories.APIToken(user=u)["token"] for u in USERS}


def api(app, action, token=None, expect=200, **data):
    res = app.post(f"/api/3/action/{action}", json=data,
                   headers={"Authorization": token} if token else {})
    body = res.get_json()
    assert res.status_code == expect, (action, res.status_code, body)
    return body["result"] if expect == 200 else body["error"]


def product(name, status="filed", org="san-yi-yun-ying", **kw):
    return dict(dict(type="product", name=name, title=f"产品 {name}", owner_org=org,
                     category="industrial", scenario="智慧核保", product_forms=["api"],
                     supplying_units=["shi-wei-jian-wei"], source_resources=["wj-res"],
                     status=status), **kw)


def bilingual(error, field, *needles):
    message = " ".join(error[field])
    assert HAN.search(message) and " / " in message, message
    for needle in needles:
        assert needle in message, message
    return message


def stored(name):
    model.Session.expire_all()
    pkg = model.Package.get(name)
    return pkg.extras.get("status"), pkg.private


def n_products():
    return model.Session.query(model.Package).filter_by(type="product").count()


# -- creation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["approved", "delisted"])
@pytest.mark.parametrize("user,org", [("bureau_user", "shi-shu-ju-ju"),
                                      ("root", "san-yi-yun-ying"),
                                      ("operator_user", "san-yi-yun-ying")])
def test_nobody_creates_a_product_listed(app, world, user, org, status):
    before = n_products()
    error = api(app, "package_create", world[user], 409,
                **product(f"p-{user}-{status}", status=status, org=org))
    bilingual(error, "status")
    if status == "approved" and user != "operator_user":
        bilingual(error, "status", "创建时直接批准", "cannot be created approved")
    assert n_products() == before


def test_the_bureau_files_in_its_own_organisation_and_another_approves(app, world):
    created = api(app, "package_create", world["bureau_user"],
                  **product("p-own", org="shi-shu-ju-ju", filed_by="someone-else"))
    bureau_id = model.User.get("bureau_user").id
    assert (created["status"], created["private"], created["filed_by"]) \
        == ("filed", True, bureau_id)
    error = api(app, "package_patch", world["bureau_user"], 409, id="p-own", status="approved")
    bilingual(error, "status", "备案或最后修改产品内容的人不能批准",
              "Whoever filed the product or last changed its content cannot approve it")
    assert stored("p-own") == ("filed", True)
    # the computed field cannot be overwritten to get round the rule
    api(app, "package_patch", world["bureau_user"], id="p-own",
        filed_by=model.User.get("bureau_two").id)
    api(app, "package_patch", world["bureau_user"], 409, id="p-own", status="approved")
    assert stored("p-own") == ("filed", True)
    approved = api(app, "package_patch", world["bureau_two"], id="p-own", status="approved")
    assert (approved["status"], approved["private"]) == ("approved", False)
    assert api(app, "package_show", None, id="p-own")["status"] == "approved"


def test_whoever_last_changed_the_content_cannot_approve(app, world):
    api(app, "package_create", world["operator_user"], **product("p-edit"))
    # a bureau editor changes the content of the filed product: now it is theirs
    api(app, "package_patch", world["bureau_user"], id="p-edit", scenario="理赔调查")
    error = api(app, "package_patch", world["bureau_user"], 409, id="p-edit", status="approved")
    bilingual(error, "status", "不能批准", "cannot approve")
    # nor can anyone change the content and approve in one call
    error = api(app, "package_patch", world["bureau_two"], 409, id="p-edit",
                status="approved", notes="同时修改")
    bilingual(error, "status", "修改产品内容的同时不能批准", "same step that changes its content")
    assert stored("p-edit") == ("filed", True)
    assert api(app, "package_show", world["bureau_two"], id="p-edit").get("notes") in ("", None)
    assert api(app, "package_patch", world["bureau_two"], id="p-edit",
               status="approved")["status"] == "approved"


def test_sysadmin_does_not_approve_its_own_filing(app, world):
    api(app, "package_create", world["root"], **product("p-root"))
    api(app, "package_patch", world["root"], 409, id="p-root", status="approved")
    assert api(app, "package_patch", world["bureau_user"], id="p-root",
               status="approved")["status"] == "approved"


# -- what a listed product draws on --------------------------------------------------------

def _listed(app, world, name):
    api(app, "package_create", world["operator_user"], **product(name))
    api(app, "package_patch", world["bureau_user"], id=name, status="approved")
    assert api(app, "package_show", None, id=name)["status"] == "approved"


@pytest.mark.parametrize("change", [{"source_resources": ["wj-res", "yb-res"]},
                                    {"source_resources": []},
                                    {"supplying_units": ["shi-wei-jian-wei", "shi-yi-bao-ju"]}])
def test_changing_what_a_listed_product_draws_on_sends_it_back_to_review(app, world, change):
    _listed(app, world, "p-draws")
    # the operator's form keeps the current status: the change still goes back to review
    after = api(app, "package_patch", world["operator_user"], id="p-draws", status="approved",
                **change)
    assert (after["status"], after["private"]) == ("filed", True)
    assert stored("p-draws") == ("filed", True)
    api(app, "package_show", None, 403, id="p-draws")
    api(app, "sanyi_application_data_items", world["merchant_user"], 404, product="p-draws")
    # the operator (who changed it) cannot list it again; the bureau approves the new content
    api(app, "package_patch", world["operator_user"], 409, id="p-draws", status="approved")
    relisted = api(app, "package_patch", world["bureau_user"], id="p-draws", status="approved")
    assert (relisted["status"], relisted["private"]) == ("approved", False)
    for key, value in change.items():
        assert sorted(relisted[key]) == sorted(value)


def test_a_bureau_change_to_a_listed_product_needs_another_approver(app, world):
    _listed(app, world, "p-bureau-edit")
    after = api(app, "package_patch", world["bureau_user"], id="p-bureau-edit",
                supplying_units=["shi-yi-bao-ju"])
    assert (after["status"], after["private"]) == ("filed", True)
    api(app, "package_patch", world["bureau_user"], 409, id="p-bureau-edit", status="approved")
    assert api(app, "package_patch", world["bureau_two"], id="p-bureau-edit",
               status="approved")["status"] == "approved"


def test_a_delisted_product_whose_sources_change_goes_back_to_filed(app, world):
    _listed(app, world, "p-delisted")
    api(app, "package_patch", world["bureau_user"], id="p-delisted", status="delisted")
    assert stored("p-delisted") == ("delisted", False)
    after = api(app, "package_patch", world["operator_user"], id="p-delisted",
                source_resources=["yb-res"])
    assert (after["status"], after["private"]) == ("filed", True)


def test_other_edits_keep_a_listed_product_listed(app, world):
    _listed(app, world, "p-notes")
    after = api(app, "package_patch", world["operator_user"], id="p-notes", notes="更新介绍",
                source_resources=["wj-res"], supplying_units=["shi-wei-jian-wei"])
    assert (after["status"], after["private"]) == ("approved", False)
    # the same lists in another spelling are no change
    after = api(app, "package_patch", world["operator_user"], id="p-notes",
                source_resources='["wj-res"]')
    assert after["status"] == "approved"


@pytest.mark.parametrize("prefix,needle", [("", "备案或最后修改产品内容的人不能批准"),
                                           ("/en", "Whoever filed the product")])
def test_the_edit_form_refuses_approving_ones_own_filing(app, world, prefix, needle):
    api(app, "package_create", world["bureau_user"], **product("p-form", org="shi-shu-ju-ju"))
    form = dict(product("p-form", org="shi-shu-ju-ju", status="approved"), save="")
    form.pop("type")
    res = app.post(f"{prefix}/product/edit/p-form", data=form,
                   headers={"Authorization": world["bureau_user"]}, follow_redirects=False)
    body = res.get_data(as_text=True)
    assert res.status_code == 200 and needle in body, body[:2000]
    assert stored("p-form") == ("filed", True)
    res = app.post(f"{prefix}/product/edit/p-form", data=form,
                   headers={"Authorization": world["bureau_two"]}, follow_redirects=False)
    assert res.status_code == 302, res.get_data(as_text=True)[:2000]
    assert stored("p-form") == ("approved", False)
