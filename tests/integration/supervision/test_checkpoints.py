"""Signed checkpoints: ``ckan sanyi audit checkpoint`` signs each log's length and head with
the configured Ed25519 key, chained to the one before, audited; it refuses without a key and
on a broken chain; a wrong key fails verification. Published to anyone at
/transparency/checkpoints (Chinese and English, Beijing time) and as cacheable JSON with the
public key; an outsider's saved copy verifies later while the log only grew."""
from __future__ import annotations

import base64
import json

import pytest
from chain_support import as_owner, audit_rows, ledger_rows, make_key, run, save_checkpoints, sql
from chain_support import signing_key as signing_key  # noqa: F401  (fixture)
from cryptography.hazmat.primitives import serialization

from ckanext.sanyi.common import clock
from ckanext.sanyi.domain import chain as rules
from ckanext.sanyi.supervision import checkpoints

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")
JSON = "/api/transparency/checkpoints.json"


@pytest.mark.usefixtures("signing_key")
def test_a_checkpoint_signs_each_log_chained_and_audited():
    ledger_rows(5)
    audit_rows(2)
    res = run("checkpoint")
    assert res.exit_code == 0, res.output
    assert "ledger: checkpoint" in res.output and "length=5" in res.output
    first = checkpoints.listing()
    assert [(c["log"], c["kind"]) for c in first] == [("audit", "checkpoint"),
                                                      ("ledger", "checkpoint")]
    key = checkpoints.public_key_info()
    assert key is not None
    for c in first:
        claim = rules.parse_statement(c["statement"])
        assert (claim["length"], claim["head"], claim["previous"]) == \
            (c["length"], c["head"], rules.GENESIS)
        assert rules.verify_signature(key["raw_base64"], c["statement"].encode(), c["signature"])
    ledger_rows(2)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    latest = checkpoints.listing(log="ledger")[-1]
    assert latest["length"] == 7
    assert rules.parse_statement(latest["statement"])["previous"] == first[1]["statement_hash"]
    audited = sql("SELECT object_id, after->>'log', (after->>'length')::int FROM sanyi_audit "
                  "WHERE action = 'sanyi_audit_checkpoint' ORDER BY id")
    assert [tuple(r)[1:] for r in audited] == [("audit", 2), ("ledger", 5), ("ledger", 7)]


def test_a_wrong_key_fails_verification(tmp_path):
    ours = rules.load_private_key(open(make_key(tmp_path / "a.pem"), "rb").read())
    other = rules.load_private_key(open(make_key(tmp_path / "b.pem"), "rb").read())
    statement = rules.checkpoint_statement(origin="x", log="ledger", length=3, head="a" * 64,
                                           time="2026-12-02T00:00:00.000000Z",
                                           previous=rules.GENESIS)
    signature = rules.sign(ours, statement)
    assert rules.verify_signature(rules.public_key_raw(ours), statement, signature)
    assert not rules.verify_signature(rules.public_key_raw(other), statement, signature)
    assert not rules.verify_signature(rules.public_key_raw(ours), statement.replace(b"3", b"4"),
                                      signature)


