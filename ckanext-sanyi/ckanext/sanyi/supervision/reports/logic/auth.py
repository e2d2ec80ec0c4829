"""Authorization of the report actions (same names as the actions).

* a report's figures: the disclosure to anyone; quarterly and annual reports to bureau and
  operator staff, and to data-unit editors (their part); the list likewise;
* submitting: operator staff; marking received: bureau staff (sysadmins count as both).
"""
from __future__ import annotations

from ckan.types import AuthResult, Context, DataDict

from ....common import roles
from ....common.i18n_text import bi
from ....common.user import acting_user, login_required
from .. import service

__all__ = ["sanyi_report_show", "sanyi_report_list", "sanyi_report_submit",
           "sanyi_report_receive"]

_OK: AuthResult = {"success": True}
_NO = bi("只有数据局、运营机构和数源单位可以查看报告",
         "Only the data bureau, the operator and data units see reports")


def sanyi_report_show(context: Context, data_dict: DataDict) -> AuthResult:
    if (data_dict or {}).get("kind") == "disclosure":
        return _OK
    if service.audience(acting_user(context), "quarterly") is not None:
        return _OK
    return {"success": False, "msg": _NO}


sanyi_report_show.auth_allow_anonymous_access = True  # type: ignore[attr-defined]


@login_required
def sanyi_report_list(context: Context, data_dict: DataDict) -> AuthResult:
    if service.audience(acting_user(context), "quarterly") is not None:
        return _OK
    return {"success": False, "msg": _NO}


@login_required
def sanyi_report_submit(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.operator_only(acting_user(context))


@login_required
def sanyi_report_receive(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.bureau_only(acting_user(context))
