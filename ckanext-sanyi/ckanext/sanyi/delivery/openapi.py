"""The delivery API described as OpenAPI 3.1, generated from the operation definitions.

:func:`document` answers ``GET /api/delivery/openapi.json`` and feeds the documentation page
(``GET /api/delivery/docs``, :func:`docs_context`), so the two never disagree:

* one path per operation of each product in the catalog
  (``/api/delivery/v1/<product_name>/<operation>``), its request body the operation's input
  JSON Schema (2020-12, as OpenAPI 3.1 takes it), its 200 answer the envelope around the
  operation's output schema, and every refusal the gateway answers (:data:`.gateway.ERRORS`)
  with the error body's schema and the headers (``X-Request-ID``, ``X-RateLimit-*``,
  ``Retry-After``, ``WWW-Authenticate``);
* the OAuth 2.0 client credentials security scheme with its ``tokenUrl`` and the scopes of
  every product and operation (:mod:`..domain.api_scope`);
* the token, revocation and introspection endpoints (RFC 6749 §4.4, RFC 7009, RFC 7662).

Texts meant for people carry both languages: ``summary``/``description`` hold Chinese then
English, and ``x-sanyi-text`` holds each language apart for the page. Schema descriptions of
the definitions are written ``中文 / English``; :func:`split_text` takes them apart.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

import ckan.plugins.toolkit as tk

from . import gateway
from .operations import spec

__all__ = ["document", "docs_context", "split_text", "schema_rows", "example_input",
           "OPENAPI_VERSION"]

OPENAPI_VERSION = "3.1.0"
_HAN = re.compile(r"[\u4e00-\u9fff]")
_SPLIT = re.compile(r"\s*/\s+(?=[A-Za-z\"'(])")
_RESPONSES = {  # status -> component name
    400: "BadRequest", 401: "InvalidToken", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 413: "TooLarge", 429: "TooManyRequests", 500: "ServerError",
    503: "Unavailable"}


def split_text(text: Any) -> tuple[str, str]:
    """``"中文 / English"`` as ``(zh, en)``; a text in one language only is both."""
    text = " ".join(str(text or "").split())
    match = _SPLIT.search(text)
    if match and _HAN.search(text[:match.start()]):
        return text[:match.start()].strip(), text[match.end():].strip()
    return text, text


def _base_url() -> str:
    return str(tk.config.get("ckan.site_url") or "").rstrip("/")


def _component(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(schema))
    out.pop("$schema", None)  # the document's dialect is JSON Schema 2020-12
    return out


def _header(description: str, type_: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": type_}}


def _error_schemas() -> dict[str, Any]:
    message = {"type": "object", "required": ["zh", "en"], "additionalProperties": False,
               "properties": {"zh": {"type": "string"}, "en": {"type": "string"}}}
    error = {
        "type": "object", "title": "错误 / Error",
        "required": ["error", "error_description", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "enum": sorted(gateway.ERRORS),
                      "description": "机器可读的错误代码 / Machine-readable error code"},
            "error_description": {"type": "string", "description": "英文说明 / In English"},
            "message": {**message, "description": "中英文说明 / In Chinese and English"},
            "request_id": {"type": "string", "description": "请求编号 / Request id"},
            "errors": {"type": "array", "description":
                       "invalid_input：每个有误的字段 / invalid_input: each bad field",
                       "items": {"type": "object", "required": ["field", "zh", "en"],
                                 "properties": {"field": {"type": "string"},
                                                "zh": {"type": "string"},
                                                "en": {"type": "string"}}}},
            "missing": {"type": "array", "items": {"type": "string"}, "description":
                        "data_items_exceeded：缺少的数据项 / data_items_exceeded: the data items "
                        "lacking"},
            "usage": {"$ref": "#/components/schemas/Usage"},
        }}
    oauth_error = {
        "type": "object", "title": "OAuth 错误 / OAuth error (RFC 6749 §5.2)",
        "required": ["error", "error_description", "message", "request_id"],
        "properties": {
            "error": {"type": "string", "enum": [
                "invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                "unsupported_grant_type", "invalid_scope", "unsupported_token_type",
                "access_denied", "server_error"]},
            "error_description": {"type": "string"}, "message": message,
            "request_id": {"type": "string"}}}
    usage = {"type": "object", "title": "额度 / Usage", "required": ["quota", "used", "remaining"],
             "additionalProperties": False,
             "properties": {
                 "quota": {"type": ["integer", "null"], "description":
                           "授权额度（按时间计的授权为 null）/ The quota (null for a time quota)"},
                 "used": {"type": "integer", "description": "已用 / Used"},
                 "remaining": {"type": ["integer", "null"], "description": "剩余 / Left"}}}
    return {"Error": error, "OAuthError": oauth_error, "Usage": usage}


def _responses() -> dict[str, Any]:
    rid = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
    rate = {f"X-RateLimit-{k}": {"$ref": f"#/components/headers/X-RateLimit-{k}"}
            for k in ("Limit", "Remaining", "Reset")}
    out: dict[str, Any] = {}
    for status, name in _RESPONSES.items():
        codes = [c for c, (s, _, _) in gateway.ERRORS.items() if s == status]
        if status == 405:
            codes = ["invalid_request"]
        lines = "; ".join(f"`{c}` {gateway.ERRORS[c][1]} / {gateway.ERRORS[c][2]}" for c in codes)
        headers = dict(rid)
        if status == 401:
            headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        if status == 429:
            headers.update(rate)
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == 405:
            headers["Allow"] = _header("POST")
        out[name] = {"description": lines, "headers": headers,
                     "content": {"application/json": {
                         "schema": {"$ref": "#/components/schemas/Error"}}}}
    return out


def _headers() -> dict[str, Any]:
    return {
        "X-Request-ID": _header("请求编号（调用方可在请求头中给出8–64位字母、数字或 ._:-）/ The request id "
                                "(a caller may give one of 8-64 letters, digits or ._:- in the "
                                "request)"),
        "X-RateLimit-Limit": _header("窗口内允许的调用次数 / Calls allowed in the window", "integer"),
        "X-RateLimit-Remaining": _header("窗口内剩余次数 / Calls left in the window", "integer"),
        "X-RateLimit-Reset": _header("距当前窗口结束的秒数 / Seconds until the window ends",
                                     "integer"),
        "Retry-After": _header("多少秒后可重试 / Seconds to wait before trying again", "integer"),
        "WWW-Authenticate": _header(f'Bearer realm="{gateway.REALM}", error="invalid_token"'),
    }


def _scopes(routes: Mapping[str, Mapping[str, gateway.Route]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for product, ops in routes.items():
        title = next(iter(ops.values())).title
        out[product] = f"{title}：全部数据服务 / every operation of the product"
        for name, r in ops.items():
            out[f"{product}:{name}"] = f"{title}：{r.operation.title_zh} / " \
                                       f"{r.operation.title_en} only"
    return out


def _operation(r: gateway.Route, schemas: dict[str, Any]) -> dict[str, Any]:
    op = r.operation
    key = _component(f"{r.product}.{op.name}")
    schemas[f"{key}.input"] = _schema(op.input_schema)
    schemas[f"{key}.output"] = _schema(op.output_schema)
    schemas[f"{key}.answer"] = {
        "type": "object", "title": f"{op.title_zh} 应答 / {op.title_en} answer",
        "required": ["request_id", "product", "operation", "result", "usage"],
        "additionalProperties": False,
        "properties": {"request_id": {"type": "string"}, "product": {"const": r.product},
                       "operation": {"const": op.name},
                       "result": {"$ref": f"#/components/schemas/{key}.output"},
                       "usage": {"$ref": "#/components/schemas/Usage"}}}
    cls = spec.PRIVACY_CLASSES[op.privacy]
    reads = [{"resource_title": read.source.resource_title, "unit_title": read.source.unit_title,
              "fields": [f.zh for f in read.fields()]} for read in op.reads]
    rid = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
    rate = {f"X-RateLimit-{k}": {"$ref": f"#/components/headers/X-RateLimit-{k}"}
            for k in ("Limit", "Remaining", "Reset")}
    responses: dict[str, Any] = {"200": {
        "description": "应答 / The answer",
        "headers": {**rid, **rate},
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{key}.answer"}}}}}
    for status, name in _RESPONSES.items():
        responses[str(status)] = {"$ref": f"#/components/responses/{name}"}
    return {
        "operationId": key, "tags": [r.product],
        "summary": f"{op.title_zh} / {op.title_en}",
        "description": f"{op.description_zh}\n\n{op.description_en}",
        "security": [{"oauth2": [r.product]}, {"oauth2": [f"{r.product}:{op.name}"]}],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{key}.input"},
            "example": example_input(op.input_schema)}}},
        "responses": responses,
        "x-sanyi-text": {"zh": {"title": op.title_zh, "description": op.description_zh},
                         "en": {"title": op.title_en, "description": op.description_en}},
        "x-sanyi-privacy": {"name": cls.name, "zh": cls.title_zh, "en": cls.title_en,
                            "description_zh": cls.description_zh,
                            "description_en": cls.description_en},
        "x-sanyi-consent-required": op.consent_required,
        "x-sanyi-reads": reads,
    }


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": {
        "type": "object", "required": required, "properties": properties}}}}


def _oauth_paths() -> dict[str, Any]:
    oauth_error = {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
    rid = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
    client = {"client_id": {"type": "string", "description":
                            "不用 HTTP Basic 时 / without HTTP Basic"},
              "client_secret": {"type": "string", "description":
                                "不用 HTTP Basic 时 / without HTTP Basic"}}
    basic = {"WWW-Authenticate": _header('Basic realm="sanyi-delivery", charset="UTF-8"')}
    errors = {"400": {"description": "invalid_request, invalid_grant, invalid_scope, "
                                     "unsupported_grant_type, unsupported_token_type",
                      "headers": rid, "content": oauth_error},
              "401": {"description": "invalid_client", "headers": {**rid, **basic},
                      "content": oauth_error},
              "405": {"description": "invalid_request: 只接受 POST / only POST",
                      "headers": rid, "content": oauth_error}}
    token_answer = {"type": "object", "required": ["access_token", "token_type", "expires_in",
                                                   "scope"],
                    "properties": {"access_token": {"type": "string"},
                                   "token_type": {"const": "Bearer"},
                                   "expires_in": {"type": "integer"},
                                   "scope": {"type": "string"}}}
    introspection = {"type": "object", "required": ["active"], "properties": {
        "active": {"type": "boolean"}, "client_id": {"type": "string"},
        "scope": {"type": "string"}, "token_type": {"const": "Bearer"},
        "exp": {"type": "integer"}, "iat": {"type": "integer"},
        "sub": {"type": "string", "description": "授权编号 / The entitlement id"},
        "merchant": {"type": "string"}, "product": {"type": "string"}}}
    client_auth: list[dict[str, list[str]]] = [{"clientBasic": []}, {}]
    return {
        "/api/delivery/oauth/token": {"post": {
            "operationId": "oauth.token", "tags": ["oauth"],
            "summary": "获取访问令牌 / Get an access token (RFC 6749 §4.4)",
            "description": "客户端凭据授权：HTTP Basic（client_id:client_secret）或表单字段，二选一。\n\n"
                           "Client credentials grant: HTTP Basic (client_id:client_secret) or "
                           "the form fields, one of the two.",
            "security": client_auth,
            "requestBody": _form({"grant_type": {"const": "client_credentials"},
                                  "scope": {"type": "string", "description":
                                            "可选，以空格分隔 / optional, space-separated"},
                                  **client}, ["grant_type"]),
            "responses": {"200": {"description": "令牌 / The token", "headers": rid,
                                  "content": {"application/json": {"schema": token_answer}}},
                          **errors}}},
        "/api/delivery/oauth/revoke": {"post": {
            "operationId": "oauth.revoke", "tags": ["oauth"],
            "summary": "撤销访问令牌 / Revoke an access token (RFC 7009)",
            "security": client_auth,
            "requestBody": _form({"token": {"type": "string"},
                                  "token_type_hint": {"type": "string"}, **client}, ["token"]),
            "responses": {"200": {"description": "已撤销或本不存在 / Revoked, or never known",
                                  "headers": rid,
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          **errors}}},
        "/api/delivery/oauth/introspect": {"post": {
            "operationId": "oauth.introspect", "tags": ["oauth"],
            "summary": "查询令牌状态 / Introspect a token (RFC 7662)",
            "description": "仅限数据局和运营机构工作人员（CKAN API 令牌，或登录会话加 CSRF 令牌）。\n\n"
                           "For bureau and operator staff only (a CKAN API token, or a logged-in "
                           "session with the CSRF token).",
            "security": [{"ckanApiToken": []}],
            "requestBody": _form({"token": {"type": "string"}}, ["token"]),
            "responses": {"200": {"description": "令牌状态 / The token's state", "headers": rid,
                                  "content": {"application/json": {"schema": introspection}}},
                          "400": errors["400"],
                          "403": {"description": "access_denied", "headers": rid,
                                  "content": oauth_error}}}},
    }


def document(base_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the delivery API (``base_url``: the portal's address,
    ``ckan.site_url`` by default)."""
    base = (base_url if base_url is not None else _base_url()).rstrip("/")
    routes = {product: ops for product, ops in gateway.routes().items()
              if not next(iter(ops.values())).private}
    schemas = _error_schemas()
    paths: dict[str, Any] = {}
    tags = []
    for product, ops in routes.items():
        first = next(iter(ops.values()))
        tags.append({"name": product, "description": f"{first.title}（{first.scenario}）",
                     "x-sanyi-title": first.title, "x-sanyi-scenario": first.scenario})
        for name, r in ops.items():
            paths[gateway.CALL_PATH.format(product=product, operation=name)] = {
                "post": _operation(r, schemas)}
    tags.append({"name": "oauth", "description": "OAuth 2.0 令牌 / tokens"})
    paths.update(_oauth_paths())
    token_url = f"{base}/api/delivery/oauth/token" if base else "/api/delivery/oauth/token"
    return {
        "openapi": OPENAPI_VERSION,
        "jsonSchemaDialect": spec.SCHEMA_DIALECT,
        "info": {
            "title": "三医数据产品接口 / Sanyi data product API",
            "version": "1.0.0",
            "description": (
                "数据产品的服务在数据域内计算，只返回结果（原始数据不出域）。先用客户端凭据获取访问令牌，"
                "再以 `Authorization: Bearer <令牌>` 调用。每次调用（无论成功与否）都记入数据流转台账。\n\n"
                "The operations of the data products are computed inside the data domain; only "
                "their answers leave it. Get an access token with the client credentials grant, "
                "then call with `Authorization: Bearer <token>`. Every call, answered or "
                "refused, is recorded in the data-flow ledger."),
        },
        "servers": [{"url": base or "/"}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": _responses(),
            "headers": _headers(),
            "securitySchemes": {
                "oauth2": {"type": "oauth2", "description":
                           "OAuth 2.0 客户端凭据 / client credentials (RFC 6749 §4.4)",
                           "flows": {"clientCredentials": {"tokenUrl": token_url,
                                                           "scopes": _scopes(routes)}}},
                "clientBasic": {"type": "http", "scheme": "basic", "description":
                                "client_id:client_secret"},
                "ckanApiToken": {"type": "apiKey", "in": "header", "name": "Authorization",
                                 "description": "CKAN API 令牌 / A CKAN API token"},
            },
        },
        "x-sanyi-error-codes": [
            {"code": code, "status": status, "zh": zh, "en": en}
            for code, (status, zh, en) in gateway.ERRORS.items()],
    }


