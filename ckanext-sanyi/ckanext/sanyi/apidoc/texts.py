"""The Chinese side of the action API's description: a title per action, a name per common
parameter, the feature groups and the conventions every action keeps (stated once here,
shown in the document's ``info`` and on the page). The English side is the actions' own
docstrings."""
from __future__ import annotations

__all__ = ["TITLES", "PARAM_NAMES", "GROUPS", "CONVENTIONS"]

TITLES: dict[str, str] = {
    "sanyi_mark_updated": "标记目录资源已更新",
    "sanyi_overdue_list": "逾期未更新的目录资源",
    "sanyi_price_ceiling_set": "设定上限收费标准（数据局）",
    "sanyi_price_set": "设定实际收费标准（运营机构）",
    "sanyi_product_pricing_policy_set": "设定公益产品是否允许产业使用（数据局）",
    "sanyi_priority_discount_set": "设定重点扶持场景折扣（数据局）",
    "sanyi_revenue_cap_set": "设定最高准许收入（数据局）",
    "sanyi_revenue_shares_set": "设定收益分配比例（数据局）",
    "sanyi_revenue_billed_set": "报告平台外收入（运营机构）",
    "sanyi_revenue_status": "收入与最高准许收入对照（数据局、运营机构）",
    "sanyi_pricing_settings_show": "收费设置及其历史",
    "sanyi_audit_list": "审计记录",
    "sanyi_price_quote": "计算收费金额",
    "sanyi_price_list": "收费公示",
    "sanyi_price_history": "产品的收费版本历史",
    "sanyi_disclosure_export": "年度收费公开数据",
    "sanyi_merchant_register": "注册或更新数商资料",
    "sanyi_merchant_verify": "核验数商（数据局）",
    "sanyi_merchant_show": "数商资料",
    "sanyi_merchant_list": "数商列表（数据局）",
    "sanyi_application_create": "创建数据使用申请（草稿）",
    "sanyi_application_update": "修改申请",
    "sanyi_application_submit": "提交申请",
    "sanyi_application_review": "审核申请（数源单位、数据局）",
    "sanyi_application_withdraw": "撤回申请",
    "sanyi_application_show": "申请详情",
    "sanyi_application_list": "申请列表",
    "sanyi_application_data_items": "产品可申请的数据项",
    "sanyi_entitlement_list": "授权列表",
    "sanyi_entitlement_suspend": "暂停授权（数据局）",
    "sanyi_entitlement_resume": "恢复授权（数据局）",
    "sanyi_entitlement_revoke": "撤销授权（数据局）",
    "sanyi_order_show": "订单详情",
    "sanyi_order_list": "订单列表",
    "sanyi_order_pay": "在线支付订单（Stripe）",
    "sanyi_order_record_bank_transfer": "登记对公转账（运营机构）",
    "sanyi_refund_list": "退款列表",
    "sanyi_refund_complete": "确认退款已转回（运营机构）",
    "sanyi_processor_register": "登记数据加工处理人员（运营机构）",
    "sanyi_processor_file": "登记备案号（数据局）",
    "sanyi_processor_accept_agreement": "签署保密协议",
    "sanyi_processor_show": "数据加工处理人员登记",
    "sanyi_processor_list": "数据加工处理人员列表",
    "sanyi_processor_revoke": "撤销数据加工处理人员登记",
    "sanyi_sample_show": "查看脱敏样例",
    "sanyi_sample_status": "脱敏样例是否可查看",
    "sanyi_sample_trace": "按水印追溯样例查看",
    "sanyi_sample_view_list": "样例查看记录",
    "sanyi_ledger_list": "数据流转台账",
    "sanyi_usage_daily": "每日调用量",
    "sanyi_operation_list": "产品的数据服务",
    "sanyi_client_create": "创建接口客户端",
    "sanyi_client_list": "接口客户端列表",
    "sanyi_client_rotate": "更换客户端密钥",
    "sanyi_client_revoke": "撤销接口客户端",
    "sanyi_alert_list": "超范围预警",
    "sanyi_alert_resolve": "处理预警（数据局）",
    "sanyi_statement_list": "月度账单",
    "sanyi_statement_bill": "生成月度账单（运营机构）",
    "sanyi_product_billing_mode_set": "设定按次使用的结算方式（运营机构）",
    "sanyi_supervision_figures": "监督管理统计",
    "sanyi_product_review_queue": "待审批产品（已备案）",
    "sanyi_product_review": "批准或退回产品（数据局）",
    "sanyi_product_review_list": "产品审批记录",
    "sanyi_report_show": "报告内容",
    "sanyi_report_list": "报告期与提醒",
    "sanyi_report_submit": "提交报告（运营机构）",
    "sanyi_report_receive": "确认收到报告（数据局）",
}

