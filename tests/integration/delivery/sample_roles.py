"""Helpers of the sample and data-processor tests (no fixtures here; ``sample_world`` is in
conftest.py): actions called as a user, data processors registered, filed and bound by the
agreement, a merchant registered and verified, and the raw values of a domain table (what a
sample must never show).
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from ckan.tests import helpers

from ckanext.sanyi.delivery.datadomain import store
from ckanext.sanyi.delivery.datadomain.tables import table
from ckanext.sanyi.domain import processor as rules
from ckanext.sanyi.domain.credit_code import compute_check_char
from ckanext.sanyi.domain.id_number import check_char

REFUSED = ("anonymous", "no_role", "merchant_user", "sysadmin")
PROCESSORS = ("processor_user", "processor_two")
FIXED_PERSON = "420802195803124021"


def call_as(actor: str | None, action: str, /, **data: Any) -> Any:
    return helpers.call_action(action, context={"user": actor or "", "ignore_auth": False},
                               **data)


def raw_values(table_name: str, columns: tuple[str, ...]) -> set[str]:
    """Every non-empty value of ``columns`` in the domain table (what must never be shown)."""
    t = table(table_name)
    with store.connect() as conn:
        rows = conn.execute(sa.select(*(t.c[c] for c in columns))).all()
    return {str(v) for r in rows for v in r if v not in (None, "")}


def make_processor(name: str, n: int) -> dict[str, Any]:
    body = f"42080219900101{n:03d}"
    call_as("operator_user", "sanyi_processor_register", user=name, real_name=f"测试员{n}",
            document_kind="resident_id_card", document_number=body + check_char(body),
            employer="健康保险科技有限公司")
    call_as("bureau_user", "sanyi_processor_file", user=name, filing_no=f"荆数备〔2026〕第{n:03d}号")
    return call_as(name, "sanyi_processor_accept_agreement",
                   agreement_version=rules.AGREEMENT_VERSION)


def register_merchant(user: str) -> None:
    body = "91350100000000001"
    call_as(user, "sanyi_merchant_register", company_name="福州数商科技有限公司",
            credit_code=body + compute_check_char(body), contact_name="张三",
            contact_phone="0591-12345678", contact_email=f"{user}@example.com",
            enterprise_size="small")
    merchant = call_as(user, "sanyi_merchant_show")
    call_as("bureau_user", "sanyi_merchant_verify", id=merchant["id"], decision="approve")
