"""Bad input to applications: each bad field is named with a Chinese and an English message,
all at once, and nothing is half-written (no row, no audit record, no file)."""
from __future__ import annotations

import datetime as dt
import io
import os

import pytest
from applications_support import (
    TODAY,
    app_data,
    bilingual,
    call_as,
    create,
    snapshot,
    to_status,
)
from ckan.plugins import toolkit as tk
from dateutil.relativedelta import relativedelta
from werkzeug.datastructures import FileStorage

pytestmark = pytest.mark.usefixtures("with_plugins")
START = TODAY + dt.timedelta(days=10)


@pytest.fixture
def storage(ckan_config, monkeypatch, tmp_path):
    monkeypatch.setitem(ckan_config, "ckan.storage_path", str(tmp_path))
    return tmp_path


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, fs in os.walk(root) for f in fs)


def refused_create(field: str, **overrides) -> str:
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        create(**overrides)
    assert snapshot() == before
    return bilingual(err.value, field)


BAD = [
    ({"product": "no-such-product"}, "product", "未找到该产品"),
    ({"product": "not-listed"}, "product", "未找到该产品"),  # as a missing one
    ({"product": "hypertension"}, "product", "未找到该产品"),  # a catalog resource
    ({"data_items": ["hypertension:身份证号"]}, "data_items", "hypertension:身份证号"),
    ({"data_items": ["drugs"]}, "data_items", "最小必要"),  # another product's resource
    ({"data_items": ["insured:参保号"]}, "data_items", "insured:参保号"),  # insured is whole
    ({"data_items": []}, "data_items", "至少一项"),
    ({"data_items": "not json ["}, "data_items", "最小必要"),
    ({"use": "commercial"}, "use", "未知的用途类别"),
    ({"use": ""}, "use", "必填"),
    ({"scenario": "   "}, "scenario", "应用场景为必填项"),
    ({"purpose": None}, "purpose", "使用目的为必填项"),
    ({"expected_volume": 0}, "expected_volume", "正整数"),
    ({"expected_volume": -5}, "expected_volume", "正整数"),
    ({"expected_volume": "abc"}, "expected_volume", "正整数"),
    ({"expected_volume": 1.5}, "expected_volume", "正整数"),
    ({"expected_volume": True}, "expected_volume", "正整数"),
    ({"billing_unit": "hour"}, "billing_unit", "未知的计费单位"),
    ({"quantity": "0"}, "quantity", "正整数"),
    ({"period_start": "2026-02-30"}, "period_start", "YYYY-MM-DD"),
    ({"period_start": "tomorrow"}, "period_start", "YYYY-MM-DD"),
    ({"period_start": (TODAY - dt.timedelta(days=1)).isoformat()}, "period_start", "不能早于今天"),
    ({"period_end": (TODAY - dt.timedelta(days=1)).isoformat()}, "period_end", "不能早于开始日期"),
    ({"period_start": START.isoformat(),
      "period_end": (START + relativedelta(years=5)).isoformat()}, "period_end", "最长授权期限 5 年"),
    ({"period_end": (TODAY + relativedelta(years=7)).isoformat()}, "period_end", "maximum term of 5"),
    ({"attachment_urls": ["ftp://example.com/a.pdf"]}, "attachment_urls", "附件链接无效"),
]


@pytest.mark.parametrize("change, field, text", BAD,
                         ids=[f"{f}={list(c.values())[0]!r}"[:60] for c, f, _ in BAD])
def test_bad_field_is_named_in_both_languages(world, change, field, text):
    assert text in refused_create(field, **change)


def test_every_bad_field_at_once(world):
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        create(use="x", scenario="", data_items=["x"], expected_volume=0,
               period_end="2020-01-01", billing_unit="hour")
    assert set(err.value.error_dict) == {"use", "scenario", "data_items", "expected_volume",
                                         "period_end", "billing_unit"}
    assert snapshot() == before


def test_longest_term_is_accepted(world):
    end = START + relativedelta(years=5) - dt.timedelta(days=1)
    app = create(period_start=START.isoformat(), period_end=end.isoformat())
    assert app["period_end"] == end.isoformat()


@pytest.mark.ckan_config("ckanext.sanyi.max_term_years", "3")
def test_maximum_term_is_configurable(world):
    end = START + relativedelta(years=3)
    msg = refused_create("period_end", period_start=START.isoformat(), period_end=end.isoformat())
    assert "3 年" in msg and "3 years" in msg
    assert create(period_start=START.isoformat(),
                  period_end=(end - dt.timedelta(days=1)).isoformat())["status"] == "draft"


