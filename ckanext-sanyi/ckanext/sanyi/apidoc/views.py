"""``GET /api/sanyi/openapi.json`` (the OpenAPI 3.1 description of every ``sanyi_*`` action,
:func:`.document.document`) and ``GET /api/sanyi/docs``, the page for people rendered on the
server from the same document (Chinese by default, English at ``/en/api/sanyi/docs``)."""
from __future__ import annotations

import json
from typing import Any

import ckan.plugins.toolkit as tk
from flask import Blueprint, Response

from . import document

__all__ = ["apidoc"]

apidoc = Blueprint("sanyi_apidoc", __name__)


@apidoc.route("/api/sanyi/openapi.json", methods=["GET"])
def openapi_json() -> Response:
    body = json.dumps(document.document(), ensure_ascii=False, indent=1)
    return Response(body, status=200, content_type="application/json;charset=utf-8",
                    headers={"Cache-Control": "no-cache"})


@apidoc.route("/api/sanyi/docs", methods=["GET"])
def docs() -> Any:
    zh = bool(tk.h.sanyi_is_zh())
    context = document.docs_context(document.document(), zh)
    return tk.render("sanyi/apidoc/docs.html", {"docs": context})
