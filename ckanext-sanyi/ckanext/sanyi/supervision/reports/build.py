"""A report's figures as one JSON-ready dict: key figures, tables and the charts drawn from
them. The HTML page, the PDF and the XLSX are all rendered from this dict, and a submitted
report stores it, so a frozen report renders the same whatever the data became.

Shape::

    {"kind", "period", "title": [zh, en], "first", "last", "due", "as_of", "generated_at",
     "summary": [{"key", "label": [zh, en], "value", "money"}],
     "tables": [{"id", "title": [zh, en], "columns": [{"key", "label": [zh, en], "num",
                 "money"}], "rows": [{key: value}], "total": {key: value} | None}],
     "charts": [{"id", "title": [zh, en], "table", "label", "series": [[key, zh, en]]}]}

A cell is a number (money in fen), a text, or ``[zh, en]`` (a label in both languages).

* ``quarterly``: catalog changes, overdue resources, products listed and delisted,
  applications by outcome, entitlements, calls by product and merchant, refusals by code,
  alerts by kind and outcome, revenue and the treasury share.
* ``annual``: the same over the year, and the key figures by quarter.
* ``disclosure`` (public): the yearly price disclosure (ceilings, product list, actual
  prices: :func:`..pricing.disclosure.disclosure`) and the year's aggregate use per product
  and per catalog resource, **without merchant names**, and merchant counts under
  :data:`SMALL` shown as ``<3``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ...common import clock, words
from ...delivery.alerts import DECISION_TEXT, KIND_TEXT
from ...domain.report_periods import DueRules, Period, due_date
from . import queries as q

__all__ = ["build", "SMALL", "as_of"]

SMALL = 3
Progress = Callable[[str], None]
ERROR_TEXT = {"out_of_scope": ("超出授权范围", "out of scope"),
              "data_items_exceeded": ("超出批准的数据项", "beyond the approved data items"),
              "quota_exhausted": ("额度已用尽", "quota exhausted"),
              "suspended": ("授权已暂停", "entitlement suspended"),
              "rate_limited": ("超过调用频率", "rate limited"),
              "invalid_token": ("令牌无效", "invalid token"),
              "expired": ("授权已到期", "entitlement expired")}
OUTCOME_TEXT = {"approved": ("审批通过", "approved"), "rejected": ("已驳回", "rejected"),
                "returned": ("已退回修改", "returned for changes"),
                "withdrawn": ("已撤回", "withdrawn"), "open": ("待核实", "open"),
                **{k: v for k, v in DECISION_TEXT.items()}}
ENT_TEXT = {"active": ("有效", "active"), "suspended": ("已暂停", "suspended"),
            "expired": ("已到期", "expired"), "revoked": ("已撤销", "revoked")}
ORDER_TEXT = {"application": ("审批时缴费", "fees paid at approval"),
              "statement": ("月度账单", "monthly statements")}
STATEMENT_TEXT = {"awaiting_payment": ("待缴费", "awaiting payment"), "paid": ("已缴费", "paid"),
                  "no_charge": ("无需缴费", "nothing to pay")}


def _label(table: dict[str, tuple[str, str]], key: str) -> list[str]:
    zh, en = table.get(key, (key, key))
    return [zh, en]


def _col(key: str, zh: str, en: str, *, num: bool = False, money: bool = False) -> dict[str, Any]:
    return {"key": key, "label": [zh, en], "num": num or money, "money": money}


def _table(tid: str, zh: str, en: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]],
           *, total: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"id": tid, "title": [zh, en], "columns": columns, "rows": rows,
                           "total": None}
    if total and rows:
        first = columns[0]["key"]
        out["total"] = {c["key"]: sum(int(r.get(c["key"]) or 0) for r in rows)
                        for c in columns if c["num"] and not c.get("no_total")}
        out["total"][first] = ["合计", "Total"]
    return out


def as_of(period: Period, today: dt.date | None = None) -> dt.date:
    """The day the figures stand on: the period's last day, or today while it runs."""
    return min(period.last, today or clock.today())


