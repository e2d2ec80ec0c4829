import pytest
from ckan.tests import helpers


@pytest.mark.usefixtures("with_plugins")
def test_catalog_resource_is_searchable_in_chinese(sanyi_orgs):
    org = sanyi_orgs["orgs"]["wj"]
    helpers.call_action("package_create", context={"user": "wj_editor"},
                        name="hypertension", title="高血压患者健康管理数据", owner_org=org["id"],
                        domain="health", delivery_methods=["api", "file"],
                        update_cycle="monthly", grade_level="L3", open_attribute="authorized",
                        last_updated="2026-01-05")
    result = helpers.call_action("package_search", q="高血压")
    assert [r["name"] for r in result["results"]] == ["hypertension"]
    assert result["results"][0]["next_due"] == "2026-02-05"
