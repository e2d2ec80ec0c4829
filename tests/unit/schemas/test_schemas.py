"""Every scheming YAML loads, and every user-facing text is bilingual (STYLE.md §5).

YAML errors pass silently in scheming (a mis-indented label loads as None), so this loads
each file with ``yaml.safe_load`` and walks every field, subfield, choice and preset.
"""
from __future__ import annotations

import glob
import os
from typing import Any, Iterator

import pytest
import yaml

SCHEMAS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "schemas")
FILES = sorted(glob.glob(os.path.join(SCHEMAS, "*.yaml")))
LANGS = ("en", "zh_Hans_CN")
TEXT_KEYS = ("label", "help_text", "form_placeholder", "repeating_label")
FIELD_LISTS = ("dataset_fields", "resource_fields", "fields", "repeating_subfields")


def _load(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _fields(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every field dict under ``node`` (dataset/resource fields and their subfields)."""
    if not isinstance(node, dict):
        return
    for key in FIELD_LISTS:
        for i, f in enumerate(node.get(key) or []):
            assert isinstance(f, dict), f"{where}.{key}[{i}] is not a mapping: {f!r}"
            name = f"{where}.{key}[{f.get('field_name', i)}]"
            yield name, f
            yield from _fields(f, name)


def _texts(field: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    for key in TEXT_KEYS:
        if key in field:
            yield f"{where}.{key}", field[key]
    for i, choice in enumerate(field.get("choices") or []):
        assert isinstance(choice, dict) and "value" in choice, f"{where}.choices[{i}]: {choice!r}"
        assert "label" in choice, f"{where}.choices[{choice['value']}] has no label"
        yield f"{where}.choices[{choice['value']}].label", choice["label"]


def _problem(text: Any) -> str | None:
    if isinstance(text, str):
        return None if text.strip() else "is an empty string"
    if isinstance(text, dict):
        missing = [lang for lang in LANGS if not isinstance(text.get(lang), str)
                   or not text[lang].strip()]
        return f"lacks {missing}" if missing else None
    return f"is {type(text).__name__} {text!r}, not a str or a dict with {LANGS}"


def test_the_schemas_are_there():
    names = {os.path.basename(p) for p in FILES}
    assert {"catalog.yaml", "product.yaml", "presets.yaml"} <= names


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_schema_loads_as_a_mapping(path):
    data = _load(path)
    assert isinstance(data, dict), f"{path} does not load as a mapping"
    # a stray quote in a key (``about_url"``) loads silently: keys must be plain words
    for key in data:
        assert isinstance(key, str) and key.replace("_", "").isalnum(), f"odd key {key!r}"


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_every_field_has_a_label(path):
    data = _load(path)
    fields = list(_fields(data, os.path.basename(path)))
    if "dataset_type" in data:
        assert fields, f"{path} defines no fields"
    for where, f in fields:
        assert "field_name" in f, f"{where} has no field_name"
        assert "label" in f, f"{where} has no label"


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_every_text_is_a_str_or_has_en_and_zh(path):
    data = _load(path)
    problems = []
    for where, f in _fields(data, os.path.basename(path)):
        for text_where, text in _texts(f, where):
            why = _problem(text)
            if why:
                problems.append(f"{text_where} {why}")
    for i, preset in enumerate(data.get("presets") or []):
        values = preset.get("values") or {}
        for text_where, text in _texts(values, f"presets[{preset.get('preset_name', i)}]"):
            why = _problem(text)
            if why:
                problems.append(f"{text_where} {why}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", FILES, ids=os.path.basename)
def test_choice_values_are_unique(path):
    for where, f in _fields(_load(path), os.path.basename(path)):
        values = [c["value"] for c in f.get("choices") or []]
        assert len(values) == len(set(values)), f"{where} repeats a choice value"


def test_the_checker_catches_a_mis_indented_label():
    """The failure STYLE.md describes: the label's languages at the wrong indentation."""
    bad = yaml.safe_load("""
dataset_fields:
- field_name: tags_translated
  label:
  en: Tags
  zh_Hans_CN: 标签
""")
    (where, f), = list(_fields(bad, "bad"))
    assert f["label"] is None
    assert _problem(f["label"]) is not None
    assert _problem({"en": "Tags"}) is not None
    assert _problem({"en": "Tags", "zh_Hans_CN": "标签"}) is None
