"""The ``sanyi_*`` actions described as OpenAPI 3.1, generated from the registered actions.

:func:`document` answers ``GET /api/sanyi/openapi.json`` and feeds the page
``GET /api/sanyi/docs`` (:func:`docs_context`), so the two never disagree. For each action
registered by the plugin (``plugin._actions``, the functions the Action API calls):

* the path ``/api/3/action/<name>``: ``post`` (JSON body) for every action, ``get`` (query
  string) too for read-only ones (``side_effect_free``), as CKAN's Action API answers them;
* its parameters from the docstring's ``:param`` fields (:mod:`..common.action_params`, the
  same list that refuses any other parameter), each typed by what its name means here
  (``*_fen`` integer 分, dates, limits, codes with the labels accepted for them:
  :mod:`..domain.choice_labels`); ``additionalProperties: false``;
* the 200 answer, CKAN's envelope around the result (``{count, results}`` for list actions),
  described by the ``:returns:`` field, and the refusals the action can answer (400, 403,
  404, 409, 413) with their bodies.

Texts for people carry both languages, Chinese first (:mod:`.texts` for the Chinese titles,
the docstrings for English); ``x-sanyi-text`` holds each apart for the page.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import ckan.plugins.toolkit as tk

from ..common.action_params import ActionDoc, describe
from ..delivery.openapi import OPENAPI_VERSION, schema_rows
from ..domain import choice_labels
from .texts import CONVENTIONS, GROUPS, PARAM_NAMES, TITLES

__all__ = ["document", "docs_context", "actions", "is_list_action", "PREFIX"]

PREFIX = "/api/3/action/"
_ENUM = re.compile(r"^\(?((?:``)?[a-z][a-z0-9_]*(?:``)?(?:\s*\|\s*(?:``)?[a-z][a-z0-9_]*(?:``)?)+)")
_OPTIONAL = re.compile(r"optional|default|required to|only if|\bor$|可选", re.I)
_DATES = {"date", "date_from", "date_to", "today", "effective_from", "period_start",
          "period_end", "received_on"}
_BOOLEANS = {"mine", "queue", "priority_scenario", "industrial_use_allowed", "trial"}
_LISTS = {"data_items", "attachment_urls", "remove_attachments"}
_DECIMALS = {"pct", "warning_pct", "treasury_pct", "operator_share", "merchants_share"}
_POSITIVE = {"quantity", "expected_volume"}
_LABELLED = {"use": "use", "unit": "billing_unit", "billing_unit": "billing_unit",
             "enterprise_size": "enterprise_size", "decision": "decision",
             "outcome": "outcome"}
_LOOKED_UP = {"id", "product", "order_id", "application_id", "entitlement_id", "user",
              "marker", "kind", "client_id"}
ERRORS = {400: "BadRequest", 403: "Forbidden", 404: "NotFound", 409: "ValidationError",
          413: "TooLarge"}


def actions() -> dict[str, Callable[..., Any]]:
    """Every ``sanyi_*`` action the plugin registers, by name."""
    from .. import plugin
    return {n: f for n, f in sorted(plugin._actions().items()) if n.startswith("sanyi_")}


def is_list_action(name: str) -> bool:
    return name.endswith("_list")


def _feature(action: Callable[..., Any]) -> str:
    parts = getattr(action, "__module__", "").split(".")
    return next((p for p in parts if p in GROUPS), "catalog")


def _enum(text: str) -> list[str]:
    match = _ENUM.match(text)
    if not match:
        return []
    return [v.strip().strip("`") for v in match.group(1).split("|")]


def param_schema(name: str, text: str) -> dict[str, Any]:
    """The JSON Schema of a parameter named ``name`` whose docstring text is ``text``."""
    schema: dict[str, Any]
    if name.endswith("_fen"):
        schema = {"type": "integer", "minimum": 0, "x-sanyi-unit": "fen"}
    elif name in ("limit", "offset"):
        schema = {"type": ["integer", "string"], "pattern": r"^\d+$", "minimum": 0}
    elif name in _POSITIVE:
        schema = {"type": "integer", "minimum": 1}
    elif name == "version":
        schema = {"type": ["integer", "string"]}
    elif name == "year":
        schema = {"type": ["integer", "string"], "examples": [2026]}
    elif name in _DATES:
        schema = {"type": "string", "format": "date"}
    elif name == "month":
        schema = {"type": "string", "pattern": r"^\d{4}-\d{2}$", "examples": ["2026-11"]}
    elif name in _BOOLEANS:
        schema = {"type": ["boolean", "string"]}
    elif name in _DECIMALS:
        schema = {"type": ["string", "integer"], "pattern": r"^\d+(\.\d+)?$"}
    elif name in _LISTS:
        schema = {"type": ["array", "string"], "items": {"type": "string"}}
    elif name == "schedule":
        schema = {"type": ["object", "string"], "properties": {
            "unit": {"type": "string"}, "trial": {"type": ["boolean", "string"]},
            "bands": {"type": "array", "items": {"type": "object", "properties": {
                "upto": {"type": ["integer", "null"]}, "price": {"type": "string"}}}}}}
    elif name == "bands":
        schema = {"type": ["array", "string"], "items": {"type": "object"}}
    elif name == "attachment_upload":
        schema = {"type": "string", "format": "binary"}
    else:
        schema = {"type": "string"}
    codes = _enum(text) or (list(choice_labels.labels(_LABELLED[name]))
                            if name in ("use", "unit", "billing_unit", "enterprise_size")
                            else [])
    if codes:
        branches: list[dict[str, Any]] = [{"enum": codes}]
        kind = _LABELLED.get(name)
        if kind:
            accepted = choice_labels.labels(kind)
            names = sorted({label for c in codes for label in accepted.get(c, ())})
            if names:
                branches.append({"enum": names, "description": "中文名称 / label"})
                schema["x-sanyi-labels"] = {c: list(accepted.get(c, ())) for c in codes}
        if "several" in text or "list" in text:
            branches.append({"type": "array", "items": {"enum": codes}})
        schema.pop("type", None)
        schema["anyOf"] = branches
    zh = PARAM_NAMES.get(name, "")
    schema["description"] = f"{zh} / {text}" if zh else text
    return schema


def _required(name: str, text: str, doc: ActionDoc) -> bool:
    if name in ("limit", "offset") or _OPTIONAL.search(text):
        return False
    return "not sent keep their values" not in doc.summary or name == "id"


def _result_schema(doc: ActionDoc) -> dict[str, Any]:
    description = doc.returns or doc.summary
    if is_list_action(doc.name):
        return {"type": "object", "required": ["count", "results"], "description": description,
                "properties": {"count": {"type": "integer", "minimum": 0,
                                         "description": "符合条件的总数 / rows matching"},
                               "results": {"type": "array", "items": {"type": "object"},
                                           "description": "本页条目 / this page"}}}
    return {"type": "object", "description": description}


def _errors_of(name: str, doc: ActionDoc) -> list[int]:
    codes = [400, 403, 409, 413]
    if set(doc.params) & _LOOKED_UP or name in ("sanyi_merchant_show", "sanyi_processor_show"):
        codes.insert(2, 404)
    return codes


def _operation(name: str, action: Callable[..., Any], doc: ActionDoc, method: str,
               params: dict[str, dict[str, Any]], required: list[str]) -> dict[str, Any]:
    zh_title = TITLES.get(name, name)
    op: dict[str, Any] = {
        "operationId": name if method == "post" else f"{name}__get",
        "tags": [_feature(action)],
        "summary": f"{zh_title} / {doc.summary}",
        "description": doc.description or doc.summary,
        "x-sanyi-text": {"zh": {"title": zh_title}, "en": {"title": doc.summary,
                                                          "description": doc.description}},
        "security": [{}, {"ckanToken": []}, {"session": []}],
        "responses": {"200": {"description": "成功 / Success", "content": {"application/json": {
            "schema": {"type": "object", "required": ["success", "result"], "properties": {
                "help": {"type": "string"}, "success": {"const": True},
                "result": _result_schema(doc)}}}}}},
    }
    for status in _errors_of(name, doc):
        op["responses"][str(status)] = {"$ref": f"#/components/responses/{ERRORS[status]}"}
    if method == "get":
        op["parameters"] = [{"name": p, "in": "query", "required": p in required,
                             "schema": schema} for p, schema in params.items()]
        return op
    body = {"type": "object", "additionalProperties": False, "properties": params}
    if required:
        body["required"] = required
    content: dict[str, Any] = {"application/json": {"schema": body}}
    if "attachment_upload" in params:
        content["multipart/form-data"] = {"schema": body}
    op["requestBody"] = {"required": bool(required), "content": content}
    return op


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {"type": "object", "required": ["success", "error"], "properties": {
        "help": {"type": "string"}, "success": {"const": False},
        "error": {"type": "object", "properties": {"__type": {"const": kind}, "message": {
            "type": "string", "description": message}}}}}


def _components() -> dict[str, Any]:
    validation = {"type": "object", "required": ["success", "error"], "properties": {
        "help": {"type": "string"}, "success": {"const": False},
        "error": {"type": "object", "required": ["__type"],
                  "properties": {"__type": {"const": "Validation Error"}},
                  "additionalProperties": {"type": "array", "items": {"type": "string"},
                                           "description": "该字段的错误：“中文 / English” / "
                                                          "this field's errors"}}}}
    bad_request = {"description": "请求体不是 JSON 对象 / The body is not a JSON object",
                   "content": {"application/json": {"schema": {"type": "object"}}}}

    def answer(text: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": schema}}}

    return {
        "responses": {
            "BadRequest": bad_request,
            "Forbidden": answer("未登录、无权限或缺少 CSRF 令牌 / Not logged in, not allowed, "
                                "or no CSRF token", _error_body("Authorization Error",
                                                                "中文 / English")),
            "NotFound": answer("对象不存在或无权查看 / No such object (or not visible)",
                               _error_body("Not Found Error", "中文 / English")),
            "ValidationError": answer("参数错误（含未知参数）或当前状态不允许 / A bad or unknown "
                                      "parameter, or a step the status does not allow",
                                      validation),
            "TooLarge": answer("请求体过大 / Request too large",
                               _error_body("Request Too Large", "中文 / English")),
        },
        "securitySchemes": {
            "ckanToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                          "description": "CKAN API 令牌 / a CKAN API token"},
            "session": {"type": "apiKey", "in": "cookie", "name": "ckan",
                        "description": "登录会话；写操作另需 X-CSRFToken 请求头 / a logged-in "
                                       "session; writes also need the X-CSRFToken header"},
        },
    }


def document(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every ``sanyi_*`` action."""
    base = (base_url if base_url is not None
            else str(tk.config.get("ckan.site_url") or "")).rstrip("/") or "/"
    paths: dict[str, Any] = {}
    for name, action in actions().items():
        doc = describe(name, action)
        params = {p: param_schema(p, text) for p, text in doc.params.items()}
        required = [p for p, text in doc.params.items() if _required(p, text, doc)]
        item = {"post": _operation(name, action, doc, "post", params, required)}
        if getattr(action, "side_effect_free", False):
            item["get"] = _operation(name, action, doc, "get", params, required)
        paths[PREFIX + name] = item
    conventions = {key: {"zh": zh, "en": en} for key, zh, en in CONVENTIONS}
    description = "\n\n".join(f"{zh}\n\n{en}" for _, zh, en in CONVENTIONS)
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {"title": "三医公共数据授权运营平台 操作接口 / Sanyi portal actions",
                 "version": "1", "description": description,
                 "x-sanyi-conventions": conventions},
        "servers": [{"url": base}],
        "tags": [{"name": key, "description": f"{zh} / {en}"}
                 for key, (zh, en) in GROUPS.items()],
        "paths": paths,
        "components": _components(),
    }


