"""The product operations as data: ``schemas/operations.yaml`` loaded into frozen dataclasses
at import, and checked then — an unknown source or column, a privacy class not declared, a
schema that is not valid JSON Schema 2020-12, an input that does not refuse unknown fields, a
consent-requiring operation without a required ``consent_ref``, a name used twice or without
a parser: the import fails and says which.

Products are keyed by their 应用场景 (scenario) title. :func:`operations_of` also accepts a
product's package dict or its catalog name (``p-…``), whose scenario it reads from CKAN (one
query, remembered for a minute).
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from importlib import resources as importlib_resources
from typing import Any, Callable

import fastjsonschema
import jsonschema
import yaml

from ...domain import op_inputs
from ..datadomain import sources

__all__ = ["Read", "Operation", "PrivacyClass", "PRODUCTS", "OPERATIONS", "PRIVACY_CLASSES",
           "get", "operations_of", "scenario_of", "load", "SpecError"]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class SpecError(ValueError):
    """The operation definitions are wrong (raised at import)."""


@dataclass(frozen=True)
class Read:
    """Columns of one source table an operation reads."""
    table: str
    columns: tuple[str, ...]

    @property
    def source(self) -> sources.Source:
        return sources.by_table(self.table)

    def fields(self) -> tuple[sources.Field, ...]:
        return tuple(self.source.field(c) for c in self.columns)


@dataclass(frozen=True)
class PrivacyClass:
    name: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str


@dataclass(frozen=True)
class Operation:
    product: str            # the product's scenario title
    name: str
    title_zh: str
    title_en: str
    description_zh: str
    description_en: str
    privacy: str
    consent_required: bool
    reads: tuple[Read, ...]
    input_json: str         # the schemas as JSON text (so the dataclass stays frozen)
    output_json: str

    @property
    def input_schema(self) -> dict[str, Any]:
        """A fresh copy of the input JSON Schema (with ``$schema``)."""
        return json.loads(self.input_json)

    @property
    def output_schema(self) -> dict[str, Any]:
        return json.loads(self.output_json)

    @cached_property
    def input_validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(
            self.input_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    @cached_property
    def output_validator(self) -> jsonschema.Draft202012Validator:
        return jsonschema.Draft202012Validator(
            self.output_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)

    @cached_property
    def output_fast(self) -> Callable[[Any], Any] | None:
        """The output schema compiled to Python (:func:`fast_check`), or ``None``."""
        return fast_check(self.output_schema)

    def output_errors(self, result: Any) -> list[jsonschema.ValidationError]:
        """The output schema's errors for ``result``, sorted; empty when it conforms. A
        conforming answer is recognised by the compiled check; anything it refuses is judged
        (and described) by the 2020-12 validator itself."""
        fast = self.output_fast
        if fast is not None:
            try:
                fast(result)
                return []
            except Exception:  # noqa: BLE001 - refused or not understood: the full check decides
                pass
        return sorted(self.output_validator.iter_errors(result), key=str)

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column read, as ``table.column``."""
        return tuple(f"{r.table}.{c}" for r in self.reads for c in r.columns)


