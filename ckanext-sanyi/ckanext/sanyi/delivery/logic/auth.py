"""Authorization of the delivery actions (same names as the actions).

Data processors and samples:

* the operator (运营机构 staff; sysadmins count) records verified identities; the bureau
  (数据局 staff; sysadmins count) records filings; either lists, shows, revokes and traces;
* a logged-in user shows their own registration and accepts the agreement (the rules say
  when);
* a sample is shown only to an active data processor: a sysadmin who is not one is refused
  too (``auth_sysadmins_check``); the message says how to qualify;
* whether a resource has a sample is public.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from ...common.i18n_text import bi
from ...common.user import acting_user, login_required
from ...domain import processor as rules
from .. import ledger_query, processors

__all__ = [
    "sanyi_processor_register", "sanyi_processor_file", "sanyi_processor_accept_agreement",
    "sanyi_processor_show", "sanyi_processor_list", "sanyi_processor_revoke",
    "sanyi_sample_show", "sanyi_sample_status", "sanyi_sample_trace", "sanyi_sample_view_list",
    "sanyi_ledger_list", "sanyi_usage_daily", "sanyi_operation_list",
]

_OK: AuthResult = {"success": True}


def _no(zh: str, en: str) -> AuthResult:
    return {"success": False, "msg": bi(zh, en)}


def _operator_or_bureau(context: Context) -> AuthResult:
    user = acting_user(context)
    if roles.is_operator_staff(user) or roles.is_bureau_staff(user):
        return _OK
    return _no("只有运营机构或数据局工作人员可以执行此操作",
               "Only operator or data bureau staff may do this")


def qualify_message(user: object) -> str:
    """Why ``user`` may not view samples and what is still to do, in both languages."""
    row = processors.for_user(user) if user is not None else None
    missing = rules.missing_steps(row)
    zh, en = rules.QUALIFY
    if row and row["status"] == "revoked":
        zh, en = zh + "您的登记已撤销。", en + " Your registration was revoked."
    elif missing and row:
        zh += "尚待：" + "、".join(rules.STEPS[s][0] for s in missing) + "。"
        en += " Still to do: " + ", ".join(rules.STEPS[s][1] for s in missing) + "."
    return bi(zh, en)


@login_required
def sanyi_processor_register(context: Context, data_dict: DataDict) -> AuthResult:
    if roles.is_operator_staff(acting_user(context)):
        return _OK
    return _no("只有运营机构工作人员可以核验数据加工处理人员的身份",
               "Only operator staff may verify a data processor's identity")


@login_required
def sanyi_processor_file(context: Context, data_dict: DataDict) -> AuthResult:
    if roles.is_bureau_staff(acting_user(context)):
        return _OK
    return _no("只有数据局工作人员可以为数据加工处理人员备案",
               "Only data bureau staff may file a data processor")


@login_required
def sanyi_processor_accept_agreement(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK  # the person themself; the rules refuse until identity and filing are done


@login_required
def sanyi_processor_show(context: Context, data_dict: DataDict) -> AuthResult:
    if not data_dict.get("id") and not data_dict.get("user"):
        return _OK  # the caller's own
    user = acting_user(context)
    own = processors.for_user(user)
    if own and (data_dict.get("id") == own["id"]
                or data_dict.get("user") in (getattr(user, "name", None),
                                             getattr(user, "id", None))):
        return _OK
    return _operator_or_bureau(context)


@login_required
def sanyi_processor_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator_or_bureau(context)


@login_required
def sanyi_processor_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator_or_bureau(context)


@tk.auth_sysadmins_check
@tk.auth_allow_anonymous_access  # a visitor is refused here, with how to qualify
def sanyi_sample_show(context: Context, data_dict: DataDict) -> AuthResult:
    user = acting_user(context)
    if user is not None and processors.qualifies(user):
        return _OK
    return {"success": False, "msg": qualify_message(user)}


@tk.auth_allow_anonymous_access
def sanyi_sample_status(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK


@login_required
def sanyi_sample_trace(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator_or_bureau(context)


@login_required
def sanyi_sample_view_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _operator_or_bureau(context)


@login_required
def sanyi_ledger_list(context: Context, data_dict: DataDict) -> AuthResult:
    if ledger_query.scope_of(context).empty:
        return _no("只有数商、数源单位、数据局或运营机构可以查看数据流转台账",
                   "Only merchants, data units, the bureau or the operator may see the "
                   "data-flow ledger")
    return _OK


@login_required
def sanyi_usage_daily(context: Context, data_dict: DataDict) -> AuthResult:
    return sanyi_ledger_list(context, data_dict)


@tk.auth_allow_anonymous_access  # the action lists only products the caller may see
def sanyi_operation_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK
