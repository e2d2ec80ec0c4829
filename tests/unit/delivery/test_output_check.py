"""The compiled output check (fastjsonschema) decides exactly as the JSON Schema 2020-12
validator does, keyword by keyword, on the values where the drafts and the libraries could
part ways (booleans against numbers, 1.0 against 1, impossible dates, duplicates)."""
from __future__ import annotations

import jsonschema
import pytest

from ckanext.sanyi.delivery.operations import spec

VALUES = [None, True, False, 0, 1, -1, 2.0, 2.5, 1e300, "", "x", "A", "é", "2026-02-30",
          "2026-01-01", "2026-1-1", "２０２６-01-01", [], [1], [1, True], [0, False], [1, 1],
          [1.0, 1], ["a", "a"], ["a", "b"], [[1], [True]], [{"a": 1}, {"a": True}], {},
          {"a": 1}, {"a": True}, {"found": True}, {"found": 1}, "A" * 300]

SCHEMAS = [
    {"uniqueItems": True}, {"const": True}, {"const": 1}, {"const": 0}, {"const": [1]},
    {"enum": [1, "A"]}, {"enum": [True]}, {"enum": [[1]]}, {"type": "integer"},
    {"type": "number"}, {"type": "boolean"}, {"type": "string"}, {"type": "array"},
    {"type": "object"}, {"type": "null"}, {"type": ["integer", "null"]}, {"format": "date"},
    {"minimum": 0}, {"maximum": 1}, {"exclusiveMinimum": 0}, {"multipleOf": 2},
    {"items": {"type": "string"}}, {"maxItems": 1}, {"minItems": 1}, {"maxLength": 2},
    {"minLength": 1}, {"pattern": "^[A-Z]$"}, {"required": ["a"]},
    {"properties": {"a": {"type": "integer"}}},
    {"additionalProperties": False, "properties": {"a": {}}},
    {"oneOf": [{"type": "integer"}, {"minimum": 0}]},
    {"anyOf": [{"type": "string"}, {"const": 1}]}, {"not": {"type": "integer"}},
    {"allOf": [{"type": "integer"}, {"minimum": 1}]},
]


def _fast_accepts(check, value) -> bool:
    try:
        check(value)
    except Exception:  # noqa: BLE001 - any refusal
        return False
    return True


@pytest.mark.parametrize("schema", SCHEMAS, ids=str)
def test_each_keyword_decides_as_the_2020_12_validator(schema):
    check = spec.fast_check(schema)
    assert check is not None
    full = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    for value in VALUES:
        assert _fast_accepts(check, value) == full.is_valid(value), (schema, value)


def test_schemas_it_cannot_vouch_for_are_left_to_the_full_validator():
    assert spec.fast_check({"$ref": "#/$defs/a", "$defs": {"a": {}}}) is None
    assert spec.fast_check({"prefixItems": [{"type": "string"}]}) is None
    assert spec.fast_check({"items": [{"type": "string"}]}) is None  # draft-07 tuple form
    assert spec.fast_check({"not": {"items": [{"type": "string"}]}}) is None
    assert spec.fast_check({"unevaluatedProperties": False}) is None
    # a property merely named like a keyword is not one
    assert spec.fast_check({"properties": {"prefixItems": {"type": "string"}}}) is not None


RISK_OK = {"found": True, "chronic_conditions": ["高血压"], "hospitalizations_3y": 2,
           "major_disease": True, "risk_level": "D"}


@pytest.mark.parametrize("answer, ok", [
    ({"found": False}, True),
    (RISK_OK, True),
    (dict(RISK_OK, risk_level="E"), False),
    (dict(RISK_OK, hospitalizations_3y=-1), False),
    (dict(RISK_OK, hospitalizations_3y=True), False),
    (dict(RISK_OK, chronic_conditions=["高血压", "高血压"]), False),
    (dict(RISK_OK, id_number="420802199001011234"), False),
    ({"found": 1}, False),
    ({"found": False, "risk_level": "A"}, False),
    ([], False),
])
def test_operation_answers_are_checked_by_the_compiled_schema(answer, ok):
    op = spec.get("risk-assessment")
    assert op.output_fast is not None
    errors = op.output_errors(answer)
    assert (not errors) == ok == op.output_validator.is_valid(answer)
    if not ok:  # the refusal is described by the 2020-12 validator's own errors
        assert all(isinstance(e, jsonschema.ValidationError) for e in errors)


def test_every_operation_output_is_compiled():
    assert all(op.output_fast is not None for op in spec.OPERATIONS.values())
