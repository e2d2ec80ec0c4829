"""Rules of data processors (domain/processor.py): identity documents, filing numbers, the
three steps and when each is allowed, who qualifies for samples."""
from __future__ import annotations

import pytest

from ckanext.sanyi.domain import processor as rules
from ckanext.sanyi.domain.errors import DomainError

ACTIVE = {"status": "active", "filing_no": "荆数备〔2026〕第001号",
          "agreement_version": rules.AGREEMENT_VERSION, "agreement_accepted_at": "2026-12-01"}


def _refused(field, fn, *args, **kwargs):
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    assert err.value.field == field and err.value.zh and err.value.en
    assert any("\u4e00" <= c <= "\u9fff" for c in err.value.zh)
    return err.value


def test_a_resident_identity_number_is_checked_and_kept_masked():
    assert rules.document("resident_id_card", " 42080219580312402x ".replace("x", "1")) == \
        ("resident_id_card", "420802195803124021")
    assert rules.masked_document("resident_id_card", "420802195803124021") == \
        "420***********4021"
    _refused("document_number", rules.document, "resident_id_card", "420802195803124022")
    _refused("document_number", rules.document, "resident_id_card", "")
    _refused("document_number", rules.document, "resident_id_card", ["420802195803124021"])


def test_other_documents_are_letters_and_digits_kept_by_their_last_four():
    assert rules.document("passport", "e 1234-5678") == ("passport", "E12345678")
    assert rules.masked_document("passport", "E12345678") == "*****5678"
    _refused("document_number", rules.document, "passport", "E12")
    _refused("document_number", rules.document, "passport", "E1234567<script>")
    _refused("document_kind", rules.document, "drivers_licence", "E12345678")
    _refused("document_kind", rules.document, ["passport"], "E12345678")


def test_filing_numbers_and_text_fields():
    assert rules.filing_no(" 荆数备〔2026〕第001号 ") == "荆数备〔2026〕第001号"
    assert rules.filing_no("JMSJ-2026/001") == "JMSJ-2026/001"
    for bad in ("", "ab", "x" * 65, "a\x00bcd", "<b>1234</b>", 12345):
        _refused("filing_no", rules.filing_no, bad)
    assert rules.clean_text(None, "employer", "所在单位", "employer", required=False) == ""
    _refused("real_name", rules.clean_text, "\ud800", "real_name", "姓名", "real_name")
    _refused("real_name", rules.clean_text, "a" * 101, "real_name", "姓名", "real_name", max_len=100)


def test_the_steps_in_order():
    rules.check_register(None)
    rules.check_register("pending")
    rules.check_register("revoked")  # starts over
    _refused("status", rules.check_register, "active")
    _refused("status", rules.check_file, None)
    rules.check_file("pending")
    _refused("status", rules.check_file, "active")
    _refused("status", rules.check_file, "revoked")


def test_the_agreement_only_after_identity_and_filing_and_in_its_current_version():
    pending = {"status": "pending", "filing_no": None}
    filed = {"status": "pending", "filing_no": "荆数备〔2026〕第001号"}
    v = rules.AGREEMENT_VERSION
    _refused("status", rules.check_accept, None, v)
    _refused("status", rules.check_accept, pending, v)
    _refused("agreement_version", rules.check_accept, filed, "2025-1")
    _refused("agreement_version", rules.check_accept, filed, None)
    rules.check_accept(filed, v)
    _refused("status", rules.check_accept, ACTIVE, v)
    rules.check_accept(dict(ACTIVE, agreement_version="2025-1"), v)  # a newer agreement
    _refused("status", rules.check_accept, dict(filed, status="revoked"), v)


def test_revoking_needs_a_reason_and_a_live_registration():
    assert rules.check_revoke("active", " 违反保密协议 ") == "违反保密协议"
    _refused("reason", rules.check_revoke, "active", "")
    _refused("status", rules.check_revoke, "revoked", "again")
    _refused("status", rules.check_revoke, None, "none")


def test_who_qualifies_and_what_is_missing():
    assert rules.qualifies(ACTIVE)
    assert not rules.qualifies(None)
    assert not rules.qualifies(dict(ACTIVE, status="revoked"))
    assert not rules.qualifies(dict(ACTIVE, agreement_version="2025-1"))
    assert rules.missing_steps(None) == ["verified", "filed", "agreement"]
    assert rules.missing_steps({"status": "pending", "filing_no": None}) == ["filed", "agreement"]
    assert rules.missing_steps(ACTIVE) == []
    assert rules.missing_steps(dict(ACTIVE, status="revoked")) == ["verified", "filed", "agreement"]
    assert set(rules.STEPS) == {"verified", "filed", "agreement"}
    zh, en = rules.QUALIFY
    assert "运营机构" in zh and "备案" in zh and "保密协议" in zh
    assert "operator" in en and "filed" in en and "agreement" in en