# -- the documentation page ---------------------------------------------------------------------
def _rows(body: Mapping[str, Any], zh: bool) -> list[dict[str, Any]]:
    """The parameter table: the English text of each, after its Chinese name on the Chinese
    page."""
    rows = schema_rows(body, False)
    props = body.get("properties") or {}
    for row in rows:
        name = row["name"]
        if zh and PARAM_NAMES.get(name):
            row["description"] = f"{PARAM_NAMES[name]}：{row['description']}"
        labels = (props.get(name) or {}).get("x-sanyi-labels")
        row["labels"] = [f"{code} = {'、'.join(names)}" for code, names in labels.items()
                         if names] if labels else []
        if labels:
            row["type"] = " | ".join(f'"{code}"' for code in labels)
    return rows


def docs_context(doc: Mapping[str, Any], zh: bool) -> dict[str, Any]:
    """What the documentation page shows, read from the OpenAPI document ``doc``."""
    base = str(doc["servers"][0]["url"]).rstrip("/")
    base = "" if base == "/" else base
    groups = []
    for tag in doc["tags"]:
        items = []
        for path, item in doc["paths"].items():
            post = item["post"]
            if tag["name"] not in post["tags"]:
                continue
            text = post["x-sanyi-text"]
            body = post["requestBody"]["content"]["application/json"]["schema"]
            result = post["responses"]["200"]["content"]["application/json"]["schema"][
                "properties"]["result"]
            items.append({
                "name": post["operationId"], "path": path,
                "title": text["zh"]["title"] if zh else text["en"]["title"],
                "subtitle": text["en"]["title"] if zh else "",
                "description": text["en"]["description"],
                "methods": ["POST", "GET"] if "get" in item else ["POST"],
                "params": _rows(body, zh), "returns": result.get("description", ""),
                "list": "count" in (result.get("properties") or {}),
                "errors": [int(s) for s in post["responses"] if s != "200"],
            })
        zh_name, _, en_name = tag["description"].partition(" / ")
        groups.append({"name": tag["name"], "title": zh_name if zh else en_name,
                       "actions": items})
    conventions = [{"key": k, "text": v["zh" if zh else "en"]}
                   for k, v in doc["info"]["x-sanyi-conventions"].items()]
    return {"groups": groups, "conventions": conventions, "base": base, "zh": zh,
            "openapi_url": f"{base}/api/sanyi/openapi.json",
            "count": sum(len(g["actions"]) for g in groups)}
