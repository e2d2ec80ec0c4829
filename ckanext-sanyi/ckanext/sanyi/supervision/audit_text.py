"""The audit log as people read it: each action name in words (Chinese and English), what it
acted on, and the fields its before/after values differ in.

Action names are those the features pass to :func:`..common.audit.record`; a name not
listed here is shown as it is stored. Pure: no CKAN import.
"""
from __future__ import annotations

import json
from typing import Any

__all__ = ["ACTIONS", "OBJECT_TYPES", "action_text", "object_text", "diff", "entry"]

ACTIONS: dict[str, tuple[str, str]] = {
    # pricing
    "sanyi_price_ceiling_set": ("设定上限收费标准", "set a price ceiling"),
    "sanyi_price_set": ("设定实际收费标准", "set an actual price"),
    "sanyi_product_pricing_policy_set": ("设定公益类产品可否用于产业发展",
                                         "set whether a public-interest product may be used industrially"),
    "sanyi_priority_discount_set": ("设定重点扶持场景优惠", "set the priority-support discount"),
    "sanyi_revenue_cap_set": ("核定最高准许收入", "set the maximum allowed revenue"),
    "sanyi_revenue_shares_set": ("设定收益分配比例", "set the revenue split"),
    "sanyi_revenue_billed_set": ("申报平台外收入", "reported revenue collected outside the platform"),
    "sanyi_revenue_level_told": ("提示收入接近或超过上限", "warned that revenue nears or exceeds the cap"),
    "sanyi_product_billing_mode_set": ("设定产品计费方式", "set a product's billing mode"),
    # products
    "sanyi_product_approve": ("批准产品上架", "approved a product"),
    "sanyi_product_return": ("退回产品备案（改为草稿）", "returned a product to draft"),
    # merchants and applications
    "sanyi_merchant_register": ("登记数商资料", "registered a merchant"),
    "sanyi_merchant_update": ("修改数商资料", "changed a merchant's profile"),
    "sanyi_merchant_verify": ("核验数商", "verified a merchant"),
    "sanyi_application_create": ("创建数据使用申请", "created an application"),
    "sanyi_application_update": ("修改数据使用申请", "changed an application"),
    "sanyi_application_submit": ("提交数据使用申请", "submitted an application"),
    "sanyi_application_withdraw": ("撤回数据使用申请", "withdrew an application"),
    "sanyi_application_review": ("审核数据使用申请", "reviewed an application"),
    "sanyi_application_pay": ("确认申请已缴费", "confirmed an application's payment"),
    "sanyi_application_activate": ("申请生效（开始使用）", "activated an application"),
    "sanyi_application_expire": ("申请到期", "an application expired"),
    "sanyi_application_suspend": ("暂停申请的使用", "suspended an application"),
    "sanyi_application_resume": ("恢复申请的使用", "resumed an application"),
    "sanyi_application_revoke": ("撤销申请的授权", "revoked an application"),
    "sanyi_application_refused_payment": ("拒收付款", "refused a payment"),
    "sanyi_entitlement_create": ("生成使用授权", "created an entitlement"),
    "sanyi_entitlement_active": ("恢复使用授权", "resumed an entitlement"),
    "sanyi_entitlement_suspended": ("暂停使用授权", "suspended an entitlement"),
    "sanyi_entitlement_expired": ("使用授权到期", "an entitlement expired"),
    "sanyi_entitlement_revoked": ("撤销使用授权", "revoked an entitlement"),
    # payments
    "sanyi_order_create": ("生成订单", "created an order"),
    "sanyi_order_created": ("生成订单", "created an order"),
    "sanyi_order_pay": ("发起付款", "started a payment"),
    "sanyi_order_paid": ("订单已付款", "an order was paid"),
    "sanyi_order_record_bank_transfer": ("登记银行转账", "recorded a bank transfer"),
    "sanyi_order_cancel": ("取消订单", "cancelled an order"),
    "sanyi_order_refund": ("订单退款", "refunded an order"),
    "sanyi_refund_create": ("发起退款", "started a refund"),
    "sanyi_refund_requested": ("申请退款", "requested a refund"),
    "sanyi_refund_settled": ("退款已结清", "a refund was settled"),
    "sanyi_refund_complete": ("退款完成", "a refund completed"),
    "stripe_payment_intent_cancel": ("取消 Stripe 付款", "cancelled a Stripe payment"),
    "stripe_payment_intent_cancel_failed": ("取消 Stripe 付款失败", "failed to cancel a Stripe payment"),
    "stripe_refund_create": ("发起 Stripe 退款", "started a Stripe refund"),
    # delivery
    "sanyi_client_create": ("创建接口客户端", "created an API client"),
    "sanyi_client_rotate": ("更换接口客户端密钥", "rotated an API client's secret"),
    "sanyi_client_revoke": ("撤销接口客户端", "revoked an API client"),
    "sanyi_alert_suspend": ("超范围调用触发暂停待核实", "over-scope calls suspended an entitlement"),
    "sanyi_alert_resolve": ("处理超范围调用预警", "decided an over-scope alert"),
    "sanyi_alert_confirm": ("核实确认违规，保持暂停", "confirmed an alert: stays suspended"),
    "sanyi_alert_dismiss": ("核实无误，恢复使用", "dismissed an alert: resumed"),
    "sanyi_alert_revoke": ("核实违规，撤销授权", "revoked after an alert"),
    "sanyi_statement_create": ("生成月度账单", "created a monthly statement"),
    "sanyi_statement_paid": ("月度账单已付款", "a monthly statement was paid"),
    "sanyi_processor_register": ("登记数据加工处理人员", "registered a data processor"),
    "sanyi_processor_file": ("数据加工处理人员备案", "filed a data processor"),
    "sanyi_processor_accept_agreement": ("接受保密协议", "accepted the confidentiality agreement"),
    "sanyi_processor_revoke": ("撤销数据加工处理人员", "revoked a data processor"),
    "sanyi_domain_load": ("载入数据域数据", "loaded data into the data domain"),
    "sanyi_domain_attach": ("连接数源单位数据库", "attached a data unit's database"),
    # supervision: hash chains, checkpoints, reports
    "sanyi_audit_checkpoint": ("签署日志检查点", "signed a checkpoint of a log"),
    "sanyi_audit_verify": ("校验日志哈希链", "verified a log's hash chain"),
    "sanyi_audit_archive": ("归档整月日志", "archived a whole month of a log"),
    "sanyi_audit_check_archive": ("校验归档文件", "checked an archive file"),
    "sanyi_report_submit": ("提交报告（冻结）", "submitted a report (frozen)"),
    "sanyi_report_receive": ("签收报告", "received a report"),
}

