"""The queue of products awaiting approval on ``/bureau/supervision`` over HTTP: approve and
return with a comment as the bureau (the product's status, privacy and audit record), the
rule that whoever filed or last changed a product cannot approve it, refusals for every
other role, without a CSRF token, for a product not filed, a missing comment or product; the
operator reading the comment back. A small world (``build_queue_world``), built afresh for
each test that writes."""
from __future__ import annotations

import json
import re

import pytest
from bureau_view_support import audit_rows, build_queue_world, csrf_token, sign_in, status_of
from pagecheck import checked_body, page_text

pytestmark = pytest.mark.usefixtures("with_plugins")
PAGE = "/bureau/supervision"


@pytest.fixture(scope="module")
def app():
    """One test app for the module (CKAN's ``app`` builds one for every test, seconds each);
    each test signs in afresh."""
    from ckan.lib.app_globals import _CONFIG_CACHE
    from ckan.tests import helpers
    _CONFIG_CACHE.clear()
    return helpers._get_test_app()


@pytest.fixture
def queue_world(sanyi_orgs, sanyi_db, request):
    return sanyi_db.layer(request, lambda: build_queue_world(sanyi_orgs))


def review(app, product: dict, decision: str, comment: str = "", token: bool = True, **kw):
    data = {"decision": decision, "comment": comment}
    if token:
        data["_csrf_token"] = csrf_token(app, "/dashboard/overdue")
    return app.post(f"{PAGE}/products/{product['id']}/review", data=data, **kw)


def test_others_cannot_decide(queue_world, app):
    product = queue_world["by_operator"]
    for who in (None, "no_role", "merchant_user", "wj_editor", "operator_user"):
        sign_in(app, who)
        res = review(app, product, "approve", token=who is not None, follow_redirects=False)
        if who is None:
            assert res.status_code == 302 and "/user/login" in res.headers["Location"]
        else:
            assert res.status_code == 403, who
        headers = {"X-CSRFToken": csrf_token(app, "/dashboard/overdue")} if who else {}
        res = app.post("/api/3/action/sanyi_product_review", headers=headers,
                       json={"id": product["id"], "decision": "return", "comment": "不同意"})
        assert res.status_code == 403, who
        assert status_of(product["id"]) == ("filed", True) and audit_rows(product["id"]) == []


def test_a_decision_without_the_csrf_token_is_refused(queue_world, app):
    product = queue_world["by_operator"]
    sign_in(app, "bureau_user")
    assert review(app, product, "approve", token=False).status_code == 400
    res = app.post("/api/3/action/sanyi_product_review",
                   json={"id": product["id"], "decision": "approve"})
    assert res.status_code == 400
    assert status_of(product["id"]) == ("filed", True) and audit_rows(product["id"]) == []


def test_bad_decisions_and_unknown_products(queue_world, app):
    product = queue_world["by_operator"]
    sign_in(app, "bureau_user")
    text = page_text(checked_body(review(app, product, "publish"), PAGE))
    assert "处理决定须为 approve（批准）或 return（退回）" in text
    res = review(app, {"id": "no-such-product"}, "approve")
    assert res.status_code == 404
    res = review(app, {"id": "hypertension"}, "approve")  # a catalog resource, not a product
    assert res.status_code == 404
    token = csrf_token(app, "/dashboard/overdue")
    for bad in ({"id": product["id"], "decision": ["approve"]},
                {"id": product["id"], "decision": "return", "comment": {"a": 1}},
                {"id": ["x"], "decision": "approve"}):
        res = app.post("/api/3/action/sanyi_product_review", json=bad,
                       headers={"X-CSRFToken": token})
        assert res.status_code == 409, (bad, res.get_data(as_text=True)[:300])
    assert status_of(product["id"]) == ("filed", True) and audit_rows(product["id"]) == []


def test_the_bureau_approves_a_product_the_operator_filed(queue_world, app):
    product = queue_world["by_operator"]
    assert status_of(product["id"]) == ("filed", True)
    sign_in(app, "bureau_user")
    res = review(app, product, "approve", "材料齐全，同意上架", follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith(f"{PAGE}#queue")
    assert status_of(product["id"]) == ("approved", False)
    [(actor, action, after)] = audit_rows(product["id"])
    assert (actor, action, after) == ("bureau_user", "sanyi_product_approve",
                                      {"status": "approved", "comment": "材料齐全，同意上架"})
    body = checked_body(app.get(PAGE), PAGE)
    text = page_text(body)
    assert "“智慧核保（待审）”已批准上架，并已记入审计。" in text
    assert 'sanyi-queue-count">1<' in body and 'data-product="filed-underwriting"' not in body
    assert 'data-decision="approve"' in body and "材料齐全，同意上架" in text
    # the product is public now
    sign_in(app, None)
    assert app.get(f"/product/{product['name']}").status_code == 200


def test_whoever_last_changed_a_product_cannot_approve_it(queue_world, app):
    product = queue_world["by_bureau"]
    sign_in(app, "bureau_user")
    res = review(app, product, "approve")
    text = page_text(checked_body(res, PAGE))
    assert "备案或最后修改产品内容的人不能批准该产品" in text
    assert status_of(product["id"]) == ("filed", True) and audit_rows(product["id"]) == []
    sign_in(app, "bureau_two")
    review(app, product, "approve")
    assert status_of(product["id"]) == ("approved", False)
    assert [a for _, a, _ in audit_rows(product["id"])] == ["sanyi_product_approve"]


def test_the_bureau_returns_a_product_with_a_comment(queue_world, app):
    product = queue_world["by_operator"]
    sign_in(app, "bureau_user")
    text = page_text(checked_body(review(app, product, "return", "   "), PAGE))
    assert "退回须填写意见" in text and status_of(product["id"]) == ("filed", True)
    text = page_text(checked_body(review(app, product, "return", "x" * 1001), PAGE))
    assert "意见过长" in text and status_of(product["id"]) == ("filed", True)
    assert audit_rows(product["id"]) == []
    comment = "请补充数据来源的授权文件"
    text = page_text(checked_body(review(app, product, "return", comment), PAGE))
    assert "已退回为草稿，意见已记入审计" in text
    assert status_of(product["id"]) == ("draft", True)
    [(actor, action, after)] = audit_rows(product["id"])
    assert (actor, action, after) == ("bureau_user", "sanyi_product_return",
                                      {"status": "draft", "comment": comment})
    body = checked_body(app.get(PAGE), PAGE)
    assert 'data-decision="return"' in body and comment in body
    audit = checked_body(app.get(f"{PAGE}/audit", query_string={"object_id": product["id"]}),
                         f"{PAGE}/audit")
    assert "退回产品备案（改为草稿）" in page_text(audit)
    assert re.search(r'data-field="status" data-change="changed"><td class="text-break" title="status">状态</td>'
                     r'<td class="text-break">已备案</td><td class="text-break">草稿</td>', audit)
    # a returned product is no longer awaiting approval
    text = page_text(checked_body(review(app, product, "approve"), PAGE))
    assert "只有已备案的产品可以批准或退回" in text and status_of(product["id"]) == ("draft", True)
    # the operator reads why it came back
    sign_in(app, "operator_user")
    res = app.get("/api/3/action/sanyi_product_review_list", query_string={"id": product["name"]})
    [row] = json.loads(res.get_data(as_text=True))["result"]["results"]
    assert (row["decision"], row["comment"], row["actor"]) == ("return", comment, "bureau_user")
    english = page_text(checked_body(app.get("/en" + PAGE, query_string={}), "/en" + PAGE, 403))
    assert "data bureau staff" in english
