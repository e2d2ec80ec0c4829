"""The operation definitions (schemas/operations.yaml via delivery/operations/spec.py): every
read names a real source and column, lies within its product's source resources, each 三医
product has its operations and the others none; bad definitions are refused at load."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest

from ckanext.sanyi.delivery.datadomain import reference, sources
from ckanext.sanyi.delivery.operations import engine, spec
from ckanext.sanyi.domain import icd10, op_inputs, risk

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "ckanext-sanyi" / "ckanext" / "sanyi" / "data"
YAML = (ROOT / "schemas" / "operations.yaml").read_text(encoding="utf-8")
SANYI = {"智慧核保(核保调查)": ["risk-assessment"], "理赔调查(核赔调查)": ["visit-verification"],
         "慢病线上开处方": ["renewal-eligibility"], "回顾性疗效安全性研究": ["cohort-statistics"],
         "个人健康画像与风险预警": ["health-profile"]}
OUTSIDE = ("普惠金融", "公共交通实时数据", "真实房屋租赁场景")


def _product_sources() -> dict[str, set[str]]:
    with open(DATA / "product-sources.csv", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))[1:]
    return {scenario: set(refs.split(";")) for scenario, refs in rows}


def test_products_are_those_of_the_first_batch():
    with open(DATA / "products-first-batch.csv", encoding="utf-8-sig") as f:
        scenarios = {row["应用场景"] for row in csv.DictReader(f)}
    assert set(spec.PRODUCTS) == scenarios
    assert {p: [o.name for o in ops] for p, ops in spec.PRODUCTS.items() if ops} == SANYI
    for product in OUTSIDE:
        assert spec.PRODUCTS[product] == ()


def test_every_read_names_a_real_source_and_column():
    for op in spec.OPERATIONS.values():
        for read in op.reads:
            source = sources.by_table(read.table)
            assert set(read.columns) <= set(source.columns), (op.name, read.table)


def test_every_read_lies_within_the_products_source_resources():
    product_sources = _product_sources()
    for op in spec.OPERATIONS.values():
        for read in op.reads:
            ref = f"{read.source.unit_title}/{read.source.resource_title}"
            assert ref in product_sources[op.product], (op.name, ref)


def test_what_the_runners_read_is_declared():
    """Each runner's fields_read is a subset of the declared reads (checked in the
    integration tests on real answers); here: every operation has a parser and a runner."""
    assert set(engine.RUNNERS) == set(spec.OPERATIONS) == set(op_inputs.PARSERS)


def test_schemas_are_json_schema_2020_12():
    for op in spec.OPERATIONS.values():
        for schema in (op.input_schema, op.output_schema):
            assert schema["$schema"] == spec.SCHEMA_DIALECT
            jsonschema.Draft202012Validator.check_schema(schema)
        assert op.input_schema["additionalProperties"] is False
        assert op.privacy in spec.PRIVACY_CLASSES


def test_consent():
    assert [o.name for o in spec.OPERATIONS.values() if o.consent_required] == ["risk-assessment"]
    assert "consent_ref" in spec.get("risk-assessment").input_schema["required"]


def test_privacy_classes():
    classes = {o.name: o.privacy for o in spec.OPERATIONS.values()}
    assert classes == {"risk-assessment": "profile", "visit-verification": "verification",
                       "renewal-eligibility": "verification", "cohort-statistics": "aggregate",
                       "health-profile": "profile"}


def test_the_risk_rule_is_documented_where_integrators_read_it():
    desc = spec.get("risk-assessment").output_schema["oneOf"][1]["properties"]["risk_level"][
        "description"]
    assert desc == f"{risk.RULE_ZH} / {risk.RULE_EN}"


def test_the_major_disease_list_agrees_with_the_generator():
    assert {c for c in reference.MAJOR_DISEASE_PREFIXES} == {
        f"{r.first[0]}{n:02d}" for r in icd10.MAJOR_DISEASES
        for n in range(int(r.first[1:]), int(r.last[1:]) + 1)}


def test_a_published_count_is_never_between_1_and_10():
    validator = spec.get("cohort-statistics").output_validator
    answer = {"drug": "x", "date_from": "2025-01-01", "date_to": "2025-12-31", "group_by": [],
              "threshold": 11, "withheld": False, "cells": [{"users": 0, "adverse_events": 0}]}
    for good in (0, 11, 500, "<11", "suppressed"):
        answer["cells"][0]["users"] = good
        assert validator.is_valid(answer), good
    for bad in (1, 5, 10, -1, "9", 3.5, True):
        answer["cells"][0]["users"] = bad
        assert not validator.is_valid(answer), bad


def test_operations_of_a_product():
    assert [o.name for o in spec.operations_of("慢病线上开处方")] == ["renewal-eligibility"]
    assert spec.operations_of({"scenario": "回顾性疗效安全性研究"})[0].name == "cohort-statistics"
    assert spec.operations_of({"title": "普惠金融"}) == ()
    assert spec.operations_of({"scenario": "不存在"}) == ()
    assert spec.get("risk-assessment").product == "智慧核保(核保调查)"
    assert spec.get("nope") is None and spec.get(None) is None  # type: ignore[arg-type]


def test_an_operation_is_resolved_within_its_product():
    assert engine.resolve("智慧核保(核保调查)", "risk-assessment").name == "risk-assessment"
    with pytest.raises(engine.UnknownOperation) as err:
        engine.resolve("慢病线上开处方", "risk-assessment")
    assert err.value.code == "unknown_operation" and err.value.zh and err.value.en


def _broken(old: str, new: str) -> str:
    assert old in YAML
    return YAML.replace(old, new, 1)


@pytest.mark.parametrize("old, new, message", [
    ("{source: discharges, columns: [id_number, diagnosis_code]}",
     "{source: nowhere, columns: [id_number]}", "unknown source table"),
    ("{source: discharges, columns: [id_number, diagnosis_code]}",
     "{source: discharges, columns: [id_number, shoe_size]}", "no column"),
    ("privacy: aggregate", "privacy: secret", "unknown privacy class"),
    ("      consent_required: false\n      reads:\n      - {source: persons, columns: [id_number]}\n"
     "      - {source: outpatient_visits",
     "      consent_required: true\n      reads:\n      - {source: persons, columns: [id_number]}\n"
     "      - {source: outpatient_visits", "consent_ref must be a required input"),
    ("- name: health-profile", "- name: risk-assessment", "no input parser|used twice"),
    ("version: 1", "version: 2", "version 1"),
    ("            type: integer\n              minimum: 0",
     "            type: integr\n              minimum: 0", "not a valid JSON Schema"),
])
def test_bad_definitions_are_refused(old, new, message):
    with pytest.raises(spec.SpecError, match=message):
        spec.load(_broken(old, new))


def test_an_input_accepting_unknown_fields_is_refused():
    text = _broken("      input:\n        type: object\n        additionalProperties: false\n"
                   "        required: [id_number, consent_ref]",
                   "      input:\n        type: object\n"
                   "        required: [id_number, consent_ref]")
    with pytest.raises(spec.SpecError, match="refusing unknown fields"):
        spec.load(text)


def test_schemas_are_plain_json():
    for op in spec.OPERATIONS.values():
        assert json.loads(json.dumps(op.input_schema)) == op.input_schema