PARAM_NAMES: dict[str, str] = {
    "id": "标识", "product": "产品（名称或 ID）", "limit": "返回条数", "offset": "跳过条数",
    "status": "状态", "date": "日期", "date_from": "起始日期", "date_to": "截止日期",
    "today": "按此日期计算", "use": "使用用途类别", "unit": "计费单位",
    "billing_unit": "计费单位", "quantity": "数量", "comment": "意见", "reason": "理由",
    "decision": "决定", "version": "版本", "mine": "仅本人", "queue": "仅待我处理",
    "organization": "数源单位", "entitlement_id": "授权", "application_id": "申请",
    "order_id": "订单", "merchant_id": "数商", "client_id": "客户端", "user": "用户",
    "period": "期间", "kind": "类别", "month": "月份", "year": "年度", "format": "格式",
    "schedule": "收费标准", "bands": "分档", "trial": "试行收费标准", "effective_from": "生效日期",
    "label": "版本名称", "scenario": "应用场景", "purpose": "使用目的", "data_items": "数据项",
    "period_start": "授权起始日", "period_end": "授权截止日", "expected_volume": "预计用量",
    "attachment_upload": "附件", "attachment_urls": "附件链接", "remove_attachments": "删除附件",
    "amount_fen": "金额（分）", "reference": "回单号", "received_on": "到账日期",
    "billed_fen": "收入（分）", "allowed_cost_fen": "准许成本（分）",
    "allowed_profit_fen": "准许利润（分）", "tax_fen": "税金（分）", "warning_pct": "预警百分比",
    "net_profit_fen": "净利润（分）", "treasury_pct": "上缴财政百分比",
    "operator_share": "运营机构份额", "merchants_share": "数商份额", "pct": "折扣百分比",
    "industrial_use_allowed": "允许产业使用", "priority_scenario": "重点扶持场景",
    "company_name": "企业名称", "credit_code": "统一社会信用代码", "contact_name": "联系人",
    "contact_phone": "联系电话", "contact_email": "联系邮箱", "enterprise_size": "企业规模",
    "real_name": "姓名", "document_kind": "证件类型", "document_number": "证件号码",
    "employer": "所在单位", "filing_no": "备案号", "agreement_version": "协议版本",
    "marker": "水印标记", "operation": "数据服务", "outcome": "结果", "name": "名称",
    "scope": "权限范围", "mode": "结算方式", "object_type": "对象类型", "object_id": "对象",
    "actor": "操作人", "action": "操作",
}

GROUPS: dict[str, tuple[str, str]] = {
    "catalog": ("公共数据资源目录", "Catalog"),
    "pricing": ("收费（上限、实际价格、公示）", "Fees (ceilings, prices, disclosure)"),
    "applications": ("数商、申请与授权", "Merchants, applications and entitlements"),
    "payments": ("订单、支付与退款", "Orders, payments and refunds"),
    "delivery": ("交付：加工人员、样例、接口客户端、台账、预警与账单",
                 "Delivery: processors, samples, API clients, ledger, alerts and statements"),
    "supervision": ("监督管理与报告", "Supervision and reports"),
}