def test_defaults_for_billing_unit_and_quantity(world):
    app = create()
    assert (app["billing_unit"], app["quantity"]) == ("call", 15000)  # the product's priced unit
    end = START + relativedelta(years=2) - dt.timedelta(days=1)
    app = create(billing_unit="month", period_start=START.isoformat(), period_end=end.isoformat())
    assert app["quantity"] == 24
    app = create(billing_unit="year", period_start=START.isoformat(),
                 period_end=(START + relativedelta(months=13)).isoformat())
    assert app["quantity"] == 2
    app = create(billing_unit="record", quantity=777)
    assert app["quantity"] == 777
    app = call_as("merchant_user", "sanyi_application_update", id=app["id"], expected_volume=9000)
    assert app["quantity"] == 9000  # the basis changed: the default again
    app = call_as("merchant_user", "sanyi_application_update", id=app["id"], scenario="新场景")
    assert app["quantity"] == 9000 and app["scenario"] == "新场景"


def test_update_refuses_bad_fields_and_a_new_product(world):
    app = create()
    before = snapshot(app["id"])
    with pytest.raises(tk.ValidationError) as err:
        call_as("merchant_user", "sanyi_application_update", id=app["id"], product="health-profile",
                data_items=["drugs"])
    assert set(err.value.error_dict) == {"product", "data_items"}
    bilingual(err.value, "product")
    assert snapshot(app["id"]) == before


def test_attachments_uploaded_and_linked(world, storage):
    upload = FileStorage(io.BytesIO("场景说明".encode()), filename="场景说明.pdf",
                         content_type="application/pdf")
    app = create(attachment_upload=upload, attachment_urls=["https://example.com/plan.docx"])
    names = sorted((a["kind"], a["name"]) for a in app["attachments"])
    assert names == [("file", "场景说明.pdf"), ("url", "plan.docx")]
    stored = _files(storage)
    assert len(stored) == 1 and stored[0].startswith(os.path.join("sanyi", "attachments", app["id"]))
    with open(storage / stored[0], encoding="utf-8") as fh:
        assert fh.read() == "场景说明"
    file_id = next(a["id"] for a in app["attachments"] if a["kind"] == "file")
    app = call_as("merchant_user", "sanyi_application_update", id=app["id"],
                  remove_attachments=[file_id])
    assert [a["kind"] for a in app["attachments"]] == ["url"]
    assert len(_files(storage)) == 1  # removed from the application, never deleted


def test_bad_attachment_writes_nothing(world, storage):
    good = FileStorage(io.BytesIO(b"%PDF-1.4"), filename="ok.pdf")
    bad = FileStorage(io.BytesIO(b"MZ"), filename="tool.exe")
    msg = refused_create("attachment_upload", attachment_upload=[good, bad])
    assert "tool.exe" in msg
    assert _files(storage) == []


def test_rollback_after_a_file_was_written_removes_it(world, storage, monkeypatch):
    from ckanext.sanyi.applications import service
    from ckanext.sanyi.common import audit

    def boom(*args, **kwargs):
        raise RuntimeError("audit down")
    monkeypatch.setattr(service.audit, "record", boom)
    before = snapshot()
    with pytest.raises(RuntimeError):
        create(attachment_upload=FileStorage(io.BytesIO(b"%PDF"), filename="a.pdf"))
    monkeypatch.setattr(service.audit, "record", audit.record)
    assert snapshot() == before and _files(storage) == []


def test_unverified_merchant_drafts_but_cannot_submit(world):
    from applications_support import register_merchant
    from ckan.tests import factories
    factories.User(name="merchant_new")
    merchant = register_merchant("merchant_new", 3, verify=False)
    app = call_as("merchant_new", "sanyi_application_create", **app_data())
    before = snapshot(app["id"])
    with pytest.raises(tk.ValidationError) as err:
        call_as("merchant_new", "sanyi_application_submit", id=app["id"])
    assert "核验" in bilingual(err.value, "status")
    assert snapshot(app["id"]) == before
    call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
    assert call_as("merchant_new", "sanyi_application_submit", id=app["id"])["status"] == "unit_review"


def test_product_without_sources_has_no_items(world):
    from applications_support import _product
    _product("no-sources", "无来源产品", "industrial", ["shi-wei-jian-wei"], [])
    msg = refused_create("data_items", product="no-sources")
    assert "没有可申请的数据项" in msg


def test_resubmission_takes_units_from_the_product_again(world):
    app = to_status("returned")
    assert app["status"] == "returned"
    data = call_as("anonymous", "sanyi_application_data_items", product="chronic-refill")
    values = [o["value"] for o in data["data_items"]]
    assert values == ["hypertension:患者编号", "hypertension:随访日期", "insured"]
    assert [o["sensitive"] for o in data["data_items"]] == [True, False, False]
    assert data["max_term_years"] == 5