def _treasury(year: int, paid_fen: int) -> dict[str, Any]:
    """The year's revenue against its cap (最高准许收入) and the treasury share (上缴财政) of
    the net profit the cap counts (revenue less the allowed cost and the tax)."""
    from feeengine import split_net_profit

    from ...pricing import settings
    from ...pricing.store import latest_setting
    shares = settings.current_shares()
    cap = latest_setting(settings.CAP, str(year))
    reported = latest_setting(settings.BILLED, str(year))
    revenue = paid_fen + (int(reported.value["billed_fen"]) if reported else 0)
    cost = int(cap.value["allowed_cost_fen"]) if cap else 0
    tax = int(cap.value["tax_fen"]) if cap else 0
    net = max(0, revenue - cost - tax)
    split = split_net_profit(net, operator_share=shares["operator_share"],
                             merchant_shares={"merchants": shares["merchants_share"]},
                             treasury_pct=shares["treasury_pct"])
    total = int(cap.value["total_fen"]) if cap else 0
    return {"revenue_fen": revenue, "reported_fen": revenue - paid_fen, "cap_fen": total,
            "used_pct": str((Decimal(revenue) * 100 / total).quantize(Decimal("0.1")))
            if total else "", "net_profit_fen": net, "treasury_pct": str(shares["treasury_pct"]),
            "treasury_fen": split.treasury_fen}


def _usage_tables(start: dt.datetime, end: dt.datetime, *, names: bool) -> list[dict[str, Any]]:
    calls = q.calls(start, end)
    refusals = q.refusals(start, end)
    by_product: dict[str, dict[str, Any]] = {}
    for r in calls:
        p = by_product.setdefault(r["product"], {"product": r["product_title"], "granted": 0,
                                                 "refused": 0, "units": 0, "merchants": 0})
        p["granted"] += r["granted"]
        p["refused"] += r["refused"]
        p["units"] += r["units"]
        p["merchants"] += 1 if r["merchant_id"] and r["granted"] else 0
    products = sorted(by_product.values(), key=lambda p: (-p["granted"], p["product"]))
    merchant_col = dict(_col("merchants", "使用数商数", "Merchants", num=True), no_total=True)
    if not names:
        for p in products:
            p["merchants"] = f"<{SMALL}" if 0 < p["merchants"] < SMALL else p["merchants"]
        merchant_col = dict(merchant_col, num=False)
    out = [_table("calls_by_product", "按产品的调用次数", "Calls by product",
                  [_col("product", "产品", "Product"),
                   _col("granted", "放行", "Granted", num=True),
                   _col("refused", "拒绝", "Refused", num=True),
                   _col("units", "计量单位数", "Units", num=True), merchant_col],
                  products, total=names)]
    if names:
        out.append(_table("calls_by_merchant", "按产品和数商的调用次数",
                          "Calls by product and merchant",
                          [_col("product", "产品", "Product"), _col("merchant", "数商", "Merchant"),
                           _col("granted", "放行", "Granted", num=True),
                           _col("refused", "拒绝", "Refused", num=True),
                           _col("units", "计量单位数", "Units", num=True)],
                          [{"product": r["product_title"],
                            "merchant": r["company_name"] or r["merchant_id"] or "—",
                            "granted": r["granted"], "refused": r["refused"], "units": r["units"]}
                           for r in calls], total=True))
        out.append(_table("refusals", "拒绝的调用（按原因）", "Refused calls by reason",
                          [_col("error", "原因", "Reason"), _col("code", "代码", "Code"),
                           _col("n", "次数", "Calls", num=True)],
                          [{"error": _label(ERROR_TEXT, r["error"]), "code": r["error"],
                            "n": r["n"]} for r in refusals], total=True))
    else:
        for p in products:
            p.pop("refused")
        out[0]["columns"] = [c for c in out[0]["columns"] if c["key"] != "refused"]
        out[0]["total"] = {"product": ["合计", "Total"],
                           "granted": sum(p["granted"] for p in products),
                           "units": sum(p["units"] for p in products)}
    use = q.resource_use(start, end)
    out.append(_table("resource_use", "按数据资源的调用次数（放行）",
                      "Granted calls by catalog resource",
                      [_col("title", "数据资源", "Resource"), _col("unit", "数源单位", "Source unit"),
                       _col("calls", "调用次数", "Calls", num=True),
                       _col("products", "产品数", "Products", num=True)],
                      [{"title": r["title"], "unit": r["unit"], "calls": r["calls"],
                        "products": r["products"], "unit_name": r["unit_name"]} for r in use],
                      total=False))
    return out


