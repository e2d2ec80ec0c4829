"""Public pages of the signed checkpoints (anyone, read only; nothing here writes).

* ``/transparency/checkpoints`` (Chinese and English): what the chains are, the public key,
  each log's current length, and the checkpoints (50 a page, newest first; ``?page=N``).
* ``/api/transparency/checkpoints.json``: every checkpoint with its signed statement and the
  public key, for outsiders to keep copies (``?since=<id>`` and ``?limit=`` ≤ 1000 to page,
  oldest first). Cacheable: ``Cache-Control: public, max-age=300`` and an ``ETag`` (a
  matching ``If-None-Match`` gets 304). A bad parameter is a 400 naming it, in both languages.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from flask import Blueprint, Response, request

from ..common import clock
from ..common.i18n_text import bi
from . import chain, checkpoints
from .checkpoint_model import checkpoint_table as ct

__all__ = ["transparency"]

transparency = Blueprint("sanyi_transparency", __name__)
JSON_PATH = "/api/transparency/checkpoints.json"
PER_PAGE = 50
MAX_AGE = 300


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ValueError(name)
    return value


def _bad(name: str, low: int, high: int) -> Response:
    body = {"success": False, "error": {name: [bi(f"应为 {low} 到 {high} 的整数",
                                                  f"must be a whole number from {low} to {high}")]}}
    return Response(json.dumps(body, ensure_ascii=False), status=400,
                    mimetype="application/json")


@transparency.route("/transparency/checkpoints")
def page() -> Any:
    try:
        number = _whole("page", 1, 1, 10**6)
    except ValueError:
        number, bad_page = 1, True
    else:
        bad_page = False
    logs = []
    for log in chain.TABLES:
        length, head_hash = chain.head(log)
        logs.append({"log": log, "length": length, "head": head_hash,
                     "archived_to": chain.start_of(log)[0]})
    total = int(model.Session.execute(sa.select(sa.func.count()).select_from(ct)).scalar_one())
    rows = checkpoints.listing(newest_first=True, limit=PER_PAGE,
                               offset=(number - 1) * PER_PAGE)
    for row in rows:
        row["time_local"] = clock.format_datetime(row["time"])
    body = tk.render("supervision/checkpoints.html", {
        "logs": logs, "rows": rows, "key": checkpoints.public_key_info(), "total": total,
        "page": number, "pages": max(1, -(-total // PER_PAGE)), "json_path": JSON_PATH,
        "bad_page": bad_page})
    return (body, 400) if bad_page else body


@transparency.route(JSON_PATH)
def as_json() -> Response:
    try:
        since = _whole("since", 0, 0, 2**62)
    except ValueError:
        return _bad("since", 0, 2**62)
    try:
        limit = _whole("limit", 1000, 1, 1000)
    except ValueError:
        return _bad("limit", 1, 1000)
    data = checkpoints.as_json(since=since, limit=limit)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1)
    etag = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
    resp = Response(text, mimetype="application/json")
    resp.set_etag(etag)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    request.environ["sanyi.public_cache"] = MAX_AGE
    return resp.make_conditional(request)


def _public_cache(response: Response) -> Response:
    """Runs after CKAN's own after_request (which makes every answer ``max-age=0``): the
    checkpoints JSON is the same for everyone, so caches may keep it a while."""
    age = request.environ.get("sanyi.public_cache")
    if age:
        response.cache_control.public = True
        response.cache_control.private = False
        response.cache_control.max_age = int(age)
        response.cache_control.must_revalidate = False
        response.vary.discard("Cookie")
    return response


@transparency.record_once
def _install(state: Any) -> None:
    # app-level after_request functions run in reverse order of registration: first in the
    # list runs last, after CKAN's
    state.app.after_request_funcs.setdefault(None, []).insert(0, _public_cache)