@pytest.mark.usefixtures("signing_key")
def test_verify_refuses_a_saved_checkpoint_under_another_key(app, tmp_path):
    ledger_rows(3)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    saved = save_checkpoints(app, tmp_path / "kept.json")
    other = rules.load_private_key(open(make_key(tmp_path / "other.pem"), "rb").read())
    pem = tmp_path / "other.pub.pem"
    pem.write_bytes(other.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    res = run("verify", "--since-checkpoint", str(saved), "--public-key", str(pem), "--quiet")
    assert res.exit_code == 2 and "does not verify under the trusted public key" in res.output
    good = tmp_path / "ours.pub.pem"
    good.write_text(checkpoints.public_key_info()["pem"])
    res = run("verify", "--since-checkpoint", str(saved), "--public-key", str(good), "--quiet")
    assert res.exit_code == 0, res.output
    forged = json.loads(saved.read_text())
    forged["checkpoints"][0]["statement"] = forged["checkpoints"][0]["statement"].replace(
        '"length":3', '"length":2')
    saved.write_text(json.dumps(forged))
    assert run("verify", "--since-checkpoint", str(saved), "--quiet").exit_code == 2


def test_no_checkpoint_without_a_key(monkeypatch):
    ledger_rows(1)
    monkeypatch.setitem(__import__("ckan.plugins.toolkit", fromlist=["config"]).config,
                        checkpoints.KEY_OPTION, "")
    res = run("checkpoint", "--log", "ledger")
    assert res.exit_code == 1 and "no signing key configured" in res.output
    assert checkpoints.listing() == []


@pytest.mark.usefixtures("signing_key")
def test_a_broken_chain_is_not_signed_and_the_refusal_is_audited():
    ledger_rows(4)
    assert run("checkpoint", "--log", "ledger").exit_code == 0
    ledger_rows(2)
    as_owner("UPDATE sanyi_ledger SET request_id = 'forged' WHERE seq = 5")
    res = run("checkpoint", "--log", "ledger")
    assert res.exit_code == 1 and "nothing signed" in res.output and "未签名" in res.output
    assert [c["length"] for c in checkpoints.listing()] == [4]
    refused = sql("SELECT after->'broken'->>'seq' FROM sanyi_audit "
                  "WHERE action = 'sanyi_audit_checkpoint' AND after->>'refused' = 'true'")
    assert [r[0] for r in refused] == ["5"]


@pytest.mark.usefixtures("signing_key")
def test_the_public_page_in_chinese_and_english_at_beijing_time(app, login, sanyi_orgs):
    ledger_rows(3)
    with clock.freeze("2026-12-01T16:30:00Z"):  # 00:30 on 2 December in Beijing
        assert run("checkpoint", "--log", "ledger").exit_code == 0
    key = checkpoints.public_key_info()
    page = app.get("/transparency/checkpoints")
    assert page.status_code == 200
    body = page.body
    assert "日志检查点公示" in body and "数据流转台账" in body and key["key_id"] in body
    assert "2026-12-02 00:30" in body and "BEGIN PUBLIC KEY" in body
    en = app.get("/en/transparency/checkpoints")
    assert en.status_code == 200 and "Log checkpoints" in en.body and "Data-flow ledger" in en.body
    login(app, "merchant_user")  # a logged-in user with no role sees the same
    assert "2026-12-02 00:30" in app.get("/transparency/checkpoints").body
    assert app.post("/transparency/checkpoints").status_code in (400, 403, 405)
    bad = app.get("/transparency/checkpoints?page=abc")
    assert bad.status_code == 400 and "page must be a whole number" not in bad.body  # zh page
    assert "页码应为正整数" in bad.body


@pytest.mark.usefixtures("signing_key")
def test_the_json_with_the_public_key_is_cacheable_and_paged(app):
    ledger_rows(2)
    for _ in range(3):
        assert run("checkpoint").exit_code == 0
    res = app.get(JSON)
    assert res.status_code == 200 and res.headers["Content-Type"].startswith("application/json")
    cc = res.headers["Cache-Control"]
    assert "public" in cc and "max-age=300" in cc and "private" not in cc
    data = res.json
    assert len(data["checkpoints"]) == 6 and data["next_since"] is None
    raw = base64.b64decode(data["public_key"]["raw_base64"])
    assert all(rules.verify_signature(raw, c["statement"].encode(), c["signature"])
               for c in data["checkpoints"])
    again = app.get(JSON, headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304
    page = app.get(JSON + "?limit=4").json
    assert len(page["checkpoints"]) == 4 and page["next_since"] == page["checkpoints"][-1]["id"]
    rest = app.get(f"{JSON}?since={page['next_since']}").json
    assert len(rest["checkpoints"]) == 2
    for bad in ("?since=-1", "?since=x", "?limit=0", "?limit=1001"):
        answer = app.get(JSON + bad)
        assert answer.status_code == 400, bad
        assert "whole number" in json.dumps(answer.json, ensure_ascii=False)


@pytest.mark.usefixtures("signing_key")
def test_the_demo_signs_each_log_once_while_nothing_changes():
    ledger_rows(2)
    printed: list[str] = []
    checkpoints.demo(printed.append)
    checkpoints.demo(printed.append)
    assert [c["log"] for c in checkpoints.listing()] == ["audit", "ledger"]
    assert len([p for p in printed if "已签名检查点" in p]) == 2
