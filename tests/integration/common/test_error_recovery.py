"""One failed request does not fail the next: the session is rolled back as soon as an
exception is seen (before the error page renders), and refusals escaping a view answer
403/404/400 rather than 500."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


def test_aborted_transaction_is_rolled_back_on_error(app):
    from flask import got_request_exception
    flask_app = app.flask_app
    with flask_app.test_request_context("/dataset/"):
        with pytest.raises(sa.exc.DataError):
            model.Session.execute(sa.text("SELECT CAST(:v AS bigint)"),
                                  {"v": "99999999999999999999"})
        # the transaction is aborted now: any query fails until a rollback
        with pytest.raises(sa.exc.InternalError):
            model.Session.execute(sa.text("SELECT 1"))
        model.Session.rollback()
        with pytest.raises(sa.exc.DataError):
            model.Session.execute(sa.text("SELECT CAST(:v AS bigint)"),
                                  {"v": "99999999999999999999"})
        got_request_exception.send(flask_app, exception=RuntimeError("boom"))
        assert model.Session.execute(sa.text("SELECT 1")).scalar() == 1


def test_pages_work_after_a_huge_page_number(app, login):
    factories.User(name="reader")
    login(app, "reader")
    for url in ("/dataset/?page=99999999999999999999", "/product/?page=99999999999999999999",
                "/dataset/?page=-3", "/dataset/?page=abc"):
        assert app.get(url).status_code < 500, url
        assert app.get("/").status_code == 200
        assert app.get("/dashboard/overdue").status_code == 200


def test_refusal_escaping_a_core_view_is_403_not_500(app):
    user = factories.User()
    # CKAN's follow view lets NotAuthorized escape for an anonymous visitor
    res = app.post(f"/user/follow/{user['name']}", follow_redirects=False)
    assert res.status_code == 403
    assert "requires an authenticated user" in res.body or "登录" in res.body
    assert app.get("/").status_code == 200
