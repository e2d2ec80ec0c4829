"""The application pages in Chinese and English for each role, the apply form, reviewing from
the page, attachments, the dashboard count and e-mail notifications."""
from __future__ import annotations

import io
import re

import pytest
from applications_support import app_data, call_as, to_status
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories
from pagecheck import checked_body, page_text
from sqlalchemy import text

from ckanext.sanyi.applications import notify, service

pytestmark = pytest.mark.usefixtures("with_plugins")
USERS = ("merchant_user", "merchant_two", "wj_editor", "yb_editor", "yj_editor",
         "operator_user", "bureau_user")


@pytest.fixture
def tokens(world):
    return {u: factories.APIToken(user=u)["token"] for u in USERS}


def _get(app, url, token=None, status=200) -> str:
    res = app.get(url, headers={"Authorization": token} if token else {}, follow_redirects=False)
    return checked_body(res, url, status)




PAGES = {
    "merchant_user": ["/merchant/register", "/merchant/applications", "/merchant/orders",
                      "/merchant/entitlements", "/dashboard/applications", "/apply/chronic-refill"],
    "wj_editor": ["/review/applications", "/review/applications?all=1", "/dashboard/applications"],
    "bureau_user": ["/review/applications", "/bureau/merchants", "/bureau/merchants?status=all",
                    "/bureau/entitlements", "/dashboard/applications"],
    "operator_user": ["/dashboard/applications", "/review/applications"],
}


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_pages_render_for_each_role(app, world, tokens, prefix):
    active = to_status("active", free=True)
    charged = to_status("awaiting_payment")
    to_status("unit_review")
    for user, pages in PAGES.items():
        for page in pages + [f"/application/{a['id']}" for a in (active, charged)
                             if user != "operator_user"]:
            body = _get(app, prefix + page, tokens[user])
            if prefix:
                assert "申请使用" not in page_text(body) or page.startswith("/apply")
    merchant = page_text(_get(app, prefix + "/merchant/applications", tokens["merchant_user"]))
    assert ("个人健康画像与风险预警" in merchant) and ("慢病线上开处方" in merchant)
    read = page_text(_get(app, prefix + f"/application/{active['id']}", tokens["merchant_user"]))
    if prefix:  # the trace in words, never the audit action's code
        assert "created an entitlement" in read and "submitted an application" in read
    else:
        assert "生成使用授权" in read and "提交数据使用申请" in read
    assert "sanyi_entitlement_create" not in read and "sanyi_application_submit" not in read
    assert ("全程留痕" if not prefix else "Full trace") in read
    fee = _get(app, prefix + f"/application/{charged['id']}", tokens["merchant_user"])
    assert ("¥4,500.00" if not prefix else "CNY 4,500.00") in fee  # one money format
    if charged["order_id"]:
        assert f'href="/order/{charged["order_id"]}"' in fee or \
            f'href="/en/order/{charged["order_id"]}"' in fee


def test_bureau_and_private_pages_are_refused(app, world, tokens):
    app_row = to_status("unit_review")
    _get(app, "/bureau/entitlements", tokens["merchant_user"], status=403)
    _get(app, "/bureau/merchants", tokens["wj_editor"], status=403)
    _get(app, f"/application/{app_row['id']}", tokens["merchant_two"], status=403)
    _get(app, f"/application/{app_row['id']}", tokens["yj_editor"], status=403)
    res = app.get("/merchant/applications", follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]
    _get(app, "/apply/no-such-product", tokens["merchant_user"], status=404)
    _get(app, "/apply/not-listed", tokens["merchant_user"], status=404)
    res = app.get(f"/application/{app_row['id']}/edit", follow_redirects=False,
                  headers={"Authorization": tokens["merchant_user"]})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/application/{app_row['id']}")


def test_apply_from_the_form_and_review_from_the_page(app, world, tokens):
    form = _get(app, "/apply/chronic-refill", tokens["merchant_user"])
    assert 'name="_csrf_token"' in form and 'enctype="multipart/form-data"' in form
    assert form.count('name="data_items"') == 3 and "敏感，需脱敏" in form
    data = {k: v for k, v in app_data().items() if k != "data_items"}
    data.update(data_items=["hypertension:患者编号", "insured"], submit_now="1",
                attachment_upload=(io.BytesIO(b"%PDF-1.4 plan"), "方案.pdf"))
    res = app.post("/apply/chronic-refill", data=data, headers={
        "Authorization": tokens["merchant_user"]}, follow_redirects=False)
    assert res.status_code == 302, res.get_data(as_text=True)[:1000]
    app_id = res.headers["Location"].rstrip("/").split("/")[-1]
    row = service.get(app_id)
    assert row["status"] == "unit_review" and row["data_items"] == ["hypertension:患者编号", "insured"]
    page = _get(app, f"/application/{app_id}", tokens["wj_editor"])
    assert 'class="sanyi-review-form"' in page and "方案.pdf" in page
    assert 'class="sanyi-review-form"' not in _get(app, f"/application/{app_id}",
                                                   tokens["merchant_user"])
    link = re.search(r'href="(/application/[^"]+/attachment/[^"]+)"', page).group(1)
    res = app.get(link, headers={"Authorization": tokens["yb_editor"]})
    assert res.status_code == 200 and res.data == b"%PDF-1.4 plan"
    assert app.get(link, headers={"Authorization": tokens["merchant_two"]}).status_code == 403
    res = app.post(f"/application/{app_id}/review", data={"decision": "approve", "comment": "同意",
                                                          "version": row["version"]},
                   headers={"Authorization": tokens["wj_editor"]}, follow_redirects=False)
    assert res.status_code == 302
    assert service.get(app_id)["unit_decisions"] == {"shi-wei-jian-wei": "approved"}
    res = app.post(f"/application/{app_id}/review", data={"decision": "reject"},
                   headers={"Authorization": tokens["yb_editor"]}, follow_redirects=True)
    assert "必须填写理由" in res.get_data(as_text=True)  # flashed, nothing changed
    assert service.get(app_id)["status"] == "unit_review"


