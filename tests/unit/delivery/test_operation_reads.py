"""最小必要: check_reads against approved data items, with the catalog resources given (no
CKAN): every read item needed, a resource-level item covering its fields, a source missing
from the catalog making the operation unavailable."""
from __future__ import annotations

import pytest

from ckanext.sanyi.delivery.datadomain import sources
from ckanext.sanyi.delivery.operations import engine, spec
from ckanext.sanyi.delivery.operations.errors import DataItemsExceeded, OperationUnavailable

RESOURCES = {s.table: {"id": f"id-{s.table}", "name": f"r-{s.table}", "title": s.resource_title,
                       "unit": "u", "unit_title": s.unit_title} for s in sources.SOURCES}


def test_required_items_name_resource_and_chinese_field():
    items = engine.required_items("renewal-eligibility", RESOURCES)
    assert items == {"r-persons:身份证号", "r-chronic_registrations:身份证号",
                     "r-chronic_registrations:慢病编码", "r-chronic_registrations:慢病名称",
                     "r-chronic_registrations:管理状态", "r-outpatient_visits:身份证号",
                     "r-outpatient_visits:就诊日期", "r-outpatient_visits:诊断编码",
                     "r-prescriptions:身份证号", "r-prescriptions:开方日期",
                     "r-prescriptions:慢病处方标志"}


@pytest.mark.parametrize("name", sorted(spec.OPERATIONS))
def test_every_item_is_needed(name):
    needed = engine.required_items(name, RESOURCES)
    engine.check_reads(name, sorted(needed), resources=RESOURCES)
    engine.check_reads(name, sorted(needed) + ["r-other:x"], resources=RESOURCES)
    for item in needed:
        with pytest.raises(DataItemsExceeded) as err:
            engine.check_reads(name, sorted(needed - {item}), resources=RESOURCES)
        assert err.value.missing == (item,) and err.value.code == "data_items_exceeded"
        assert err.value.status == 403 and err.value.field == "data_items"


def test_a_resource_item_covers_its_fields():
    engine.check_reads("health-profile", ["r-persons", "r-chronic_registrations", "r-exams"],
                       resources=RESOURCES)
    with pytest.raises(DataItemsExceeded) as err:
        engine.check_reads("health-profile", ["r-persons", "r-exams"], resources=RESOURCES)
    assert {i.split(":")[0] for i in err.value.missing} == {"r-chronic_registrations"}


def test_nothing_approved_nothing_read():
    with pytest.raises(DataItemsExceeded):
        engine.check_reads("risk-assessment", [], resources=RESOURCES)
    with pytest.raises(DataItemsExceeded):
        engine.check_reads("risk-assessment", [None, 3], resources=RESOURCES)  # type: ignore


def test_a_source_missing_from_the_catalog():
    partial = {k: v for k, v in RESOURCES.items() if k != "exams"}
    with pytest.raises(OperationUnavailable) as err:
        engine.required_items("health-profile", partial)
    assert err.value.code == "operation_unavailable" and "体检明细数据" in err.value.zh
