"""Text no column can hold, and JSON nested past any use, are refused where requests come in:
409 with a field error in both languages under /api/, 400 on pages; never a 500."""
from __future__ import annotations

import pytest
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


@pytest.mark.parametrize("body", [
    {"id": "abc\x00"}, {"id": "\ud800"}, {"q": "x", "fq": ["a", "b\x00"]},
    {"reason": {"nested": ["\udfff"]}}, {"\x00key": "v"},
])
def test_api_refuses_unstorable_text(app, body):
    res = app.post("/api/3/action/package_show", json=body)
    assert res.status_code == 409
    error = res.json["error"]
    assert error["__type"] == "Validation Error"
    message = " ".join(str(v) for k, v in error.items() if k != "__type")
    assert ("NUL" in message or "代理项" in message) and ("字符" in message)


def test_api_refuses_json_nested_too_deep(app):
    body = '{"id": ' + "[" * 100_000 + "]" * 100_000 + "}"
    res = app.post("/api/3/action/package_show", data=body,
                   headers={"Content-Type": "application/json"})
    assert res.status_code == 409
    assert "嵌套" in str(res.json["error"]) and "nested" in str(res.json["error"])


def test_json_nested_moderately_still_reaches_the_action(app):
    body = {"id": "no-such-dataset", "extra": [[[[["x"]]]]]}
    res = app.post("/api/3/action/package_show", json=body)
    assert res.status_code == 404


def test_page_form_with_nul_is_400(app, login):
    factories.User(name="nul_user")
    login(app, "nul_user")
    res = app.get("/dataset/", query_string={"q": "a\x00b"})
    assert res.status_code == 400
    res = app.get("/dataset/%00")
    assert res.status_code in (400, 404)
    assert app.get("/dataset/").status_code == 200
