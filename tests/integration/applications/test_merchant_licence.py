"""The merchant's business licence (营业执照), over HTTP: uploaded with the profile form,
served only to the merchant, the bureau and sysadmins, shown on the bureau's verification page;
a bad file is a field error that writes nothing; a new licence is verified again."""
from __future__ import annotations

import hashlib
import io
import os
import re

import pytest
from applications_support import call_as, credit_code
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories

from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")
# a 1×1 PNG
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def licence_world(world):
    factories.User(name="newco")
    factories.User(name="no_role")
    return world


def profile(n: int = 7) -> dict[str, str]:
    return {"company_name": f"福州健康数据科技有限公司{n}", "credit_code": credit_code(n),
            "contact_name": "李四", "contact_phone": "0591-87654321",
            "contact_email": "newco@example.com", "enterprise_size": "small"}


def token_of(app) -> str:
    page = app.get("/merchant/register").get_data(as_text=True)
    return re.search(r'name="_csrf_token" value="([^"]+)"', page).group(1)


def post_profile(app, filename: str, content: bytes, **overrides: str):
    data = dict(profile(), _csrf_token=token_of(app), **overrides)
    data["business_licence"] = (io.BytesIO(content), filename)
    return app.post("/merchant/register", data=data, content_type="multipart/form-data",
                    follow_redirects=False)


def licences_on_disk() -> list[str]:
    root = os.path.join(tk.config["ckan.storage_path"], "sanyi", "licences")
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_licence_uploaded_with_the_profile_and_served_to_whom_it_may_concern(
        app, licence_world, login):
    login(app, "newco")
    res = post_profile(app, "营业执照.png", PNG)
    assert res.status_code == 302
    merchant = call_as("newco", "sanyi_merchant_show")
    shown = merchant["business_licence"]
    assert shown["name"] == "营业执照.png" and shown["mimetype"] == "image/png"
    assert shown["sha256"] == hashlib.sha256(PNG).hexdigest() and shown["size"] == len(PNG)
    record = audit.list(object_types=["merchant"], object_id=merchant["id"], limit=5)[0]
    assert record["after"]["business_licence"]["sha256"] == shown["sha256"]

    url = f"/merchant/{merchant['id']}/licence"
    served = app.get(url)
    assert served.status_code == 200 and served.data == PNG
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    for user, status in (("bureau_user", 200), ("sysadmin", 200), ("merchant_user", 403),
                         ("wj_editor", 403), ("no_role", 403)):
        login(app, user)
        assert app.get(url).status_code == status, user
    app.client.delete_cookie("ckan", domain="127.0.0.1")
    anonymous = app.get(url, follow_redirects=False)
    assert anonymous.status_code == 302 and "/user/login" in anonymous.headers["Location"]


@pytest.mark.parametrize("prefix, message", [("", "营业执照须为 PDF、OFD、PNG 或 JPG 文件"),
                                             ("/en", "must be a PDF, OFD, PNG or JPG file")])
def test_a_bad_licence_file_is_a_field_error_and_writes_nothing(app, licence_world, login,
                                                                prefix, message):
    login(app, "newco")
    before = licences_on_disk()
    data = dict(profile(), _csrf_token=token_of(app),
                business_licence=(io.BytesIO(b"MZ\x90\x00"), "licence.exe"))
    res = app.post(f"{prefix}/merchant/register", data=data,
                   content_type="multipart/form-data")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert message in html and "is-invalid" in html
    assert licences_on_disk() == before
    from ckanext.sanyi.applications.model import merchant_table
    user = model.User.get("newco")
    assert model.Session.execute(merchant_table.select().where(
        merchant_table.c.user_id == user.id)).first() is None


def test_bureau_sees_the_licence_beside_each_merchant(app, licence_world, login):
    login(app, "newco")
    assert post_profile(app, "licence.png", PNG).status_code == 302
    merchant = call_as("newco", "sanyi_merchant_show")
    login(app, "bureau_user")
    html = app.get("/bureau/merchants?status=all").get_data(as_text=True)
    row = html.split(merchant["company_name"], 1)[1].split("</tr>", 1)[0]
    assert f'/merchant/{merchant["id"]}/licence' in row and "sanyi-licence-thumb" in row
    assert "未上传" in html  # the world's merchants registered without a licence


def test_a_new_licence_is_verified_again(app, licence_world, login):
    login(app, "newco")
    assert post_profile(app, "first.png", PNG).status_code == 302
    merchant = call_as("newco", "sanyi_merchant_show")
    call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
    assert call_as("newco", "sanyi_merchant_show")["status"] == "verified"
    # the profile saved again without a file keeps the licence and the verification
    data = dict(profile(), _csrf_token=token_of(app))
    assert app.post("/merchant/register", data=data).status_code in (200, 302)
    again = call_as("newco", "sanyi_merchant_show")
    assert again["status"] == "verified" and again["business_licence"]["name"] == "first.png"
    assert post_profile(app, "second.pdf", b"%PDF-1.4 licence").status_code == 302
    after = call_as("newco", "sanyi_merchant_show")
    assert after["status"] == "pending" and after["business_licence"]["name"] == "second.pdf"
    served = app.get(f"/merchant/{merchant['id']}/licence")
    assert served.data == b"%PDF-1.4 licence"
    assert served.headers["Content-Disposition"].startswith("attachment")


def test_licence_through_the_api(app, licence_world):
    token = factories.APIToken(user="newco")["token"]
    data = dict(profile(8), business_licence=(io.BytesIO(PNG), "licence.jpg"))
    res = app.post("/api/3/action/sanyi_merchant_register", data=data,
                   headers={"Authorization": token}, content_type="multipart/form-data")
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.json["result"]["business_licence"]["mimetype"] == "image/jpeg"
    bad = app.post("/api/3/action/sanyi_merchant_register",
                   data=dict(profile(8), business_licence="not a file"),
                   headers={"Authorization": token})
    assert bad.status_code == 409
    errors = bad.json["error"]["business_licence"]
    assert any("营业执照" in e for e in errors) and any("business licence" in e for e in errors)