def _operating(period: Period, start: dt.datetime, end: dt.datetime, today: dt.date,
               progress: Progress) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Summary and tables of a quarterly or an annual report."""
    progress("catalog")
    changes = q.catalog_changes(start, end)
    late = q.overdue(as_of(period, today))
    products = q.product_changes(start, end)
    progress("applications")
    apps = q.applications(start, end)
    ents = q.entitlements(start, end, as_of(period, today))
    progress("ledger")
    usage = _usage_tables(start, end, names=True)
    progress("alerts")
    alerts = q.alerts(start, end)
    progress("revenue")
    money = q.revenue(start, end)
    months = [f"{period.year}-{m:02d}" for m in range(period.first.month, period.last.month + 1)]
    statements = q.statements(months)
    ytd_start = q.bounds(Period("annual", period.year))[0]
    treasury = _treasury(period.year, q.revenue(ytd_start, end)["paid_fen"])
    granted = usage[0]["total"]["granted"] if usage[0]["total"] else 0
    refused = usage[0]["total"]["refused"] if usage[0]["total"] else 0

    def res(kind: str) -> list[dict[str, Any]]:
        return [{"title": r["title"], "unit": r["unit"], "unit_name": r["unit_name"],
                 "day": r["day"], "change":
                 _label({"added": ("新增", "added"), "changed": ("变更", "changed"),
                         "retired": ("退出", "retired")}, kind)} for r in changes[kind]]

    summary = [
        {"key": "resources_added", "label": ["新增数据资源", "Resources added"],
         "value": len(changes["added"]), "money": False},
        {"key": "resources_changed", "label": ["变更数据资源", "Resources changed"],
         "value": len(changes["changed"]), "money": False},
        {"key": "resources_retired", "label": ["退出数据资源", "Resources retired"],
         "value": len(changes["retired"]), "money": False},
        {"key": "overdue", "label": ["逾期未更新资源", "Overdue resources"], "value": len(late),
         "money": False},
        {"key": "products_listed", "label": ["上架产品", "Products listed"],
         "value": len(products["listed"]), "money": False},
        {"key": "products_delisted", "label": ["下架产品", "Products delisted"],
         "value": len(products["delisted"]), "money": False},
        {"key": "applications_submitted", "label": ["提交的申请", "Applications submitted"],
         "value": apps["submitted"], "money": False},
        {"key": "applications_approved", "label": ["审批通过", "Applications approved"],
         "value": apps["decided"].get("approved", 0), "money": False},
        {"key": "entitlements_granted", "label": ["新增授权", "Entitlements granted"],
         "value": sum(ents["granted"].values()), "money": False},
        {"key": "entitlements_in_force", "label": ["期末有效授权", "Entitlements in force"],
         "value": ents["in_force"], "money": False},
        {"key": "calls_granted", "label": ["放行调用", "Calls granted"], "value": granted,
         "money": False},
        {"key": "calls_refused", "label": ["拒绝调用", "Calls refused"], "value": refused,
         "money": False},
        {"key": "alerts", "label": ["超范围预警", "Over-scope alerts"],
         "value": sum(a["n"] for a in alerts), "money": False},
        {"key": "revenue", "label": ["本期收入", "Revenue"], "value": money["paid_fen"],
         "money": True},
        {"key": "treasury", "label": [f"上缴财政（{treasury['treasury_pct']}%，年度估算）",
                                      f"Treasury share ({treasury['treasury_pct']}%, year "
                                      f"estimate)"], "value": treasury["treasury_fen"],
         "money": True},
    ]
    tables = [
        _table("catalog_changes", "数据资源目录变更", "Catalog changes",
               [_col("change", "变更", "Change"), _col("title", "数据资源", "Resource"),
                _col("unit", "数源单位", "Source unit"), _col("day", "日期", "Date")],
               res("added") + res("changed") + res("retired")),
        _table("overdue", f"逾期未更新的数据资源（截至 {as_of(period, today)}）",
               f"Resources overdue for update (on {as_of(period, today)})",
               [_col("title", "数据资源", "Resource"), _col("unit", "数源单位", "Source unit"),
                _col("next_due", "应更新日期", "Due"),
                _col("days_overdue", "逾期天数", "Days overdue", num=True)],
               [{k: r[k] for k in ("title", "unit", "next_due", "days_overdue", "unit_name")}
                for r in late]),
        _table("products", "产品上架与下架", "Products listed and delisted",
               [_col("change", "变更", "Change"), _col("title", "产品", "Product"),
                _col("day", "日期", "Date")],
               [dict(r, change=["上架", "listed"]) for r in products["listed"]]
               + [dict(r, change=["下架", "delisted"]) for r in products["delisted"]]),
        _table("applications", "申请审批结果（本期作出决定）", "Applications decided in the period",
               [_col("outcome", "结果", "Outcome"), _col("n", "申请数", "Applications", num=True)],
               [{"outcome": _label(OUTCOME_TEXT, k), "n": v}
                for k, v in sorted(apps["decided"].items())], total=True),
        _table("entitlements", "授权", "Entitlements",
               [_col("status", "当前状态", "Status now"),
                _col("granted", "本期新增", "Granted in the period", num=True),
                _col("ended", "本期终止", "Ended in the period", num=True)],
               [{"status": _label(ENT_TEXT, s), "granted": ents["granted"].get(s, 0),
                 "ended": ents["ended"].get(s, 0)} for s in ENT_TEXT
                if ents["granted"].get(s) or ents["ended"].get(s)], total=True),
        *usage,
        _table("alerts", "超范围预警及处理结果", "Over-scope alerts and their outcome",
               [_col("kind", "类型", "Kind"), _col("outcome", "处理结果", "Outcome"),
                _col("n", "预警数", "Alerts", num=True),
                _col("refusals", "拒绝次数", "Refusals", num=True),
                _col("suspended", "触发暂停", "Suspended", num=True)],
               [dict(a, kind=_label(KIND_TEXT, a["kind"]),
                     outcome=_label(OUTCOME_TEXT, a["outcome"])) for a in alerts], total=True),
        _table("revenue", "收入（本期已缴费且未退款的订单）", "Revenue (orders paid in the period)",
               [_col("kind", "类型", "Kind"), _col("orders", "订单数", "Orders", num=True),
                _col("fen", "金额（元）", "Amount (yuan)", money=True)],
               [{"kind": _label(ORDER_TEXT, k), **v} for k, v in sorted(money["by_kind"].items())],
               total=True),
        _table("statements", "月度账单", "Monthly statements",
               [_col("month", "月份", "Month"), _col("status", "状态", "Status"),
                _col("n", "账单数", "Statements", num=True),
                _col("calls", "计费调用", "Calls billed", num=True),
                _col("fen", "金额（元）", "Amount (yuan)", money=True)],
               [dict(s, status=_label(STATEMENT_TEXT, s["status"])) for s in statements],
               total=True),
        _table("treasury", f"{period.year} 年收入与上缴财政（截至 {as_of(period, today)}）",
               f"Revenue of {period.year} and the treasury share (to {as_of(period, today)})",
               [_col("item", "项目", "Item"), _col("fen", "金额（元）", "Amount (yuan)", money=True)],
               [{"item": ["年度累计收入（含运营机构申报）", "Revenue of the year (incl. reported)"],
                 "fen": treasury["revenue_fen"]},
                {"item": ["最高准许收入", "Maximum allowed revenue"], "fen": treasury["cap_fen"]},
                {"item": ["净利润估算（收入 − 准许成本 − 税金）",
                          "Net profit estimate (revenue − allowed cost − tax)"],
                 "fen": treasury["net_profit_fen"]},
                {"item": [f"上缴财政 {treasury['treasury_pct']}%",
                          f"Treasury share {treasury['treasury_pct']}%"],
                 "fen": treasury["treasury_fen"]}]),
    ]
    if money["refunds"]:
        tables[-3]["rows"].append({"kind": ["退款（已完成）", "refunds completed"],
                                   "orders": money["refunds"], "fen": -money["refunded_fen"]})
    return summary, tables


def _prefixed(progress: Progress, prefix: str) -> Progress:
    return lambda step: progress(f"{prefix} {step}")


def _by_quarter(period: Period, today: dt.date, progress: Progress) -> dict[str, Any]:
    keys = ("calls_granted", "calls_refused", "applications_submitted", "applications_approved",
            "entitlements_granted", "alerts", "revenue", "resources_added", "overdue")
    rows = []
    for quarter in period.quarters():
        if quarter.first > today:
            continue
        start, end = q.bounds(quarter)
        summary, _ = _operating(quarter, start, end, today, _prefixed(progress, quarter.key))
        values = {s["key"]: s["value"] for s in summary}
        rows.append({"quarter": quarter.key, **{k: values[k] for k in keys}})
    labels = {"calls_granted": ("放行调用", "Granted"), "calls_refused": ("拒绝调用", "Refused"),
              "applications_submitted": ("提交申请", "Applications"),
              "applications_approved": ("审批通过", "Approved"),
              "entitlements_granted": ("新增授权", "Entitlements"),
              "alerts": ("预警", "Alerts"), "revenue": ("收入（元）", "Revenue (yuan)"),
              "resources_added": ("新增资源", "Resources added"),
              "overdue": ("逾期资源", "Overdue")}
    columns = [_col("quarter", "季度", "Quarter")] + [
        _col(k, *labels[k], num=True, money=k == "revenue") for k in keys]
    columns[-1]["no_total"] = True  # overdue resources on a day: not a sum over quarters
    return _table("by_quarter", "分季度情况", "By quarter", columns, rows, total=True)


def _disclosure(period: Period, start: dt.datetime, end: dt.datetime,
                progress: Progress) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from ...pricing.disclosure import disclosure
    progress("prices")
    prices = disclosure(period.year)
    product_rows, version_rows = [], []
    for item in prices["products"]:
        product_rows.append({"title": item["title"], "name": item["name"],
                             "category": list(words.words("use", item["category"])),
                             "status": list(words.words("product_status", item["status"]))
                             if item["status"] else "",
                             "industrial": ["允许", "allowed"] if item["industrial_use_allowed"]
                             else ["不允许", "not allowed"]})
        for v in item["ceilings"] + item["prices"]:
            version_rows.append({
                "title": item["title"],
                "kind": ["上限收费标准", "ceiling"] if v["kind"] == "ceiling" else
                ["实际收费标准", "actual price"],
                "unit": list(words.words("billing_unit", v["unit"])), "label": v["label"],
                "from": v["in_force_from"], "until": v["in_force_until"],
                "bands": [words.bands(v["schedule"]["bands"], v["unit"], zh) for zh in (True, False)],
                "trial": ["试行", "trial"] if v["trial"] else ""})
    progress("ledger")
    usage = _usage_tables(start, end, names=False)
    granted = usage[0]["total"]["granted"] if usage[0]["total"] else 0
    summary = [{"key": "products", "label": ["公开产品", "Products"], "value": len(product_rows),
                "money": False},
               {"key": "calls_granted", "label": ["全年放行调用", "Calls granted in the year"],
                "value": granted, "money": False},
               {"key": "resources_used", "label": ["被使用的数据资源", "Resources used"],
                "value": len(usage[-1]["rows"]), "money": False}]
    tables = [
        _table("product_list", "产品清单", "Product list",
               [_col("title", "产品", "Product"), _col("category", "类别", "Category"),
                _col("status", "状态", "Status"), _col("industrial", "产业使用", "Industrial use")],
               product_rows),
        _table("prices", "上限收费标准与实际收费标准（年内施行）",
               "Price ceilings and actual prices in force in the year",
               [_col("title", "产品", "Product"), _col("kind", "类型", "Kind"),
                _col("unit", "计费单位", "Unit"), _col("label", "名称", "Label"),
                _col("from", "起", "From"), _col("until", "止", "Until"),
                _col("bands", "分档单价（元）", "Bands (yuan)"), _col("trial", "试行", "Trial")],
               version_rows),
        *usage,
    ]
    return summary, tables


def build(period: Period, *, rules: DueRules | None = None, today: dt.date | None = None,
          progress: Progress | None = None) -> dict[str, Any]:
    """The figures of the report of ``period`` as they stand now (see the module docstring);
    ``progress`` is told each step (the CLI shows them)."""
    today = today or clock.today()
    tell = progress or (lambda step: None)
    start, end = q.bounds(period)
    if period.kind == "disclosure":
        summary, tables = _disclosure(period, start, end, tell)
    else:
        summary, tables = _operating(period, start, end, today, tell)
        if period.kind == "annual":
            tables.insert(0, _by_quarter(period, today, tell))
    charts = [{"id": "chart-calls", "title": ["按产品的调用次数", "Calls by product"],
               "table": "calls_by_product", "label": "product",
               "series": [["granted", "放行", "granted"]] + (
                   [["refused", "拒绝", "refused"]] if period.kind != "disclosure" else [])},
              {"id": "chart-resources", "title": ["按数据资源的调用次数", "Calls by resource"],
               "table": "resource_use", "label": "title",
               "series": [["calls", "调用次数", "calls"]]}]
    if period.kind == "annual":
        charts.insert(0, {"id": "chart-quarters", "title": ["分季度调用次数", "Calls by quarter"],
                          "table": "by_quarter", "label": "quarter",
                          "series": [["calls_granted", "放行", "granted"],
                                     ["calls_refused", "拒绝", "refused"]]})
    tell("done")
    return {"kind": period.kind, "period": period.key,
            "title": [period.title(True), period.title(False)],
            "first": period.first.isoformat(), "last": period.last.isoformat(),
            "due": due_date(period, rules or DueRules()).isoformat(), "as_of": as_of(period, today).isoformat(),
            "generated_at": clock.now_utc().isoformat(), "summary": summary, "tables": tables,
            "charts": charts}
