"""The registry of data processors through its actions: the three steps by their three parties,
who may do what, field-level refusals in Chinese and English (never a 500), the audit trail,
the identity number never stored, and times in UTC shown in Beijing time."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories
from sample_roles import call_as

from ckanext.sanyi.common import audit, clock
from ckanext.sanyi.delivery.samples_model import processor_table
from ckanext.sanyi.domain import processor as rules
from ckanext.sanyi.domain.id_number import check_char

pytestmark = pytest.mark.usefixtures("with_plugins")
NUMBER = "42080219850607" + "123"
NUMBER += check_char(NUMBER)
IDENTITY = {"real_name": "李明", "document_kind": "resident_id_card", "document_number": NUMBER,
            "employer": "健康保险科技有限公司"}


@pytest.fixture
def people(sanyi_orgs):
    factories.Sysadmin(name="sysadmin")
    for name in ("applicant", "other_person"):
        factories.User(name=name)
    return sanyi_orgs


def _refused(exc, actor, action, /, **data):
    with pytest.raises(exc) as err:
        call_as(actor, action, **data)
    return err.value


def _bilingual(err, field):
    assert field in err.error_dict, err.error_dict
    message = " ".join(str(m) for m in err.error_dict[field])
    assert " / " in message and any("\u4e00" <= c <= "\u9fff" for c in message), message
    return message


def _register(user="applicant", **extra):
    return call_as("operator_user", "sanyi_processor_register", user=user, **{**IDENTITY, **extra})


def test_three_steps_by_three_parties_make_an_active_processor(people):
    with clock.freeze("2026-12-01T18:30:00Z"):
        row = _register()
        assert row["status"] == "pending" and row["missing_steps"] == ["filed", "agreement"]
        assert row["document_masked"] == NUMBER[:3] + "*" * 11 + NUMBER[-4:]
        assert row["verified_by"] == "operator_user" and not row["qualified"]
        row = call_as("bureau_user", "sanyi_processor_file", id=row["id"],
                      filing_no="荆数备〔2026〕第007号")
        assert row["status"] == "pending" and row["filed_by"] == "bureau_user"
        row = call_as("applicant", "sanyi_processor_accept_agreement",
                      agreement_version=rules.AGREEMENT_VERSION)
    assert row["status"] == "active" and row["qualified"] and row["missing_steps"] == []
    assert row["agreement_version"] == rules.AGREEMENT_VERSION
    assert row["agreement_accepted_at"] == "2026-12-01T18:30:00+00:00"
    assert row["agreement_accepted_at_display"] == "2026-12-02 02:30"  # Asia/Shanghai
    trail = audit.list(object_type="data_processor", object_id=row["id"], oldest_first=True)
    assert [(r["actor"], r["action"]) for r in trail] == [
        ("operator_user", "sanyi_processor_register"), ("bureau_user", "sanyi_processor_file"),
        ("applicant", "sanyi_processor_accept_agreement")]
    stored = json.dumps([dict(r) for r in model.Session.execute(
        sa.select(processor_table)).mappings()], default=str)
    assert NUMBER not in stored and NUMBER not in json.dumps(trail, ensure_ascii=False)
    assert NUMBER not in json.dumps(call_as("operator_user", "sanyi_processor_list"))


def test_who_may_take_each_step(people):
    for user in ("bureau_user", "wj_editor", "merchant_user", "applicant"):
        _refused(tk.NotAuthorized, user, "sanyi_processor_register", user="other_person",
                 **IDENTITY)
    _refused(tk.NotAuthorized, "", "sanyi_processor_register", user="other_person", **IDENTITY)
    err = _refused(tk.ValidationError, "operator_user", "sanyi_processor_register",
                   user="operator_user", **IDENTITY)
    _bilingual(err, "user")  # nobody verifies themself
    row = call_as("sysadmin", "sanyi_processor_register", user="applicant", **IDENTITY)
    for user in ("operator_user", "wj_editor", "applicant"):
        _refused(tk.NotAuthorized, user, "sanyi_processor_file", id=row["id"],
                 filing_no="荆数备〔2026〕第008号")
    for user in ("other_person", "merchant_user"):
        _refused(tk.NotAuthorized, user, "sanyi_processor_show", id=row["id"])
        _refused(tk.NotAuthorized, user, "sanyi_processor_list")
        _refused(tk.NotAuthorized, user, "sanyi_processor_revoke", id=row["id"], reason="x")
    assert call_as("applicant", "sanyi_processor_show")["id"] == row["id"]
    assert call_as("bureau_user", "sanyi_processor_show", user="applicant")["id"] == row["id"]
    _refused(tk.ObjectNotFound, "other_person", "sanyi_processor_show")


def test_the_agreement_waits_for_identity_and_filing(people):
    err = _refused(tk.ValidationError, "applicant", "sanyi_processor_accept_agreement",
                   agreement_version=rules.AGREEMENT_VERSION)
    assert "运营机构" in _bilingual(err, "status")
    row = _register()
    err = _refused(tk.ValidationError, "applicant", "sanyi_processor_accept_agreement",
                   agreement_version=rules.AGREEMENT_VERSION)
    assert "备案" in _bilingual(err, "status")
    call_as("bureau_user", "sanyi_processor_file", user="applicant", filing_no="JMSJ-2026-009")
    err = _refused(tk.ValidationError, "applicant", "sanyi_processor_accept_agreement",
                   agreement_version="2020-1")
    _bilingual(err, "agreement_version")
    call_as("applicant", "sanyi_processor_accept_agreement",
            agreement_version=rules.AGREEMENT_VERSION)
    err = _refused(tk.ValidationError, "applicant", "sanyi_processor_accept_agreement",
                   agreement_version=rules.AGREEMENT_VERSION)
    _bilingual(err, "status")
    err = _refused(tk.ValidationError, "bureau_user", "sanyi_processor_file", id=row["id"],
                   filing_no="JMSJ-2026-010")
    _bilingual(err, "status")


@pytest.mark.parametrize("field, value", [
    ("document_number", NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")),
    ("document_number", ["x"]), ("document_number", ""), ("document_kind", "licence"),
    ("document_kind", {"a": 1}), ("real_name", ""), ("real_name", 5), ("real_name", "a\x00b"),
    ("employer", "x" * 201), ("user", "nobody-like-this"), ("user", ["applicant"]),
    ("user", "\ud800"),
])
def test_bad_registration_input_names_the_field(people, field, value):
    err = _refused(tk.ValidationError, "operator_user", "sanyi_processor_register",
                   **{"user": "applicant", **IDENTITY, field: value})
    _bilingual(err, field)
    assert model.Session.execute(sa.select(sa.func.count()).select_from(processor_table)
                                 ).scalar() == 0


def test_one_document_one_account_and_starting_over_after_revocation(people):
    first = _register()
    err = _refused(tk.ValidationError, "operator_user", "sanyi_processor_register",
                   user="other_person", **IDENTITY)
    _bilingual(err, "document_number")
    call_as("bureau_user", "sanyi_processor_file", id=first["id"], filing_no="JMSJ-2026-011")
    call_as("applicant", "sanyi_processor_accept_agreement",
            agreement_version=rules.AGREEMENT_VERSION)
    err = _refused(tk.ValidationError, "operator_user", "sanyi_processor_register",
                   user="applicant", **IDENTITY)
    _bilingual(err, "status")  # active: revoke first
    _bilingual(_refused(tk.ValidationError, "bureau_user", "sanyi_processor_revoke",
                        id=first["id"], reason=""), "reason")
    revoked = call_as("bureau_user", "sanyi_processor_revoke", id=first["id"], reason="违反保密协议")
    assert revoked["status"] == "revoked" and not revoked["qualified"]
    assert revoked["revoke_reason"] == "违反保密协议"
    _bilingual(_refused(tk.ValidationError, "operator_user", "sanyi_processor_revoke",
                        id=first["id"], reason="again"), "status")
    again = _register(document_kind="passport", document_number="E12345678")
    assert again["id"] == first["id"] and again["status"] == "pending"
    assert again["filing_no"] is None and again["agreement_accepted_at"] is None
    assert again["document_masked"] == "*****5678"


def test_lists_and_filters(people):
    _register()
    listed = call_as("bureau_user", "sanyi_processor_list", status="pending")
    assert listed["count"] == 1 and listed["results"][0]["user_name"] == "applicant"
    assert call_as("bureau_user", "sanyi_processor_list", status="active")["count"] == 0
    for bad in ("done", ["pending"], 3):
        _bilingual(_refused(tk.ValidationError, "bureau_user", "sanyi_processor_list",
                            status=bad), "status")
    _refused(tk.ValidationError, "bureau_user", "sanyi_processor_list", limit="x")


def test_over_http_nothing_answers_500(app, people):
    token = factories.APIToken(user="operator_user")["token"]
    bodies = [{}, {"user": None}, {"user": {"a": 1}, "document_kind": [], "document_number": 1},
              {"id": ["x"], "filing_no": {"x": 1}}, {"id": "x" * 500}, {"agreement_version": []},
              {"status": {"a": 1}}, {"marker": ["x"]}, {"id": "\u0000"}]
    for action in ("sanyi_processor_register", "sanyi_processor_file",
                   "sanyi_processor_accept_agreement", "sanyi_processor_show",
                   "sanyi_processor_list", "sanyi_processor_revoke", "sanyi_sample_show",
                   "sanyi_sample_status", "sanyi_sample_trace", "sanyi_sample_view_list"):
        for headers in ({}, {"Authorization": token}):
            for body in bodies:
                res = app.post(f"/api/3/action/{action}", json=body, headers=headers)
                assert res.status_code < 500, (action, body, res.get_data(as_text=True)[:300])


def test_the_demo_processor_is_fully_registered_and_loading_it_again_changes_nothing(people):
    from ckanext.sanyi.delivery import processors
    lines: list[str] = []
    processors.load_demo(lines.append)
    processors.load_demo(lines.append)
    row = call_as("operator_user", "sanyi_processor_show", user="processor")
    assert row["status"] == "active" and row["qualified"] and row["filing_no"]
    assert call_as("operator_user", "sanyi_processor_list")["count"] == 1
    assert len(audit.list(object_type="data_processor")) == 3
    assert lines[0].startswith("数据加工处理人员 / data processor: processor")
