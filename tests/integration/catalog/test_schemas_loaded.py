"""The schemas CKAN actually loaded (scheming, after presets) are ours, bilingual and wired
to the sanyi validators."""
from __future__ import annotations

import pytest

from ckanext.scheming.helpers import scheming_get_dataset_schema

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.mark.parametrize("dataset_type", ["dataset", "product"])
def test_loaded_schema_fields_are_bilingual(dataset_type):
    schema = scheming_get_dataset_schema(dataset_type)
    assert schema is not None, f"scheming did not load the {dataset_type} schema"
    for f in schema["dataset_fields"]:
        label = f["label"]
        assert isinstance(label, dict) and label.get("en") and label.get("zh_Hans_CN"), f
        for c in f.get("choices", []):
            assert c["label"].get("en") and c["label"].get("zh_Hans_CN"), (f["field_name"], c)


def test_presets_put_the_sanyi_validators_in_place():
    fields = {f["field_name"]: f for f in scheming_get_dataset_schema("dataset")["dataset_fields"]}
    assert "sanyi_required" in fields["title"]["validators"]
    assert "sanyi_choice" in fields["update_cycle"]["validators"]
    assert "sanyi_multiple_choice" in fields["delivery_methods"]["validators"]
    assert "sanyi_past_date" in fields["last_updated"]["validators"]
    assert fields["next_due"]["validators"] == "sanyi_next_due"
    product = {f["field_name"]: f
               for f in scheming_get_dataset_schema("product")["dataset_fields"]}
    assert "sanyi_product_status" in product["status"]["validators"]
