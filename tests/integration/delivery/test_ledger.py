"""The data-flow ledger (delivery/ledger.py): append-only in the database, retention of at
least three years (database and configuration), the input only as a keyed hash, usage per
entitlement per day in Beijing time."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.exceptions import CkanConfigurationException
from ckan.plugins import toolkit as tk
from quota_calls import entitlement

from ckanext.sanyi import devtools
from ckanext.sanyi.delivery import ledger, ledger_query, settings
from ckanext.sanyi.delivery.model import ledger_table

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")

ID_NUMBER = "420802195803124021"
UTC = dt.timezone.utc


def _row(**extra) -> int:
    values = dict(request_id="req-1", outcome="granted", product="smart-underwriting",
                  operation="risk-assessment", units=1, payload={"id_number": ID_NUMBER},
                  fields_read=["hypertension:患者编号"])
    values.update(extra)
    row_id = ledger.record(**values)
    model.Session.commit()
    return row_id


def _refused(sql: str, **params) -> str:
    with pytest.raises(sa.exc.DBAPIError) as err:
        model.Session.execute(sa.text(sql), params)
    model.Session.rollback()
    return str(err.value.orig)


def test_the_database_refuses_update_and_delete_of_a_ledger_row():
    row_id = _row()
    assert "append-only: UPDATE refused" in _refused(
        "UPDATE sanyi_ledger SET outcome = 'refused', error = 'x' WHERE id = :i", i=row_id)
    assert "younger than the 3-year retention" in _refused(
        "DELETE FROM sanyi_ledger WHERE id = :i", i=row_id)
    old = _row(at=dt.datetime.now(UTC) - dt.timedelta(days=3 * 365 - 10))  # not 3 years yet
    assert "DELETE refused" in _refused("DELETE FROM sanyi_ledger WHERE id = :i", i=old)
    assert model.Session.execute(sa.text("SELECT count(*) FROM sanyi_ledger")).scalar() == 2


def test_rows_older_than_the_retention_period_may_be_deleted():
    recent = _row()
    four = _row(at=dt.datetime.now(UTC) - dt.timedelta(days=4 * 366))
    assert model.Session.execute(sa.text("DELETE FROM sanyi_ledger WHERE id = :i"),
                                 {"i": four}).rowcount == 1
    model.Session.commit()
    six = _row(at=dt.datetime.now(UTC) - dt.timedelta(days=6 * 366))
    four = _row(at=dt.datetime.now(UTC) - dt.timedelta(days=4 * 366))
    tk.config["ckanext.sanyi.ledger.retention_years"] = "5"
    try:
        assert ledger.purge() == 1  # the six-year-old row only
    finally:
        tk.config["ckanext.sanyi.ledger.retention_years"] = "3"
    model.Session.commit()
    left = set(model.Session.execute(sa.select(ledger_table.c.id)).scalars())
    assert left == {recent, four} and six not in left
    assert ledger.purge() == 1 and ledger.purge() == 0
    model.Session.commit()


def test_a_retention_under_three_years_is_refused():
    for bad in ("2", "0", "-5", "three", "2.5"):
        with pytest.raises(CkanConfigurationException, match="retention_years"):
            settings.check({"ckanext.sanyi.ledger.retention_years": bad})
    settings.check({"ckanext.sanyi.ledger.retention_years": "3"})
    settings.check({"ckanext.sanyi.ledger.retention_years": 10})
    with pytest.raises(CkanConfigurationException, match="rate_limit"):
        settings.check({"ckanext.sanyi.delivery.rate_limit": "fast"})


def test_ckan_does_not_start_with_a_retention_under_three_years(tmp_path):
    ini = devtools.write_ini(str(tmp_path / "short.ini"),
                             os.environ.get("CKAN_INI") or tk.config["__file__"],
                             {"ckanext.sanyi.ledger.retention_years": "2"})
    ckan = os.path.join(os.path.dirname(sys.executable), "ckan")
    result = subprocess.run([ckan, "-c", ini, "sanyi", "--help"], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    assert "ckanext.sanyi.ledger.retention_years: the data-flow ledger (数据流转台账) must be " \
           "kept at least 3 years, not 2" in result.stdout + result.stderr


def test_the_input_is_kept_only_as_a_keyed_hash():
    payload = {"id_number": ID_NUMBER, "purpose": "核保"}
    row_id = _row(payload=payload)
    row = model.Session.execute(sa.select(ledger_table).where(ledger_table.c.id == row_id)) \
        .mappings().one()
    stored = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
    assert ID_NUMBER not in stored and ID_NUMBER[6:14] not in stored
    digest = row["input_hash"]
    assert len(digest) == 64 and digest == ledger.input_hash({"purpose": "核保",
                                                               "id_number": ID_NUMBER})
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert digest != hashlib.sha256(canonical.encode()).hexdigest()  # keyed: not guessable
    assert digest != ledger.input_hash({"id_number": "420804197206152317", "purpose": "核保"})
    assert ledger.input_hash(b"not json") != ledger.input_hash("not json")


def test_a_row_names_what_the_call_read_and_refusals_carry_their_code():
    ent = entitlement(5)
    _row(entitlement_id=ent["id"], fields_read=["hypertension:患者编号", "insured:参保状态",
                                                "hypertension:随访日期"])
    _row(request_id="req-2", entitlement_id=ent["id"], outcome="refused",
         error="data_items_exceeded", units=3, fields_read=[])
    with pytest.raises(ValueError):
        ledger.record(request_id="r", outcome="refused")  # a refusal needs its code
    out = ledger_query.rows(ledger_query.Scope(everything=True), {"entitlement_id": ent["id"]})
    assert out["count"] == 2
    refused, granted = out["results"]
    assert (refused["outcome"], refused["error"], refused["units"]) == \
        ("refused", "data_items_exceeded", 0)
    assert granted["fields_read"][1] == "insured:参保状态" and granted["error"] is None
    assert model.Session.execute(sa.select(ledger_table.c.resources)
                                 .where(ledger_table.c.outcome == "granted")).scalar() == \
        ["hypertension", "insured"]


def test_usage_per_day_counts_beijing_days():
    ent = entitlement(100)
    late = dt.datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # 2026-12-01 23:30 Asia/Shanghai
    early = dt.datetime(2026, 12, 1, 16, 30, tzinfo=UTC)  # 2026-12-02 00:30 Asia/Shanghai
    _row(entitlement_id=ent["id"], at=late)
    _row(entitlement_id=ent["id"], at=early, request_id="req-2")
    _row(entitlement_id=ent["id"], at=early, request_id="req-3", outcome="refused",
         error="quota_exhausted")
    _row(entitlement_id=ent["id"], at=dt.datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # 11-30
    usage = ledger_query.usage_daily(ledger_query.Scope(everything=True),
                                     {"entitlement_id": ent["id"], "date_from": "2026-12-01",
                                      "date_to": "2026-12-02"})
    assert usage["timezone"] == "Asia/Shanghai"
    assert [(r["day"], r["granted"], r["refused"], r["units"]) for r in usage["results"]] == [
        ("2026-12-01", 1, 0, 1), ("2026-12-02", 1, 1, 1)]
    listed = ledger_query.rows(ledger_query.Scope(everything=True),
                               {"date_from": "2026-12-02", "date_to": "2026-12-02"})
    assert {r["request_id"] for r in listed["results"]} == {"req-2", "req-3"}
    assert listed["results"][0]["at_local"] == "2026-12-02 00:30"


def test_bad_filters_are_refused_naming_the_field():
    scope = ledger_query.Scope(everything=True)
    for data, field in (({"outcome": "maybe"}, "outcome"), ({"date_from": "12/01/2026"}, "date_from"),
                        ({"date_from": "2026-12-02", "date_to": "2026-12-01"}, "date_to"),
                        ({"entitlement_id": ["x"]}, "entitlement_id"),
                        ({"product": "a\x00b"}, "product"), ({"limit": -1}, "limit"),
                        ({"offset": 10**7}, "offset")):
        with pytest.raises(tk.ValidationError) as err:
            ledger_query.rows(scope, data)
        assert field in err.value.error_dict
    with pytest.raises(tk.ValidationError):
        ledger_query.usage_daily(scope, {"date_from": "2024-01-01", "date_to": "2026-01-01"})
