"""CSRF: a cookie-session write without the token is refused, whatever requests came before.

CKAN 2.12 exempts a view from CSRF checks for the life of the process after one request to
it "logged in via header", and anonymous requests count as such (``common/csrf.py``). These
tests send that anonymous request first and then the cookie-session write without a token.
"""
from __future__ import annotations

import re

import pytest
from ckan import model
from ckan.tests import factories

pytestmark = pytest.mark.usefixtures("with_plugins")

CATALOG = {"type": "dataset", "update_cycle": "monthly", "delivery_methods": ["api"],
           "domain": "health", "grade_level": "L3", "open_attribute": "authorized",
           "last_updated": "2026-01-05", "notes": "CSRF 测试"}


@pytest.fixture
def world(sanyi_orgs):
    editor = sanyi_orgs["users"]["wj_editor"]
    other = factories.User(name="someone_else")
    pkg = factories.Dataset(name="csrf-resource", title="CSRF 测试资源",
                            owner_org=sanyi_orgs["orgs"]["wj"]["id"], **CATALOG)
    return {"editor": editor, "other": other, "pkg": pkg}


def _token(app) -> str:
    page = app.get("/dashboard/overdue").body
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or \
        re.search(r'name="_csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _following(user_id: str, other_id: str) -> bool:
    model.Session.remove()
    return model.UserFollowingUser.get(user_id, other_id) is not None


def _last_updated(pkg_id: str) -> str:
    model.Session.remove()
    return model.Package.get(pkg_id).extras.get("last_updated")


def test_core_view_after_anonymous_post(app, world, login):
    other = world["other"]
    # the anonymous request that makes CKAN exempt the follow view
    app.post(f"/user/follow/{other['name']}", follow_redirects=False)
    login(app, world["editor"]["name"])
    res = app.post(f"/user/follow/{other['name']}", follow_redirects=False)
    assert res.status_code in (400, 403)
    assert not _following(world["editor"]["id"], other["id"])
    # with the token the same request goes through
    res = app.post(f"/user/follow/{other['name']}", data={"_csrf_token": _token(app)},
                   follow_redirects=False)
    assert res.status_code in (200, 302)
    assert _following(world["editor"]["id"], other["id"])


def test_extension_form_after_anonymous_post(app, world, login):
    pkg = world["pkg"]
    url = f"/dataset/{pkg['name']}/mark-updated"
    app.post(url, follow_redirects=False)  # anonymous: exempts the view in CKAN 2.12
    login(app, world["editor"]["name"])
    res = app.post(url, follow_redirects=False)
    assert res.status_code in (400, 403)
    assert _last_updated(pkg["id"]) == "2026-01-05"
    res = app.post(url, data={"_csrf_token": _token(app)}, follow_redirects=False)
    assert res.status_code == 302
    assert _last_updated(pkg["id"]) != "2026-01-05"


def test_cookie_session_api_write_needs_token(app, world, login):
    pkg = world["pkg"]
    app.post("/api/3/action/sanyi_mark_updated", json={"id": pkg["name"]})  # anonymous first
    login(app, world["editor"]["name"])
    res = app.post("/api/3/action/sanyi_mark_updated", json={"id": pkg["name"]})
    assert res.status_code in (400, 403)
    assert _last_updated(pkg["id"]) == "2026-01-05"
    res = app.post("/api/3/action/sanyi_mark_updated", json={"id": pkg["name"]},
                   headers={"X-CSRFToken": _token(app)})
    assert res.status_code == 200, res.body


def test_api_token_stays_exempt(app, world):
    token = factories.APIToken(user=world["editor"]["name"])["token"]
    res = app.post("/api/3/action/sanyi_mark_updated", json={"id": world["pkg"]["name"]},
                   headers={"Authorization": token})
    assert res.status_code == 200, res.body
    assert _last_updated(world["pkg"]["id"]) != "2026-01-05"