OBJECT_TYPES: dict[str, tuple[str, str]] = {
    "price": ("收费标准", "price"), "price_ceiling": ("上限收费标准", "price ceiling"),
    "product_pricing_policy": ("产品收费政策", "product pricing policy"),
    "priority_discount": ("重点扶持优惠", "priority discount"),
    "revenue_cap": ("最高准许收入", "revenue cap"), "revenue_shares": ("收益分配", "revenue split"),
    "revenue_billed": ("平台外收入", "revenue outside the platform"),
    "product_billing_mode": ("计费方式", "billing mode"), "product": ("产品", "product"),
    "merchant": ("数商", "merchant"), "application": ("数据使用申请", "application"),
    "entitlement": ("使用授权", "entitlement"), "order": ("订单", "order"),
    "payment": ("付款", "payment"), "api_client": ("接口客户端", "API client"),
    "alert": ("预警", "alert"), "statement": ("月度账单", "monthly statement"),
    "data_processor": ("数据加工处理人员", "data processor"),
    "domain_table": ("数据域表", "data domain table"),
    "checkpoint": ("检查点", "checkpoint"), "chain": ("哈希链", "hash chain"),
    "archive": ("归档文件", "archive file"), "report": ("报告", "report"),
}


def action_text(action: str, zh: bool = True) -> str:
    """The action in words, or its stored name when it has none."""
    if action.startswith("stripe:"):
        return ("Stripe 通知：" if zh else "Stripe event: ") + action[len("stripe:"):]
    found = ACTIONS.get(action)
    return (found[0] if zh else found[1]) if found else action


def object_text(object_type: str, zh: bool = True) -> str:
    found = OBJECT_TYPES.get(object_type)
    return (found[0] if zh else found[1]) if found else object_type


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys (``schedule.unit``); anything else as one value."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and v:
                out.update(_flat(v, key))
            else:
                out[key] = v
        return out
    return {prefix or "value": value}


def _shown(value: Any) -> str:
    """A value as text: text itself, everything else as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def diff(before: Any, after: Any) -> list[dict[str, Any]]:
    """The fields ``before`` and ``after`` differ in: ``[{"field", "before", "after",
    "change"}]`` (``change``: added, removed, changed), in field order; the values as text."""
    old = _flat(before) if before is not None else {}
    new = _flat(after) if after is not None else {}
    keys = list(old) + [k for k in new if k not in old]
    out = []
    for key in keys:
        a, b = old.get(key), new.get(key)
        if key in old and key in new and a == b:
            continue
        change = "added" if key not in old or a is None else \
            "removed" if key not in new or b is None else "changed"
        out.append({"field": key, "before": _shown(a), "after": _shown(b), "change": change})
    return out


def entry(row: dict[str, Any], zh: bool = True) -> dict[str, Any]:
    """An audit row (``common.audit.list``'s) for the page: ``what`` and ``object`` in
    words, ``changes`` (:func:`diff`); ``created`` is left to the page to show locally."""
    return dict(row, what=action_text(row["action"], zh), object=object_text(row["object_type"], zh),
                changes=diff(row.get("before"), row.get("after")))
