"""Uploads and request bodies, over HTTP.

* a body over ``ckanext.sanyi.max_request_bytes`` is refused with 413 and a message in
  Chinese and English (JSON for the API, an error page for pages), never a 500, and
  nothing is written;
* attachments are served as downloads typed by their checked extension, never by the
  content type the browser sent, with ``X-Content-Type-Options: nosniff``;
* several files in one multipart API call are all kept, up to a bound; beyond it the call
  is refused on ``attachment_upload``.
"""
from __future__ import annotations

import io
import json
import os

import pytest
import sqlalchemy as sa
from applications_support import HAN, app_data
from ckan import model
from ckan.tests import factories
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("with_plugins")
USERS = ("merchant_user", "merchant_two", "wj_editor")
SMALL = 64 * 1024


@pytest.fixture
def storage(ckan_config, monkeypatch, tmp_path):
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    return tmp_path


@pytest.fixture
def tokens(world, storage):
    return {u: factories.APIToken(user=u)["token"] for u in USERS}


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs)


def counts():
    model.Session.rollback()
    return tuple(model.Session.execute(sa.select(sa.func.count()).select_from(sa.table(t))).scalar()
                 for t in ("sanyi_application", "sanyi_application_attachment", "sanyi_audit"))


def multipart(**overrides):
    """The application form fields as multipart parts (lists repeat the field)."""
    data = {k: (v if isinstance(v, list) else str(v)) for k, v in app_data(**overrides).items()}
    return data


def post_multipart(app, url, token, data):
    return app.post(url, data=data, headers={"Authorization": token},
                    content_type="multipart/form-data", follow_redirects=False)


def bilingual(message: str) -> None:
    assert HAN.search(message) and " / " in message and "too large" in message, message


# -- the request size limit ----------------------------------------------------------------

@pytest.mark.ckan_config("ckanext.sanyi.max_request_bytes", str(SMALL))
def test_an_api_body_over_the_limit_is_413_json(app, tokens):
    before = counts()
    data = multipart(attachment_upload=[(io.BytesIO(b"%PDF" + b"x" * 2 * SMALL), "big.pdf")])
    res = post_multipart(app, "/api/3/action/sanyi_application_create",
                         tokens["merchant_user"], data)
    assert res.status_code == 413, res.get_data(as_text=True)[:500]
    assert res.content_type.startswith("application/json")
    body = res.get_json()
    assert body["success"] is False and body["error"]["__type"] == "Request Too Large"
    bilingual(body["error"]["message"])
    assert "64 KB" in body["error"]["message"]
    # a JSON body too
    res = app.post("/api/3/action/sanyi_application_create",
                   data=json.dumps(app_data(purpose="x" * 2 * SMALL)),
                   content_type="application/json",
                   headers={"Authorization": tokens["merchant_user"]})
    assert res.status_code == 413 and res.get_json()["success"] is False
    assert counts() == before
    # under the limit the same call goes through
    data = multipart(attachment_upload=[(io.BytesIO(b"%PDF small"), "small.pdf")])
    res = post_multipart(app, "/api/3/action/sanyi_application_create",
                         tokens["merchant_user"], data)
    assert res.status_code == 200, res.get_json()


@pytest.mark.ckan_config("ckanext.sanyi.max_request_bytes", str(SMALL))
@pytest.mark.parametrize("prefix", ["", "/en"])
def test_a_page_form_over_the_limit_is_a_413_page(app, tokens, storage, prefix):
    before = counts()
    data = multipart(attachment_upload=[(io.BytesIO(b"%PDF" + b"x" * 2 * SMALL), "big.pdf")])
    res = post_multipart(app, f"{prefix}/apply/chronic-refill", tokens["merchant_user"], data)
    body = res.get_data(as_text=True)
    assert res.status_code == 413, body[:500]
    assert res.content_type.startswith("text/html") and "<html" in body
    assert "请求过大" in body and "Request too large" in body
    assert "Internal server error" not in body and "Traceback" not in body
    assert counts() == before and _files(storage) == []


def test_the_default_limit_is_20_mib(app, tokens):
    res = app.post("/api/3/action/sanyi_application_create",
                   data=b'{"purpose": "' + b"x" * (20 * 1024 * 1024 + 1) + b'"}',
                   content_type="application/json",
                   headers={"Authorization": tokens["merchant_user"]})
    assert res.status_code == 413
    assert "20 MB" in res.get_json()["error"]["message"]


# -- serving attachments ---------------------------------------------------------------------

HOSTILE = b"<html><body><script>alert(document.cookie)</script></body></html>"


