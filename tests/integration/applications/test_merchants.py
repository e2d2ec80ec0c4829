"""Merchant accounts: registration with a GB 32100 credit code, bureau verification, changes
that need re-verification, the trace, notifications."""
from __future__ import annotations

import pytest
from applications_support import bilingual, call_as, credit_code, snapshot
from ckan.plugins import toolkit as tk
from ckan.tests import factories

from ckanext.sanyi.applications import notify
from ckanext.sanyi.common import audit

pytestmark = pytest.mark.usefixtures("with_plugins")


def profile(n: int = 50, **overrides):
    data = dict(company_name="榕城健康科技有限公司", credit_code=credit_code(n), contact_name="王五",
                contact_phone="+86 591 8888 6666", contact_email="wang@example.com",
                enterprise_size="medium")
    data.update(overrides)
    return data


@pytest.fixture
def newcomer(world):
    return factories.User(name="newcomer")


def _unread(name: str) -> int:
    from ckan import model
    return notify.unread_count(model.User.get(name).id)


def test_register_verify_and_trace(newcomer):
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile())
    assert merchant["status"] == "pending" and merchant["enterprise_size"] == "medium"
    assert _unread("bureau_user") >= 1
    assert call_as("bureau_user", "sanyi_merchant_list", status="pending")["count"] == 1
    merchant = call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
    assert merchant["status"] == "verified" and merchant["verified_by"] == "bureau_user"
    assert _unread("newcomer") == 1
    records = audit.list(object_type="merchant", object_id=merchant["id"], oldest_first=True)
    assert [(r["action"], r["after"]["status"]) for r in records] == [
        ("sanyi_merchant_register", "pending"), ("sanyi_merchant_verify", "verified")]
    assert records[1]["before"]["status"] == "pending"
    with pytest.raises(tk.ValidationError) as err:  # already verified: 409
        call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
    bilingual(err.value, "status")


def test_reject_needs_a_reason_then_correction_goes_back_to_pending(newcomer):
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile())
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="reject")
    bilingual(err.value, "comment")
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="maybe")
    bilingual(err.value, "decision")
    assert snapshot() == before
    merchant = call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"],
                       decision="reject", comment="营业执照名称不符")
    assert merchant["status"] == "rejected" and merchant["verify_comment"] == "营业执照名称不符"
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile(contact_name="赵六"))
    assert merchant["status"] == "pending" and merchant["contact_name"] == "赵六"


def test_identity_change_needs_reverification_contact_change_does_not(newcomer):
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile())
    call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile(contact_phone="13900000000"))
    assert merchant["status"] == "verified" and merchant["contact_phone"] == "13900000000"
    merchant = call_as("newcomer", "sanyi_merchant_register", **profile(company_name="榕城健康（集团）有限公司"))
    assert merchant["status"] == "pending" and merchant["verified_by"] is None


@pytest.mark.parametrize("code, text", [
    ("91350100M000100Y0", "应为 18 位"),
    ("91350100M000100Y00X", "应为 18 位"),
    ("91350100M0001O0Y0X", "非法字符"),
    ("913501000000000019", "校验码错误"),
    ("", "必填"),
])
def test_invalid_credit_code(newcomer, code, text):
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        call_as("newcomer", "sanyi_merchant_register", **profile(credit_code=code))
    assert text in bilingual(err.value, "credit_code")
    assert snapshot() == before


def test_credit_code_is_normalised_and_unique(newcomer, world):
    code = credit_code(77)
    merchant = call_as("newcomer", "sanyi_merchant_register",
                       **profile(credit_code=" " + code.lower() + " "))
    assert merchant["credit_code"] == code
    taken = world["merchants"]["merchant_user"]["credit_code"]
    factories.User(name="copycat")
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        call_as("copycat", "sanyi_merchant_register", **profile(credit_code=taken))
    assert "已被其他数商注册" in bilingual(err.value, "credit_code")
    assert snapshot() == before


def test_every_bad_profile_field_at_once(newcomer):
    before = snapshot()
    with pytest.raises(tk.ValidationError) as err:
        call_as("newcomer", "sanyi_merchant_register", company_name="", credit_code="123",
                contact_name="", contact_phone="call me", contact_email="nope",
                enterprise_size="huge")
    assert set(err.value.error_dict) == {"company_name", "credit_code", "contact_name",
                                         "contact_phone", "contact_email", "enterprise_size"}
    for field in err.value.error_dict:
        bilingual(err.value, field)
    assert snapshot() == before
