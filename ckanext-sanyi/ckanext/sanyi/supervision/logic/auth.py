"""Authorization of the supervision actions (same names as the actions): the figures, the
queue and the decisions are the bureau's (数据局 editors; sysadmins count); the list of
decisions is also the operator's, who lists the products and reads why one came back."""
from __future__ import annotations

from ckan.types import AuthResult, Context, DataDict

from ...common import roles
from ...common.i18n_text import bi
from ...common.user import acting_user
from . import action

__all__ = list(action.__all__)  # one auth function per action, of the same name


def bureau_staff(context: Context, data_dict: DataDict) -> AuthResult:
    return roles.bureau_only(acting_user(context))


def bureau_or_operator(context: Context, data_dict: DataDict) -> AuthResult:
    user = acting_user(context)
    if roles.is_bureau_staff(user) or roles.is_operator_staff(user):
        return {"success": True}
    return {"success": False, "msg": bi("只有数据局和运营机构工作人员可以查看",
                                        "Only data bureau and operator staff may see this")}


sanyi_supervision_figures = sanyi_product_review_queue = sanyi_product_review = bureau_staff
sanyi_product_review_list = bureau_or_operator