# keywords that mean the same in JSON Schema draft-07 (what fastjsonschema compiles) as in
# 2020-12 (what the operations are written in); "format" is checked by jsonschema's own checker
FAST_KEYWORDS = frozenset({
    "$schema", "$comment", "title", "description", "type", "enum", "const", "properties",
    "required", "additionalProperties", "items", "minItems", "maxItems", "uniqueItems",
    "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "multipleOf", "oneOf", "anyOf", "allOf", "not", "format"})


def _keywords(node: Any) -> set[str]:
    """Every keyword used in the schema ``node`` (property names are not keywords)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add("items[]" if key == "items" and isinstance(value, list) else key)
            if key == "properties" and isinstance(value, dict):
                for sub in value.values():
                    found |= _keywords(sub)
            elif key not in ("enum", "const"):
                found |= _keywords(value)
    elif isinstance(node, list):
        for item in node:
            found |= _keywords(item)
    return found


def fast_check(schema: dict[str, Any]) -> Callable[[Any], Any] | None:
    """``schema`` compiled by fastjsonschema (a function raising
    ``fastjsonschema.JsonSchemaException`` for a non-conforming instance, some 50 times
    faster than walking the schema), when it uses only :data:`FAST_KEYWORDS` and nothing
    whose meaning differs between the drafts; else ``None``. Formats are decided by the
    2020-12 validator's format checker, and defaults are never filled in."""
    if not _keywords(schema) <= FAST_KEYWORDS:
        return None
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    formats = {name: (lambda value, name=name: checker.conforms(value, name))
               for name in checker.checkers}
    body = {k: v for k, v in schema.items() if k != "$schema"}
    return fastjsonschema.compile(body, formats=formats, use_default=False)


def _text(node: Any, where: str, key: str) -> tuple[str, str]:
    value = node.get(key) if isinstance(node, Mapping) else None
    if not isinstance(value, Mapping) or not all(isinstance(value.get(k), str) and value[k].strip()
                                                 for k in ("zh", "en")):
        raise SpecError(f"{where}: {key} needs zh and en texts")
    return value["zh"].strip(), " ".join(value["en"].split())


def _schema(node: Any, where: str) -> str:
    if not isinstance(node, Mapping):
        raise SpecError(f"{where}: a JSON Schema object is required")
    schema = {"$schema": SCHEMA_DIALECT, **node}
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as err:
        raise SpecError(f"{where}: not a valid JSON Schema 2020-12: {err.message}") from None
    return json.dumps(schema, ensure_ascii=False)  # properties keep the YAML's order


def _reads(node: Any, where: str) -> tuple[Read, ...]:
    if not isinstance(node, list) or not node:
        raise SpecError(f"{where}: reads must list at least one source")
    out: list[Read] = []
    for item in node:
        table, columns = (item or {}).get("source"), (item or {}).get("columns")
        try:
            source = sources.by_table(str(table))
        except KeyError:
            raise SpecError(f"{where}: unknown source table {table!r}") from None
        if not isinstance(columns, list) or not columns:
            raise SpecError(f"{where}: {table}: columns must be a non-empty list")
        for c in columns:
            if c not in source.columns:
                raise SpecError(f"{where}: {table} has no column {c!r}")
        if len(set(columns)) != len(columns) or any(r.table == table for r in out):
            raise SpecError(f"{where}: {table} read twice")
        out.append(Read(str(table), tuple(columns)))
    return tuple(out)


def _operation(product: str, node: Any, classes: Mapping[str, PrivacyClass]) -> Operation:
    name = node.get("name") if isinstance(node, Mapping) else None
    where = f"{product} / {name}"
    if not isinstance(name, str) or not name.replace("-", "").isalnum() or name != name.lower():
        raise SpecError(f"{where}: a name of lower-case letters, digits and hyphens is required")
    if name not in op_inputs.PARSERS:
        raise SpecError(f"{where}: no input parser for this operation")
    privacy = node.get("privacy")
    if privacy not in classes:
        raise SpecError(f"{where}: unknown privacy class {privacy!r}")
    consent = node.get("consent_required")
    if not isinstance(consent, bool):
        raise SpecError(f"{where}: consent_required must be true or false")
    input_json = _schema(node.get("input"), f"{where} input")
    inp = json.loads(input_json)
    if inp.get("type") != "object" or inp.get("additionalProperties") is not False:
        raise SpecError(f"{where}: the input must be an object refusing unknown fields")
    if consent and "consent_ref" not in (inp.get("required") or []):
        raise SpecError(f"{where}: consent is required, so consent_ref must be a required input")
    title, desc = _text(node, where, "title"), _text(node, where, "description")
    return Operation(product, name, title[0], title[1], desc[0], desc[1], privacy, consent,
                     _reads(node.get("reads"), where), input_json,
                     _schema(node.get("output"), f"{where} output"))


def load(text: str) -> tuple[dict[str, tuple[Operation, ...]], dict[str, PrivacyClass]]:
    """Parse and check the definitions (raises :class:`SpecError`)."""
    data = yaml.safe_load(text)
    if not isinstance(data, Mapping) or data.get("version") != 1:
        raise SpecError("operations.yaml: version 1 expected")
    classes: dict[str, PrivacyClass] = {}
    for key, node in (data.get("privacy_classes") or {}).items():
        t, d = _text(node, f"privacy class {key}", "title"), \
            _text(node, f"privacy class {key}", "description")
        classes[key] = PrivacyClass(key, t[0], t[1], d[0], d[1])
    products: dict[str, tuple[Operation, ...]] = {}
    seen: set[str] = set()
    for product, node in (data.get("products") or {}).items():
        ops = tuple(_operation(product, op, classes)
                    for op in ((node or {}).get("operations") or []))
        for op in ops:
            if op.name in seen:
                raise SpecError(f"{product} / {op.name}: the name is used twice")
            seen.add(op.name)
        products[product] = ops
    return products, classes


def _load_packaged() -> tuple[dict[str, tuple[Operation, ...]], dict[str, PrivacyClass]]:
    text = importlib_resources.files("ckanext.sanyi.schemas").joinpath(
        "operations.yaml").read_text(encoding="utf-8")
    return load(text)


PRODUCTS, PRIVACY_CLASSES = _load_packaged()
OPERATIONS: dict[str, Operation] = {op.name: op for ops in PRODUCTS.values() for op in ops}


def get(name: str) -> Operation | None:
    """The operation of that name, if any."""
    return OPERATIONS.get(name) if isinstance(name, str) else None


_cache_lock = threading.Lock()
_scenario_cache: dict[str, tuple[float, str | None]] = {}
_CACHE_SECONDS = 60.0


def _catalog_scenario(name: str) -> str | None:
    """The scenario (else the title) of the active product package named or with id
    ``name`` (one query; CKAN is imported only here). CKAN 2.12 keeps a package's extra
    fields, scheming's ``scenario`` among them, in the ``extras`` JSON column."""
    import ckan.model as model
    import sqlalchemy as sa
    pkg = model.package_table
    row = model.Session.execute(
        sa.select(pkg.c.title, pkg.c.extras)
        .where(sa.or_(pkg.c.name == name, pkg.c.id == name), pkg.c.type == "product",
               pkg.c.state == "active")).first()
    if row is None:
        return None
    extras = row[1] if isinstance(row[1], dict) else {}
    scenario = extras.get("scenario")
    return (scenario if isinstance(scenario, str) and scenario.strip() else row[0] or "").strip() \
        or None


def scenario_of(product: str | Mapping[str, Any]) -> str | None:
    """The scenario key of ``product``: a scenario title itself, a package dict (its
    ``scenario``, else its title), or a catalog name or id."""
    if isinstance(product, Mapping):
        for key in ("scenario", "title"):
            value = product.get(key)
            if isinstance(value, str) and value.strip() in PRODUCTS:
                return value.strip()
        return None
    if not isinstance(product, str) or not product or len(product) > 200:
        return None
    if product in PRODUCTS:
        return product
    now = time.monotonic()
    with _cache_lock:
        hit = _scenario_cache.get(product)
    if hit is not None and now - hit[0] < _CACHE_SECONDS:
        return hit[1]
    found = _catalog_scenario(product)
    scenario = found if found in PRODUCTS else None
    with _cache_lock:
        _scenario_cache[product] = (now, scenario)
    return scenario


def operations_of(product: str | Mapping[str, Any]) -> tuple[Operation, ...]:
    """The operations of a product (none for a product without any, or unknown)."""
    scenario = scenario_of(product)
    return PRODUCTS.get(scenario, ()) if scenario else ()