# -- the documentation page ---------------------------------------------------------------------
def _type(prop: Mapping[str, Any]) -> str:
    if "const" in prop:
        return json.dumps(prop["const"], ensure_ascii=False)
    if prop.get("enum"):
        return " | ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
    branches = prop.get("anyOf") or prop.get("oneOf")
    if branches:
        return " | ".join(_type(p) for p in branches)
    t = prop.get("type")
    if isinstance(t, list):
        t = " | ".join(t)
    if t == "array" and isinstance(prop.get("items"), Mapping):
        return f"array<{_type(prop['items'])}>" if prop["items"].get("type") != "object" \
            else "array<object>"
    text = str(t or "")
    if prop.get("format"):
        text += f" ({prop['format']})"
    return text


def schema_rows(schema: Mapping[str, Any], zh: bool, prefix: str = "") -> list[dict[str, Any]]:
    """Rows of a table describing an object schema: ``{"name", "type", "required",
    "description"}``, the branches of a top-level ``oneOf`` merged, arrays of objects and
    nested objects as ``name[].field`` / ``name.field``."""
    rows: dict[str, dict[str, Any]] = {}
    for branch in schema.get("oneOf") or [schema]:
        required = set(branch.get("required") or [])
        for name, prop in (branch.get("properties") or {}).items():
            key = f"{prefix}{name}"
            desc = split_text(prop.get("description"))[0 if zh else 1] \
                if prop.get("description") else ""
            row = rows.setdefault(key, {"name": key, "type": _type(prop), "required": False,
                                        "description": desc})
            if row["type"] != _type(prop) and _type(prop) not in row["type"]:
                row["type"] += f" | {_type(prop)}"
            row["required"] = row["required"] or name in required
            row["description"] = row["description"] or desc
            inner = prop.get("items") if prop.get("type") == "array" or \
                (isinstance(prop.get("type"), list) and "array" in prop["type"]) else None
            if isinstance(inner, Mapping) and inner.get("properties"):
                for sub in schema_rows(inner, zh, f"{key}[]."):
                    rows.setdefault(sub["name"], sub)
            elif prop.get("properties"):
                for sub in schema_rows(prop, zh, f"{key}."):
                    rows.setdefault(sub["name"], sub)
    return list(rows.values())


