"""Authorization of the application actions (same names as the actions).

Coarse checks by role here; the state machine (``domain.approval``) then refuses what this
actor may not do in this status (403) or what no one may do now (409).

* Merchants: registering is for logged-in users who are not staff of the bureau, the
  operator or a data unit; applying needs a merchant profile; changing, submitting and
  withdrawing an application is for its applicant only.
* Data units review the applications that use their data; the bureau reviews all,
  verifies merchants and suspends, resumes or revokes entitlements.
* Showing: the applicant, the data units whose data it uses (not drafts), the bureau.
* Lists filter by the same rule, so any logged-in user may call them.
"""
from __future__ import annotations

import ckan.plugins.toolkit as tk
from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from ...common.i18n_text import bi
from ...common.user import acting_user, login_required
from .. import access, service
from ..forms import NotFound
from . import action

__all__ = list(action.__all__)  # one auth function per action, of the same name

_OK: AuthResult = {"success": True}


def _no(zh: str, en: str) -> AuthResult:
    return {"success": False, "msg": bi(zh, en)}


def _bureau(context: Context) -> AuthResult:
    return roles.bureau_only(acting_user(context))


def _app(data_dict: DataDict) -> dict | None:
    try:
        return service.get(str(data_dict.get("id") or ""))
    except NotFound:
        return None  # the action reports 404


@login_required
def sanyi_merchant_register(context: Context, data_dict: DataDict) -> AuthResult:
    if access.is_staff(acting_user(context)):
        return _no("数据局、运营机构和数源单位的工作人员不能注册为数商",
                   "Staff of the bureau, the operator or a data unit cannot be merchants")
    return _OK


def sanyi_merchant_verify(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


@login_required
def sanyi_merchant_show(context: Context, data_dict: DataDict) -> AuthResult:
    user = acting_user(context)
    own = access.merchant_for(user)
    if not data_dict.get("id") or (own and own["id"] == data_dict.get("id")):
        return _OK
    return _bureau(context)


def sanyi_merchant_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


@login_required
def sanyi_application_create(context: Context, data_dict: DataDict) -> AuthResult:
    if access.merchant_for(acting_user(context)) is None:
        return _no("请先注册数商（企业）资料再申请", "Register as a merchant before applying")
    return _OK


def _applicant(context: Context, data_dict: DataDict) -> AuthResult:
    app, user = _app(data_dict), acting_user(context)
    if app is None or (user is not None and app["applicant_id"] == user.id):
        return _OK
    return _no("只有申请人本人可以操作该申请", "Only the applicant may act on this application")


@login_required
def sanyi_application_update(context: Context, data_dict: DataDict) -> AuthResult:
    return _applicant(context, data_dict)


@login_required
def sanyi_application_submit(context: Context, data_dict: DataDict) -> AuthResult:
    return _applicant(context, data_dict)


@login_required
def sanyi_application_withdraw(context: Context, data_dict: DataDict) -> AuthResult:
    return _applicant(context, data_dict)


@login_required
def sanyi_application_review(context: Context, data_dict: DataDict) -> AuthResult:
    app, user = _app(data_dict), acting_user(context)
    if app is None or access.is_bureau(user) or \
            access.unit_names(user) & set(app["required_units"]):
        return _OK
    return _no("您不是该申请的审核方", "You are not a reviewer of this application")


@login_required
def sanyi_application_show(context: Context, data_dict: DataDict) -> AuthResult:
    app = _app(data_dict)
    if app is None or access.can_see(acting_user(context), app):
        return _OK
    return _no("无权查看该申请", "You may not see this application")


@login_required
def sanyi_application_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK


@tk.auth_allow_anonymous_access
def sanyi_application_data_items(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK


@login_required
def sanyi_entitlement_list(context: Context, data_dict: DataDict) -> AuthResult:
    return _OK


def sanyi_entitlement_suspend(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_entitlement_resume(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)


def sanyi_entitlement_revoke(context: Context, data_dict: DataDict) -> AuthResult:
    return _bureau(context)
