"""Who may do what: data units, the operator, the bureau, the public.

Every action here runs with authorization on (``ignore_auth: False``) as the named user,
so each test fails if the rule it names breaks.
"""
from __future__ import annotations

import datetime as dt

import pytest
from ckan import model
from ckan.tests import factories, helpers
from click.testing import CliRunner

from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")

PAST = (dt.date.today() - dt.timedelta(days=40)).isoformat()
APPROVE_ZH = "只有数据局工作人员可以批准产品上架"
APPROVE_EN = "Only bureau staff can approve a product"


def as_user(user, action, **data):
    """Call ``action`` as ``user`` ('' = anonymous) with authorization checks on."""
    return helpers.call_action(action, context={"user": user, "ignore_auth": False}, **data)


def resource(org, name, **kw):
    return dict(dict(name=name, title=f"资源 {name}", owner_org=org, domain="health",
                     delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
                     open_attribute="authorized", last_updated=PAST), **kw)


def product(name, status="draft", **kw):
    return dict(dict(type="product", name=name, title=f"产品 {name}",
                     owner_org="san-yi-yun-ying", category="industrial", scenario="智慧核保",
                     product_forms=["dataset"], supplying_units=["shi-wei-jian-wei"],
                     status=status), **kw)


def names_seen_by(user, fq):
    return {r["name"] for r in as_user(user, "package_search", fq=fq, rows=100,
                                       include_private=True)["results"]}


# ---------------------------------------------------------------------------------------
# data units: their own organisation's resources only

def test_unit_editor_creates_only_in_own_organisation(sanyi_orgs):
    created = as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-1"))
    assert created["organization"]["name"] == "shi-wei-jian-wei"
    before = model.Session.query(model.Package).count()
    with pytest.raises(helpers.logic.NotAuthorized):
        as_user("wj_editor", "package_create", **resource("shi-yi-bao-ju", "yb-by-wj"))
    assert model.Session.query(model.Package).count() == before
    assert model.Package.get("yb-by-wj") is None


def test_unit_editor_edits_only_own_organisations_resources(sanyi_orgs):
    as_user("yb_editor", "package_create", **resource("shi-yi-bao-ju", "yb-1"))
    for action, data in (("package_patch", {"title": "改"}),
                         ("package_update", resource("shi-yi-bao-ju", "yb-1", title="改")),
                         ("package_delete", {}),
                         ("sanyi_mark_updated", {})):
        with pytest.raises(helpers.logic.NotAuthorized):
            as_user("wj_editor", action, **dict(data, id="yb-1"))
    pkg = helpers.call_action("package_show", id="yb-1")
    assert pkg["title"] == "资源 yb-1" and pkg["state"] == "active"
    assert pkg["last_updated"] == PAST
    # its own unit may
    assert as_user("yb_editor", "package_patch", id="yb-1", title="改")["title"] == "改"


def test_unit_editor_cannot_move_a_resource_to_another_unit(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-2"))
    with pytest.raises((helpers.logic.ValidationError, helpers.logic.NotAuthorized)):
        as_user("wj_editor", "package_patch", id="wj-2", owner_org="shi-yi-bao-ju")
    assert helpers.call_action("package_show", id="wj-2")["organization"]["name"] \
        == "shi-wei-jian-wei"


def test_operator_and_bureau_do_not_edit_unit_resources(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-3"))
    for user in ("operator_user", "bureau_user", "merchant_user"):
        with pytest.raises(helpers.logic.NotAuthorized):
            as_user(user, "package_patch", id="wj-3", title="x")
        with pytest.raises(helpers.logic.NotAuthorized):
            as_user(user, "package_create", **resource("shi-wei-jian-wei", f"by-{user}"))


# ---------------------------------------------------------------------------------------
# products: the operator files, the bureau approves

def test_operator_files_a_product_but_cannot_approve_it(sanyi_orgs):
    draft = as_user("operator_user", "package_create", **product("p-draft"))
    assert (draft["status"], draft["private"]) == ("draft", True)
    filed = as_user("operator_user", "package_patch", id="p-draft", status="filed")
    assert (filed["status"], filed["private"]) == ("filed", True)
    with pytest.raises(helpers.logic.ValidationError) as e:
        as_user("operator_user", "package_patch", id="p-draft", status="approved")
    (message,) = e.value.error_dict["status"]
    assert APPROVE_ZH in message and APPROVE_EN in message
    pkg = helpers.call_action("package_show", id="p-draft")
    assert (pkg["status"], pkg["private"]) == ("filed", True)


def test_operator_cannot_create_a_product_approved(sanyi_orgs):
    before = model.Session.query(model.Package).count()
    with pytest.raises(helpers.logic.ValidationError) as e:
        as_user("operator_user", "package_create", **product("p-sneak", status="approved"))
    assert APPROVE_ZH in e.value.error_dict["status"][0]
    assert APPROVE_EN in e.value.error_dict["status"][0]
    assert model.Session.query(model.Package).count() == before


def test_operator_cannot_make_a_draft_public(sanyi_orgs):
    created = as_user("operator_user", "package_create",
                      **product("p-private", private=False))
    assert created["private"] is True
    for action, data in (("package_patch", {"private": False}),
                         ("package_patch", {"private": "False", "notes": "x"}),
                         ("package_update", product("p-private", private=False))):
        assert as_user("operator_user", action, **dict(data, id="p-private"))["private"] is True
    org = model.Group.get("san-yi-yun-ying")
    helpers.call_action("organization_member_create", id=org.id, username="operator_user",
                        role="admin")
    as_user("operator_user", "bulk_update_public", datasets=[created["id"]], org_id=org.id)
    assert helpers.call_action("package_show", id="p-private")["private"] is True
    assert "p-private" not in names_seen_by("", "+dataset_type:product")


def test_operator_cannot_skip_approval_by_delisting(sanyi_orgs):
    as_user("operator_user", "package_create", **product("p-delist"))
    with pytest.raises(helpers.logic.ValidationError) as e:
        as_user("operator_user", "package_patch", id="p-delist", status="delisted")
    assert "只有已批准的产品可以下架" in e.value.error_dict["status"][0]
    assert "Only an approved product can be delisted" in e.value.error_dict["status"][0]
    assert helpers.call_action("package_show", id="p-delist")["private"] is True


def test_bureau_editor_approves(sanyi_orgs):
    as_user("operator_user", "package_create", **product("p-b", status="filed"))
    # the bureau sees it before approval, to review it
    assert as_user("bureau_user", "package_show", id="p-b")["status"] == "filed"
    approved = as_user("bureau_user", "package_patch", id="p-b", status="approved")
    assert (approved["status"], approved["private"]) == ("approved", False)
    # and may delist it; the operator may then not put it back
    as_user("bureau_user", "package_patch", id="p-b", status="delisted")
    with pytest.raises(helpers.logic.ValidationError):
        as_user("operator_user", "package_patch", id="p-b", status="approved")


def test_operator_may_delist_an_approved_product(sanyi_orgs):
    as_user("operator_user", "package_create", **product("p-od", status="filed"))
    as_user("bureau_user", "package_patch", id="p-od", status="approved")
    pkg = as_user("operator_user", "package_patch", id="p-od", status="delisted")
    assert (pkg["status"], pkg["private"]) == ("delisted", False)


def test_sysadmin_approves(sanyi_orgs):
    factories.Sysadmin(name="root_admin")
    as_user("operator_user", "package_create", **product("p-s", status="filed"))
    pkg = as_user("root_admin", "package_patch", id="p-s", status="approved")
    assert (pkg["status"], pkg["private"]) == ("approved", False)


def test_other_users_cannot_approve(sanyi_orgs):
    as_user("operator_user", "package_create", **product("p-o", status="filed"))
    for user in ("wj_editor", "merchant_user"):
        with pytest.raises((helpers.logic.NotAuthorized, helpers.logic.ValidationError)):
            as_user(user, "package_patch", id="p-o", status="approved")
    assert helpers.call_action("package_show", id="p-o")["status"] == "filed"


def test_bureau_only_edits_products_not_unit_resources(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-4",
                                                      private=True))
    with pytest.raises(helpers.logic.NotAuthorized):
        as_user("bureau_user", "package_show", id="wj-4")


# ---------------------------------------------------------------------------------------
# the public

def test_anonymous_sees_published_and_nothing_private_or_draft(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "public-res"))
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "private-res",
                                                      private=True))
    as_user("operator_user", "package_create", **product("p-anon", status="draft"))
    as_user("operator_user", "package_create", **product("p-anon-filed", status="filed"))

    assert as_user("", "package_show", id="public-res")["name"] == "public-res"
    for name in ("private-res", "p-anon", "p-anon-filed"):
        with pytest.raises(helpers.logic.NotAuthorized):
            as_user("", "package_show", id=name)
    assert names_seen_by("", "+dataset_type:dataset") == {"public-res"}
    assert names_seen_by("", "+dataset_type:product") == set()
    assert "p-anon" not in {r["name"] for r in as_user("", "package_search", q="产品")["results"]}
    # the unit's own editor still sees its private resource; the operator its drafts
    assert "private-res" in names_seen_by("wj_editor", "+dataset_type:dataset")
    assert names_seen_by("operator_user", "+dataset_type:product") == {"p-anon", "p-anon-filed"}

    # approved: visible to everyone
    as_user("bureau_user", "package_patch", id="p-anon", status="approved")
    assert as_user("", "package_show", id="p-anon")["status"] == "approved"
    assert names_seen_by("", "+dataset_type:product") == {"p-anon"}

    # delisted: still visible, with its status
    as_user("bureau_user", "package_patch", id="p-anon", status="delisted")
    shown = as_user("", "package_show", id="p-anon")
    assert (shown["status"], shown["private"]) == ("delisted", False)
    found = as_user("", "package_search", fq="+dataset_type:product")["results"]
    assert [(r["name"], r["status"]) for r in found] == [("p-anon", "delisted")]


