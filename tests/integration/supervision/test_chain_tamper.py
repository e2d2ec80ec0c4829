"""Tampering with the chained logs directly in SQL, as the database owner would (the
append-only trigger disabled, or session_replication_role = replica as superuser): an edited,
a deleted, a reordered, an unchained row, a truncated tail (caught by the head, or against a
saved checkpoint when the attacker fixed the head too), a history rewritten with fresh hashes
(caught only against a saved checkpoint); ``ckan sanyi audit verify`` names the first broken
row and exits 1."""
from __future__ import annotations

import pytest
from chain_support import as_owner, audit_rows, ledger_rows, run, save_checkpoints, sql
from chain_support import signing_key as signing_key  # noqa: F401  (fixture)
from ckan.plugins import toolkit as tk

from ckanext.sanyi import devtools
from ckanext.sanyi.domain import chain as rules
from ckanext.sanyi.supervision import chain

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")


def _broken(log: str = "ledger", **kw):
    result = chain.verify(log, **kw)
    assert not result.ok, result
    return result.broken


def test_an_untouched_chain_verifies_and_the_cli_says_so():
    ledger_rows(12)
    audit_rows(3)
    assert chain.verify("ledger").ok and chain.verify("audit").ok
    res = run("verify")  # with its progress bars
    assert res.exit_code == 0, res.output
    assert "ledger: OK 12 rows, seq 1..12" in res.output and "audit: OK 3 rows" in res.output


def test_an_edited_row():
    ids = ledger_rows(10)
    as_owner(f"UPDATE sanyi_ledger SET units = 7 WHERE id = {ids[4]}")
    broken = _broken()
    assert (broken.kind, broken.seq, broken.row_id) == ("content", 5, ids[4])
    res = run("verify", "--log", "ledger", "--quiet")
    assert res.exit_code == 1
    assert "BROKEN [content] seq 5" in res.output and "edited or moved" in res.output
    assert "被修改或被移动" in res.output


def test_an_edited_audit_row_as_superuser_with_replication_role():
    audit_rows(5)
    db = tk.config["sqlalchemy.url"].rsplit("/", 1)[1]
    devtools.psql_admin("SET session_replication_role = replica; "
                        "UPDATE sanyi_audit SET actor = 'someone_else' WHERE seq = 2", db=db)
    broken = _broken("audit")
    assert (broken.kind, broken.seq) == ("content", 2)


def test_a_deleted_row():
    ids = ledger_rows(10)
    as_owner(f"DELETE FROM sanyi_ledger WHERE id = {ids[6]}")
    broken = _broken()
    assert (broken.kind, broken.seq) == ("gap", 7)
    assert "seq 7 missing (deleted); the next row is seq 8" in broken.en


def test_a_reordered_row():
    ledger_rows(10)
    as_owner("UPDATE sanyi_ledger SET seq = -1 WHERE seq = 3",
             "UPDATE sanyi_ledger SET seq = 3 WHERE seq = 4",
             "UPDATE sanyi_ledger SET seq = 4 WHERE seq = -1")
    broken = _broken()
    assert (broken.kind, broken.seq) == ("content", 3)


def test_a_row_written_with_the_chain_trigger_disabled():
    ledger_rows(4)
    as_owner("INSERT INTO sanyi_ledger (request_id, outcome, units) VALUES ('x', 'granted', 1)",
             guard="sanyi_ledger_chain")
    broken = _broken()
    assert broken.kind == "unchained" and broken.seq is None


def test_a_truncated_tail_is_caught_by_the_head():
    ledger_rows(10)
    as_owner("DELETE FROM sanyi_ledger WHERE seq > 7")
    broken = _broken()
    assert broken.kind == "head" and "ends at seq 7, its head says 10" in broken.en


@pytest.mark.usefixtures("signing_key")
def test_a_truncated_tail_with_the_head_fixed_is_caught_only_against_a_saved_checkpoint(
        app, tmp_path):
    ledger_rows(10)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    saved = save_checkpoints(app, tmp_path / "kept.json")
    ledger_rows(2)
    head = sql("SELECT row_hash FROM sanyi_ledger WHERE seq = 8")[0][0]
    # a careful attacker: the tail, the head and the stored checkpoints all go
    as_owner("DELETE FROM sanyi_ledger WHERE seq > 8")
    sql(f"UPDATE sanyi_chain_head SET length = 8, head_hash = '{head}' WHERE log = 'ledger'")
    as_owner("DELETE FROM sanyi_checkpoint", table="sanyi_checkpoint")
    assert chain.verify("ledger").ok  # nothing inside the database can tell
    res = run("verify", "--log", "ledger", "--since-checkpoint", str(saved), "--quiet")
    assert res.exit_code == 1
    assert "[truncated]" in res.output and "a signed checkpoint recorded 10" in res.output


@pytest.mark.usefixtures("signing_key")
def test_a_rewritten_history_is_caught_only_against_a_saved_checkpoint(app, tmp_path):
    ledger_rows(6)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    saved = save_checkpoints(app, tmp_path / "kept.json")
    # edit row 2 and recompute every later hash with the published rules
    as_owner("UPDATE sanyi_ledger SET units = 99 WHERE seq = 2")
    prev = sql("SELECT row_hash FROM sanyi_ledger WHERE seq = 1")[0][0]
    for seq in range(2, 7):
        as_owner(f"UPDATE sanyi_ledger SET prev_hash = '{prev}' WHERE seq = {seq}",
                 f"UPDATE sanyi_ledger l SET row_hash = encode(sha256(convert_to("
                 f"sanyi_ledger_canonical(l), 'UTF8')), 'hex') WHERE seq = {seq}")
        prev = sql(f"SELECT row_hash FROM sanyi_ledger WHERE seq = {seq}")[0][0]
    sql(f"UPDATE sanyi_chain_head SET head_hash = '{prev}' WHERE log = 'ledger'")
    as_owner("DELETE FROM sanyi_checkpoint", table="sanyi_checkpoint")
    assert chain.verify("ledger").ok
    res = run("verify", "--log", "ledger", "--since-checkpoint", str(saved), "--quiet")
    assert res.exit_code == 1 and "[checkpoint] seq 6" in res.output


@pytest.mark.usefixtures("signing_key")
def test_a_stored_checkpoint_changed_in_place_is_refused():
    ledger_rows(3)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    as_owner("UPDATE sanyi_checkpoint SET length = 2", table="sanyi_checkpoint")
    broken = _broken()
    assert broken.kind == "checkpoint" and "does not hold" in broken.en


def test_every_verify_is_audited():
    ledger_rows(2)
    as_owner("UPDATE sanyi_ledger SET request_id = 'forged' WHERE seq = 1")
    assert run("verify", "--log", "ledger", "--quiet").exit_code == 1
    rows = sql("SELECT actor, object_id, after->>'ok', after->'broken'->>'kind' FROM sanyi_audit "
               "WHERE action = 'sanyi_audit_verify'")
    assert [tuple(r)[1:] for r in rows] == [("ledger", "false", "content")]
    assert rules.GENESIS == "0" * 64
