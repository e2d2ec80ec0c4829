"""The world of the sample and data-processor tests.

``sample_world``: the roles (sanyi_orgs' bureau, operator, data-unit editors and merchant,
plus a sysadmin, a user with no role and two data processors, fully registered), three catalog
resources — 医保参保人员 (市医保局) and 门诊就诊记录数据 (市卫健委), both backed by domain tables,
and one backed by none — and the session's generated domain (``small_domain``, 2,000
persons with the fixed test persons).
"""
from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ckan.tests import factories, helpers

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/integration: pagecheck

from ckanext.sanyi.delivery.datadomain import catalog_link, store  # noqa: E402
from ckanext.sanyi.delivery.datadomain.sources import by_table  # noqa: E402
from ckanext.sanyi.delivery.datadomain.tables import table  # noqa: E402
from ckanext.sanyi.domain import processor as rules  # noqa: E402
from ckanext.sanyi.domain.credit_code import compute_check_char  # noqa: E402
from ckanext.sanyi.domain.id_number import check_char  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "sanyi_root_conftest", Path(__file__).resolve().parents[2] / "conftest.py")
assert _spec and _spec.loader
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
csrf_token = _root.csrf_token  # tests/conftest.py: the token a page hands the session

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


def _dataset(user: str, org: str, name: str, source_table: str | None, title: str) -> dict:
    fields = catalog_link.field_list(by_table(source_table)) if source_table else \
        [{"field_name": "项目", "field_type": "string", "sensitive": "no"}]
    return helpers.call_action(
        "package_create", context={"user": user}, name=name, title=title, owner_org=org,
        domain="health", delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
        open_attribute="authorized", last_updated=dt.date(2026, 11, 28).isoformat(),
        data_fields=fields)


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


@pytest.fixture
def sample_world(sanyi_orgs, request):
    factories.Sysadmin(name="sysadmin")
    for name in ("no_role", *PROCESSORS):
        factories.User(name=name, fullname=f"{name} 全名")
    register_merchant("merchant_user")
    insured = _dataset("yb_editor", "shi-yi-bao-ju", "insured", "persons", "医保参保人员")
    visits = _dataset("wj_editor", "shi-wei-jian-wei", "visits", "outpatient_visits",
                      "门诊就诊记录数据")
    other = _dataset("wj_editor", "shi-wei-jian-wei", "other", None, "卫生机构名录")
    request.getfixturevalue("small_domain")
    for n, name in enumerate(PROCESSORS, start=1):
        make_processor(name, n)
    tokens = {u: factories.APIToken(user=u)["token"]
              for u in ("no_role", "merchant_user", "sysadmin", "operator_user", "bureau_user",
                        *PROCESSORS)}
    return {"insured": insured, "visits": visits, "other": other, "tokens": tokens,
            **sanyi_orgs}


__all__ = ["csrf_token", "REFUSED", "PROCESSORS", "FIXED_PERSON", "call_as", "raw_values", "make_processor",
           "sample_world"]