def test_anonymous_cannot_write(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-5"))
    for action, data in (("package_create", resource("shi-wei-jian-wei", "anon-res")),
                         ("package_patch", {"id": "wj-5", "title": "x"}),
                         ("sanyi_mark_updated", {"id": "wj-5"}),
                         ("sanyi_overdue_list", {})):
        with pytest.raises(helpers.logic.NotAuthorized):
            as_user("", action, **data)


# ---------------------------------------------------------------------------------------
# keeping metadata current: mark updated, overdue list

def test_mark_updated_by_the_units_editor(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-m",
                                                      last_updated="2025-01-31"))
    pkg = as_user("wj_editor", "sanyi_mark_updated", id="wj-m")
    today = clock.today()
    assert pkg["last_updated"] == today.isoformat()
    from ckanext.sanyi.domain import cycles
    assert pkg["next_due"] == cycles.next_due(today, "monthly").isoformat()
    with pytest.raises(helpers.logic.NotAuthorized):
        as_user("yb_editor", "sanyi_mark_updated", id="wj-m")
    with pytest.raises(helpers.logic.NotAuthorized):
        as_user("operator_user", "sanyi_mark_updated", id="wj-m")


def test_overdue_list_is_scoped_to_the_callers_units(sanyi_orgs):
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-old",
                                                      last_updated="2025-01-05"))
    as_user("yb_editor", "package_create", **resource("shi-yi-bao-ju", "yb-old",
                                                      last_updated="2025-01-05"))
    as_user("yb_editor", "package_create", **resource("shi-yi-bao-ju", "yb-new",
                                                      last_updated=dt.date.today().isoformat()))
    factories.Sysadmin(name="root_admin2")
    assert [r["name"] for r in as_user("wj_editor", "sanyi_overdue_list")["results"]] == ["wj-old"]
    assert [r["name"] for r in as_user("yb_editor", "sanyi_overdue_list")["results"]] == ["yb-old"]
    assert as_user("merchant_user", "sanyi_overdue_list")["results"] == []
    assert as_user("operator_user", "sanyi_overdue_list")["results"] == []
    assert sorted(r["name"] for r in as_user("root_admin2", "sanyi_overdue_list")["results"]) \
        == ["wj-old", "yb-old"]
    # an internal caller naming a user still gets that user's units only
    assert [r["name"] for r in helpers.call_action(
        "sanyi_overdue_list", context={"user": "wj_editor"})["results"]] == ["wj-old"]
    row = as_user("wj_editor", "sanyi_overdue_list", today="2025-02-10")["results"][0]
    assert (row["next_due"], row["days_overdue"]) == ("2025-02-05", 5)
    with pytest.raises(helpers.logic.ValidationError) as e:
        as_user("wj_editor", "sanyi_overdue_list", today="yesterday")
    assert "日期格式无效" in e.value.error_dict["today"][0]
    assert "Invalid date" in e.value.error_dict["today"][0]
    # marking it updated takes it off the list
    as_user("wj_editor", "sanyi_mark_updated", id="wj-old")
    assert as_user("wj_editor", "sanyi_overdue_list")["results"] == []


def test_overdue_cli(sanyi_orgs):
    from ckanext.sanyi.cli import sanyi
    as_user("wj_editor", "package_create", **resource("shi-wei-jian-wei", "wj-cli",
                                                      last_updated="2025-01-05"))
    as_user("yb_editor", "package_create", **resource("shi-yi-bao-ju", "yb-cli",
                                                      update_cycle="irregular",
                                                      last_updated="2020-01-05"))
    result = CliRunner().invoke(sanyi, ["overdue", "--today", "2025-03-01"])
    assert result.exit_code == 0, result.output
    assert "wj-cli" in result.output and "yb-cli" not in result.output
    assert "2025-02-05" in result.output and "+  24d" in result.output
    assert "1 overdue / 逾期 1 项" in result.output


def test_bureau_finds_products_waiting_for_approval_in_search(sanyi_orgs):
    """Unapproved products are private: the bureau reviews them, so its staff find them in
    search; the operator (owner) does too; a data unit and the public do not."""
    as_user("operator_user", "package_create", **product("p-review", status="filed"))
    fq = "+dataset_type:product"
    assert "p-review" in names_seen_by("bureau_user", fq)
    assert "p-review" in names_seen_by("operator_user", fq)
    assert "p-review" not in names_seen_by("wj_editor", fq)
    assert "p-review" not in names_seen_by("", fq)
    as_user("bureau_user", "package_patch", id="p-review", status="approved")
    assert "p-review" in names_seen_by("", fq)