def test_attachments_are_served_typed_by_extension_as_downloads(app, tokens):
    data = multipart(attachment_upload=[(io.BytesIO(HOSTILE), "说明.txt", "text/html"),
                                        (io.BytesIO(HOSTILE), "scan.png", "text/html"),
                                        (io.BytesIO(b"%PDF-1.4"), "plan.pdf",
                                         "application/x-msdownload")])
    res = post_multipart(app, "/api/3/action/sanyi_application_create",
                         tokens["merchant_user"], data)
    assert res.status_code == 200, res.get_json()
    created = res.get_json()["result"]
    atts = {a["name"]: a for a in created["attachments"]}
    assert {n: a["mimetype"] for n, a in atts.items()} == {
        "说明.txt": "text/plain", "scan.png": "image/png", "plan.pdf": "application/pdf"}
    expected = {"说明.txt": "text/plain", "scan.png": "image/png", "plan.pdf": "application/pdf"}
    for name, want in expected.items():
        res = app.get(f"/application/{created['id']}/attachment/{atts[name]['id']}",
                      headers={"Authorization": tokens["merchant_user"]})
        assert res.status_code == 200
        assert res.headers["Content-Type"].split(";")[0] == want
        assert res.headers["X-Content-Type-Options"] == "nosniff"
        assert res.headers["Content-Disposition"].startswith("attachment")
        assert "sandbox" in res.headers["Content-Security-Policy"]
    # someone who may not see the application gets nothing
    res = app.get(f"/application/{created['id']}/attachment/{atts['scan.png']['id']}",
                  headers={"Authorization": tokens["merchant_two"]})
    assert res.status_code == 403 and HOSTILE not in res.data


def test_a_stored_browser_type_is_not_served(app, tokens):
    """Rows that kept the type a browser sent are still served by their extension."""
    data = multipart(attachment_upload=[(io.BytesIO(HOSTILE), "page.txt")])
    created = post_multipart(app, "/api/3/action/sanyi_application_create",
                             tokens["merchant_user"], data).get_json()["result"]
    att = created["attachments"][0]
    model.Session.execute(text("UPDATE sanyi_application_attachment SET mimetype = 'text/html' "
                               "WHERE id = :id"), {"id": att["id"]})
    model.Session.commit()
    res = app.get(f"/application/{created['id']}/attachment/{att['id']}",
                  headers={"Authorization": tokens["merchant_user"]})
    assert res.headers["Content-Type"].split(";")[0] == "text/plain"
    assert res.headers["X-Content-Type-Options"] == "nosniff"


# -- several files in one API call ------------------------------------------------------------

def test_the_api_keeps_every_file_of_a_multipart_call(app, tokens, storage):
    files = [(io.BytesIO(f"%PDF {i}".encode()), f"附件{i}.pdf") for i in range(3)]
    res = post_multipart(app, "/api/3/action/sanyi_application_create", tokens["merchant_user"],
                         multipart(attachment_upload=files))
    assert res.status_code == 200, res.get_json()
    created = res.get_json()["result"]
    assert sorted(a["name"] for a in created["attachments"]) == ["附件0.pdf", "附件1.pdf",
                                                                 "附件2.pdf"]
    assert len(_files(storage)) == 3
    # and on update
    more = [(io.BytesIO(b"%PDF a"), "补充A.pdf"), (io.BytesIO(b"%PDF b"), "补充B.pdf")]
    res = post_multipart(app, "/api/3/action/sanyi_application_update", tokens["merchant_user"],
                         {"id": created["id"], "attachment_upload": more})
    assert res.status_code == 200, res.get_json()
    names = sorted(a["name"] for a in res.get_json()["result"]["attachments"])
    assert names == ["补充A.pdf", "补充B.pdf", "附件0.pdf", "附件1.pdf", "附件2.pdf"]


def test_too_many_files_in_one_call_is_a_field_error(app, tokens, storage):
    before = counts()
    def files(n):
        return [(io.BytesIO(b"%PDF"), f"f{i}.pdf") for i in range(n)]
    res = post_multipart(app, "/api/3/action/sanyi_application_create", tokens["merchant_user"],
                         multipart(attachment_upload=files(11)))
    assert res.status_code == 409, res.get_json()
    message = " ".join(res.get_json()["error"]["attachment_upload"])
    assert "最多上传 10 个" in message and "At most 10 attachment files" in message
    assert counts() == before and _files(storage) == []
    # ten are fine
    res = post_multipart(app, "/api/3/action/sanyi_application_create", tokens["merchant_user"],
                         multipart(attachment_upload=files(10)))
    assert res.status_code == 200 and len(res.get_json()["result"]["attachments"]) == 10


def test_an_attachment_that_is_not_a_file_is_a_field_error(app, tokens):
    before = counts()
    res = app.post("/api/3/action/sanyi_application_create",
                   json=app_data(attachment_upload="C:/plan.pdf"),
                   headers={"Authorization": tokens["merchant_user"]})
    assert res.status_code == 409
    message = " ".join(res.get_json()["error"]["attachment_upload"])
    assert "multipart/form-data" in message and HAN.search(message)
    assert counts() == before