def example_input(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An input from the schema's own examples (required properties, then optional ones
    with an example)."""
    props = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name in [*(schema.get("required") or []), *props]:
        prop = props.get(name) or {}
        if name in out:
            continue
        if prop.get("examples"):
            out[name] = prop["examples"][0]
        elif name in (schema.get("required") or []):
            out[name] = prop.get("default", "…")
    return out


def _resolve(doc: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = doc
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _curl(base: str, path: str, example: Mapping[str, Any]) -> str:
    body = json.dumps(example, ensure_ascii=False).replace("'", "'\\''")
    return (f"# 1. 获取访问令牌 / get an access token\n"
            f"curl -s -u \"$CLIENT_ID:$CLIENT_SECRET\" -d grant_type=client_credentials \\\n"
            f"  {base}/api/delivery/oauth/token\n"
            f"# → {{\"access_token\": \"…\", \"token_type\": \"Bearer\", \"expires_in\": 3600, "
            f"\"scope\": \"…\"}}\n"
            f"ACCESS_TOKEN=…\n"
            f"# 2. 调用 / call\n"
            f"curl -s -X POST {base}{path} \\\n"
            f"  -H \"Authorization: Bearer $ACCESS_TOKEN\" \\\n"
            f"  -H 'Content-Type: application/json' \\\n"
            f"  -d '{body}'")


def docs_context(doc: Mapping[str, Any], zh: bool) -> dict[str, Any]:
    """What the documentation page shows, read from the OpenAPI document ``doc``."""
    base = str(doc["servers"][0]["url"]).rstrip("/")
    base = "" if base == "/" else base
    products = []
    for tag in doc["tags"]:
        if tag["name"] == "oauth":
            continue
        operations = []
        for path, item in doc["paths"].items():
            post = item.get("post") or {}
            if tag["name"] not in post.get("tags", ()):
                continue
            text = post["x-sanyi-text"]["zh" if zh else "en"]
            body = post["requestBody"]["content"]["application/json"]
            input_schema = _resolve(doc, body["schema"]["$ref"])
            answer = _resolve(doc, post["responses"]["200"]["content"]["application/json"]
                              ["schema"]["$ref"])
            output_schema = _resolve(doc, answer["properties"]["result"]["$ref"])
            privacy = post["x-sanyi-privacy"]
            operations.append({
                "name": path.rsplit("/", 1)[1], "path": path, "title": text["title"],
                "description": text["description"],
                "privacy": privacy["zh" if zh else "en"],
                "privacy_description": privacy["description_zh" if zh else "description_en"],
                "consent_required": post["x-sanyi-consent-required"],
                "reads": post["x-sanyi-reads"],
                "input": schema_rows(input_schema, zh), "output": schema_rows(output_schema, zh),
                "example": json.dumps(body.get("example") or {}, ensure_ascii=False, indent=2),
                "curl": _curl(base, path, body.get("example") or {}),
                "scopes": [s for req in post["security"] for s in req.get("oauth2", [])],
            })
        products.append({"name": tag["name"], "title": tag.get("x-sanyi-title") or tag["name"],
                         "scenario": tag.get("x-sanyi-scenario"), "operations": operations})
    errors = [{"code": e["code"], "status": e["status"], "message": e["zh"] if zh else e["en"]}
              for e in doc["x-sanyi-error-codes"]]
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    return {"products": products, "errors": errors, "token_url": flows["tokenUrl"],
            "base": base, "zh": zh, "title": doc["info"]["title"],
            "openapi_url": f"{base}/api/delivery/openapi.json"}