def test_apply_form_shows_field_errors(app, world, tokens):
    data = app_data(period_end="2099-01-01", expected_volume="many")
    data.pop("data_items")
    res = app.post("/apply/chronic-refill", data=data,
                   headers={"Authorization": tokens["merchant_user"]})
    body = res.get_data(as_text=True)
    assert res.status_code == 200 and "最长授权期限 5 年" in body and "预计使用量必须是正整数" in body
    assert "至少一项" in body
    assert model.Session.execute(text("SELECT count(*) FROM sanyi_application")).scalar() == 0


def test_apply_without_a_profile_goes_to_registration(app, world):
    factories.User(name="walker")
    token = factories.APIToken(user="walker")["token"]
    res = app.get("/apply/chronic-refill", headers={"Authorization": token}, follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith("/merchant/register")


def _counts(body: str) -> tuple[int, int]:
    waiting = re.search(r'sanyi-waiting-count">(\d+)<', body).group(1)
    unread = re.search(r'sanyi-unread-count">(\d+)<', body).group(1)
    return int(waiting), int(unread)


def test_dashboard_counts_what_waits(app, world, tokens):
    assert _counts(_get(app, "/dashboard/applications", tokens["wj_editor"])) == (0, 0)
    to_status("unit_review")
    body = _get(app, "/dashboard/applications", tokens["wj_editor"])
    assert _counts(body) == (1, 1) and "新的数据使用申请待审核" in body
    assert 'sanyi-todo-count">2<' in _get(app, "/merchant/applications", tokens["wj_editor"])
    app.post("/dashboard/applications/read", headers={"Authorization": tokens["wj_editor"]})
    assert _counts(_get(app, "/dashboard/applications", tokens["wj_editor"])) == (1, 0)
    assert _counts(_get(app, "/dashboard/applications", tokens["bureau_user"]))[0] == 0
    assert _counts(_get(app, "/en/dashboard/applications", tokens["yb_editor"])) == (1, 1)


def test_product_page_snippet(app, world):
    with app.flask_app.test_request_context():
        listed = tk.render_snippet("sanyi/applications/snippets/apply_button.html",
                                   {"pkg": world["chronic"]})
        draft = tk.render_snippet("sanyi/applications/snippets/apply_button.html",
                                  {"pkg": world["draft_product"]})
    assert 'href="/apply/chronic-refill"' in listed and "申请使用" in listed
    assert "/apply/" not in draft


def test_email_is_sent_after_commit_and_failures_are_not_fatal(world, ckan_config, monkeypatch):
    from ckan.lib import mailer
    sent = []

    def fake_mail_user(user, subject, body, **kwargs):
        if user.name == "yb_editor":
            raise mailer.MailerException("smtp down")
        sent.append((user.name, user.email, subject, body))
    monkeypatch.setitem(ckan_config, "smtp.server", "localhost:2525")
    monkeypatch.setattr(mailer, "mail_user", fake_mail_user)
    app_row = call_as("merchant_user", "sanyi_application_create", **app_data())
    app_row = call_as("merchant_user", "sanyi_application_submit", id=app_row["id"])
    assert app_row["status"] == "unit_review"
    assert [s[0] for s in sent] == ["wj_editor"]
    assert "新的数据使用申请待审核" in sent[0][2] and f"/application/{app_row['id']}" in sent[0][3]
    sent.clear()
    unread = [notify.unread_count(model.User.get(u).id) for u in ("merchant_user", "wj_editor")]
    with pytest.raises(tk.ValidationError):  # refused: nobody is told
        call_as("merchant_user", "sanyi_application_submit", id=app_row["id"])
    assert sent == []
    assert unread == [notify.unread_count(model.User.get(u).id) for u in ("merchant_user", "wj_editor")]


def test_no_email_without_smtp_server(world, ckan_config, monkeypatch):
    from ckan.lib import mailer
    monkeypatch.setitem(ckan_config, "smtp.server", "")
    monkeypatch.setattr(mailer, "mail_user", lambda *a, **k: pytest.fail("mailed"))
    to_status("unit_review")
    assert notify.unread_count(model.User.get("wj_editor").id) == 1
