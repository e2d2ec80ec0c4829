"""The world of the API client and OAuth tests (no tests here).

``client_world``: the application tests' ``world`` (tests/integration/conftest.py) (bureau, operator, data units, two verified
merchants, products) plus a user with no role, an active entitlement of ``merchant_user``
(free public-interest use of health-profile) and one of ``merchant_two``; helpers to create
clients through the actions and to ask the OAuth endpoints for tokens over HTTP.
"""
from __future__ import annotations

import base64
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from applications_support import bilingual, call_as, refused, to_status
from ckan.tests import factories, helpers

TOKEN_URL = "/api/delivery/oauth/token"
REVOKE_URL = "/api/delivery/oauth/revoke"
INTROSPECT_URL = "/api/delivery/oauth/introspect"
PRODUCT = "health-profile"


@pytest.fixture
def client_world(world):
    factories.User(name="no_role")
    mine = to_status("active", free=True)
    theirs = to_status("active", free=True, user="merchant_two")
    return dict(world, entitlement=mine["entitlement"], other_entitlement=theirs["entitlement"],
                application=mine)


def _tests_conftest():
    """tests/conftest.py as a module (pytest imports it under the name ``conftest``, which the
    nearer conftest files of this folder shadow)."""
    path = Path(__file__).resolve().parents[2] / "conftest.py"
    spec = importlib.util.spec_from_file_location("sanyi_tests_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


csrf_token = _tests_conftest().csrf_token


def new_client(entitlement_id: str, name: str = "核保系统", user: str = "merchant_user",
               **extra: Any) -> dict[str, Any]:
    return call_as(user, "sanyi_client_create", entitlement_id=entitlement_id, name=name, **extra)


def basic(client_id: str, secret: str) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token_request(app, client: dict[str, Any] | None = None, *, secret: str | None = None,
                  form_auth: bool = False, headers: dict[str, str] | None = None,
                  **form: Any) -> Any:
    """POST to the token endpoint: HTTP Basic with ``client`` (or its fields in the form)."""
    data = {"grant_type": "client_credentials", **form}
    headers = dict(headers or {})
    if client is not None:
        secret = client["client_secret"] if secret is None else secret
        if form_auth:
            data.update(client_id=client["client_id"], client_secret=secret)
        else:
            headers.update(basic(client["client_id"], secret))
    data = {k: v for k, v in data.items() if v is not None}
    return app.post(TOKEN_URL, data=data, headers=headers)


def access_token(app, client: dict[str, Any], **form: Any) -> str:
    res = token_request(app, client, **form)
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.json["access_token"]


def api_token(user: str) -> str:
    return factories.APIToken(user=user)["token"]


def system(action: str, **data: Any) -> Any:
    return helpers.call_action(action, context={"user": "", "ignore_auth": True}, **data)


__all__ = ["client_world", "new_client", "bilingual", "refused", "basic", "token_request", "access_token",
           "api_token", "call_as", "system", "csrf_token", "TOKEN_URL", "REVOKE_URL", "INTROSPECT_URL",
           "PRODUCT"]