CONVENTIONS: list[tuple[str, str, str]] = [  # (key, zh, en)
    ("calling", "每个操作都是 POST /api/3/action/<名称>，参数为 JSON 对象（或表单，上传附件时为 "
     "multipart）；只读操作也可用 GET，参数放在查询字符串中。应答为 {\"help\", \"success\", "
     "\"result\"}。",
     "Each action is POST /api/3/action/<name> with a JSON object (or a form; multipart to "
     "upload attachments); read-only actions also answer GET with the parameters in the query "
     "string. The answer is {\"help\", \"success\", \"result\"}."),
    ("auth", "以 API 令牌（请求头 Authorization）或登录会话调用；以会话 Cookie 调用的写操作须带 "
     "CSRF 令牌（X-CSRFToken 请求头）。",
     "Call with a CKAN API token (the Authorization header) or a logged-in session; a write "
     "authenticated by the session cookie must carry the CSRF token (X-CSRFToken header)."),
    ("money", "金额一律为整数“分”，字段名以 _fen 结尾（如 amount_fen: 650000 即 6500.00 元）；"
     "应答中每个 _fen 金额旁另有 _yuan 字段，是供显示的“元”文本（如 \"6500.00\"），输入时不接受。"
     "单价（收费标准各档的 price、unit_price_yuan）可低于 1 分，故为“元”的十进制文本（如 "
     "\"0.005\"）。任何金额都不接受浮点数。",
     "Amounts are whole 分 (fen; 100 fen = 1 yuan) in fields ending in _fen (amount_fen: 650000 "
     "is 6,500.00 yuan); beside each _fen amount an answer gives a _yuan text for display "
     "(\"6500.00\"), never taken as input. Unit prices (the price of a schedule's band, "
     "unit_price_yuan) can be fractions of a fen, so they are decimal texts of yuan "
     "(\"0.005\"). No amount is ever a float."),
    ("unit", "参数或字段 unit 只表示计费单位（copy 份、call 次、record 条、month 月、year 年）；"
     "数源单位（机构）称为 organization。",
     "A parameter or field named unit is always the billing unit (copy, call, record, month, "
     "year); a data unit (the supplying organisation) is called organization."),
    ("lists", "列表操作（名称以 _list 结尾）一律返回 {\"count\", \"results\"}：count 为符合条件"
     "的总数，results 为本页条目；分页参数 limit、offset。",
     "List actions (names ending in _list) all answer {\"count\", \"results\"}: count the "
     "number of matching rows, results this page; paged by limit and offset."),
    ("unknown", "未列出的参数一律拒绝：409，错误中指明该参数（中英文），不会被忽略。",
     "A parameter an action does not list is refused: 409 naming it (in Chinese and English), "
     "never ignored."),
    ("labels", "凡接受代码之处也接受其中文名称，如用途 公共治理、公益事业（public_interest）、"
     "计费单位 次（call）、审核结论 通过（approve）、企业规模 小型企业（small）。",
     "Wherever a code is taken its Chinese label is too: use 公共治理、公益事业 "
     "(public_interest), billing unit 次 (call), decision 通过 (approve), enterprise size "
     "小型企业 (small)."),
    ("errors", "错误：400 请求体不是 JSON 对象；403 未登录、无权限或缺少 CSRF 令牌；404 对象不存在"
     "（或调用者无权看到）；409 参数错误或当前状态不允许，按字段给出“中文 / English”消息；413 "
     "请求体过大。这些操作不限流（429 只出现在数据产品接口 /api/delivery）。",
     "Errors: 400 the body is not a JSON object; 403 not logged in, not allowed or no CSRF "
     "token; 404 no such object (or not visible to the caller); 409 a bad parameter or a step "
     "the current status does not allow, per field, \"中文 / English\"; 413 the request is too "
     "large. These actions are not rate limited (429 belongs to the data product API, "
     "/api/delivery)."),
]
