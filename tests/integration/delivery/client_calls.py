"""Helpers of the API client and OAuth tests (no fixtures here; ``client_world`` is in
conftest.py): clients created through the actions, the OAuth endpoints asked for tokens
over HTTP.
"""
from __future__ import annotations

import base64
from typing import Any

from applications_support import call_as
from ckan.tests import factories

TOKEN_URL = "/api/delivery/oauth/token"
REVOKE_URL = "/api/delivery/oauth/revoke"
INTROSPECT_URL = "/api/delivery/oauth/introspect"
PRODUCT = "health-profile"


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
