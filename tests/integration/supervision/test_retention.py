"""Retention of the chained logs: rows younger than three years are never removed (the
database refuses, for the audit log as for the ledger); an older whole month (Beijing time)
that starts the chain is archived to a signed file and then deleted, the archive recorded as
a checkpoint so ``verify`` knows where the chain now starts; a month within the configured
retention, out of order, or not the start of the chain is refused; a file changed afterwards
no longer checks; rows removed without an archive are reported."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from chain_support import ledger_rows, run, sql
from chain_support import signing_key as signing_key  # noqa: F401  (fixture)
from ckan import model
from ckan.plugins import toolkit as tk

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import ledger
from ckanext.sanyi.supervision import chain, checkpoints

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")
BJ = dt.timezone(dt.timedelta(hours=8))


def _refused(statement: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as err:
        sql(statement)
    model.Session.rollback()
    return str(err.value.orig)


def test_young_audit_rows_are_never_removed_old_ones_may_be():
    young = audit.record("bureau_user", "sanyi_price_set", "price", "p", commit=True)
    assert "append-only: UPDATE refused" in _refused(
        f"UPDATE sanyi_audit SET actor = 'x' WHERE id = {young}")
    assert "younger than the 3-year retention" in _refused(
        f"DELETE FROM sanyi_audit WHERE id = {young}")
    sql("INSERT INTO sanyi_audit (actor, action, object_type, created) "
        "VALUES ('a', 'b', 'c', clock_timestamp() - interval '3 years 1 day')")
    assert sql("DELETE FROM sanyi_audit WHERE created < now() - interval '3 years'") == 1


def _world() -> None:
    """12 rows in 2022-11 and 5 in 2022-12 (Beijing), then 3 of today."""
    ledger_rows(12, at=dt.datetime(2022, 11, 1, 0, 0, tzinfo=BJ), step=dt.timedelta(days=2))
    ledger_rows(5, at=dt.datetime(2022, 12, 1, 0, 0, tzinfo=BJ), step=dt.timedelta(days=6))
    ledger_rows(3)


@pytest.mark.usefixtures("signing_key")
def test_a_whole_old_month_is_archived_signed_and_removed(tmp_path, app):
    _world()
    out = tmp_path / "ledger-2022-11.jsonl"
    refused = run("archive", "--log", "ledger", "--month", "2022-12", "--out", str(out))
    assert refused.exit_code == 1 and "archive them first" in refused.output
    res = run("archive", "--log", "ledger", "--month", "2022-11", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "seq 1..12 archived" in res.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 14 and json.loads(lines[0])["month"] == "2022-11"
    assert json.loads(lines[1])[2] == 1 and "患者编号" in lines[1]
    assert sql("SELECT min(seq), count(*) FROM sanyi_ledger")[0] == (13, 8)
    cp = checkpoints.listing(log="ledger")[-1]
    assert (cp["kind"], cp["archived"]["from"], cp["archived"]["to"], cp["length"]) == \
        ("archive", 1, 12, 12)
    assert chain.start_of("ledger")[:2] == (12, cp["head"])
    verified = chain.verify("ledger")
    assert verified.ok and (verified.start, verified.length, verified.rows) == (12, 20, 8)
    checked = run("check-archive", str(out))
    assert checked.exit_code == 0 and "OK ledger 2022-11 seq 1..12 (12 rows)" in checked.output
    assert run("verify", "--log", "ledger", "--quiet").exit_code == 0
    nxt = run("archive", "--log", "ledger", "--month", "2022-12", "--out",
              str(tmp_path / "ledger-2022-12.jsonl"))
    assert nxt.exit_code == 0, nxt.output
    assert chain.verify("ledger").ok and chain.start_of("ledger")[0] == 17
    actions = sql("SELECT action, after->>'month' FROM sanyi_audit WHERE action LIKE "
                  "'sanyi_audit_%' ORDER BY id")
    assert [tuple(a) for a in actions if a[0] == "sanyi_audit_archive"] == [
        ("sanyi_audit_archive", "2022-11"), ("sanyi_audit_archive", "2022-12")]
    page = checkpoints.as_json()["checkpoints"]
    assert [c["archived"]["month"] for c in page if c["kind"] == "archive"] == \
        ["2022-11", "2022-12"]
    en = app.get("/en/transparency/checkpoints").body
    assert "Archive 2022-11" in en and "seq 1–12 archived and removed" in en
    zh = app.get("/transparency/checkpoints").body
    assert "归档 2022-12" in zh and "第13–17 行已归档删除" in zh


@pytest.mark.usefixtures("signing_key")
def test_a_changed_archive_file_no_longer_checks(tmp_path):
    _world()
    out = tmp_path / "a.jsonl"
    assert run("archive", "--log", "ledger", "--month", "2022-11", "--out", str(out)) \
        .exit_code == 0
    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace('"req-3"', '"req-9"', 1), encoding="utf-8")
    res = run("check-archive", str(out))
    assert res.exit_code == 1 and "seq 5: out of order, or not linked" in res.output
    assert sql("SELECT after->>'ok' FROM sanyi_audit WHERE action = "
               "'sanyi_audit_check_archive'") == [("false",)]


@pytest.mark.usefixtures("signing_key")
def test_months_within_the_retention_or_not_starting_the_chain_are_refused(tmp_path,
                                                                           monkeypatch):
    _world()
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    res = run("archive", "--log", "ledger", "--month", last_month, "--out",
              str(tmp_path / "x"))
    assert res.exit_code == 1 and "retention period" in res.output and "保存期" in res.output
    monkeypatch.setitem(tk.config, "ckanext.sanyi.ledger.retention_years", "5")
    res = run("archive", "--log", "ledger", "--month", "2022-11", "--out", str(tmp_path / "y"))
    assert res.exit_code == 1 and "within the 5-year retention" in res.output
    monkeypatch.setitem(tk.config, "ckanext.sanyi.ledger.retention_years", "3")
    ledger.record(request_id="late", outcome="granted", units=1,
                  at=dt.datetime(2022, 11, 30, 12, tzinfo=BJ))  # a November row written late
    model.Session.commit()
    res = run("archive", "--log", "ledger", "--month", "2022-11", "--out", str(tmp_path / "z"))
    assert res.exit_code == 1 and "not the start of the chain" in res.output
    for bad in ("2022-13", "November"):
        res = run("archive", "--log", "ledger", "--month", bad, "--out", str(tmp_path / "w"))
        assert res.exit_code == 1 and "YYYY-MM" in res.output
    assert sql("SELECT count(*) FROM sanyi_ledger")[0][0] == 21
    assert not (tmp_path / "z").exists() and not list(tmp_path.glob("*.part"))


def test_rows_purged_without_an_archive_are_reported():
    _world()
    assert ledger.purge() == 17
    model.Session.commit()
    broken = chain.verify("ledger").broken
    assert broken is not None and (broken.kind, broken.seq) == ("gap", 1)
    assert "seq 1-17 missing" in broken.en


@pytest.mark.usefixtures("signing_key")
def test_an_old_month_of_the_audit_log_is_archived_too(tmp_path):
    for day in (3, 17):
        sql("INSERT INTO sanyi_audit (actor, action, object_type, object_id, after, created) "
            "VALUES ('bureau_user', 'sanyi_price_set', 'price', '智慧核保', '{\"分\": 50}', :t)",
            t=dt.datetime(2022, 11, day, 9, tzinfo=BJ))
    audit.record("bureau_user", "sanyi_price_set", "price", "p", commit=True)
    out = tmp_path / "audit-2022-11.jsonl"
    res = run("archive", "--log", "audit", "--month", "2022-11", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert sql("SELECT min(seq) FROM sanyi_audit")[0][0] == 3
    assert run("check-archive", str(out)).exit_code == 0
    assert chain.verify("audit").ok and chain.start_of("audit")[0] == 2
