"""Report figures on a known world (reports_support.py), who may see each report, the pages
in Chinese and English, the XLSX; read-only (one world for the module)."""
from __future__ import annotations

import datetime as dt
import io

import pytest
import reports_support
from reports_support import (
    AFTER,
    COUNTS,
    Q,
    call_as,
    ledger_totals,
    paid_fen,
    sign_in,
    sign_out,
    table,
)

from ckanext.sanyi.common import clock
from ckanext.sanyi.domain.report_periods import due_date
from ckanext.sanyi.supervision.reports import queries

BJ = clock.local_tz()

# every test asks for the same fixtures (app, cli and tmp_path pull in others), so that one
# world serves the whole module
pytestmark = pytest.mark.usefixtures("with_plugins", "app", "cli", "tmp_path")


@pytest.fixture
def report_world(world, sanyi_db, request):
    return reports_support.layer(world, sanyi_db, request)
URL = f"/reports/quarterly/{Q.key}"


def test_quarterly_totals_equal_the_ledger(report_world):
    shown = call_as("operator_user", "sanyi_report_show", kind="quarterly", period=Q.key)
    figures = shown["figures"]
    start, end = queries.bounds(Q)
    truth = ledger_totals(start, end)
    assert truth == {"granted": COUNTS["granted_mine"] + COUNTS["granted_theirs"],
                     "refused": COUNTS["refused_theirs"],
                     "units": COUNTS["granted_mine"] + COUNTS["granted_theirs"]}
    by_merchant = table(figures, "calls_by_merchant")
    assert by_merchant["total"]["granted"] == truth["granted"]
    assert by_merchant["total"]["refused"] == truth["refused"]
    assert by_merchant["total"]["units"] == truth["units"]
    rows = {(r["product"], r["merchant"]): r["granted"] for r in by_merchant["rows"]}
    assert rows == {("个人健康画像与风险预警", "福州数商科技有限公司1"): 4,
                    ("慢病线上开处方", "福州数商科技有限公司2"): 3}
    summary = {s["key"]: s["value"] for s in figures["summary"]}
    assert summary["calls_granted"] == 7 and summary["calls_refused"] == 2
    # the 5 calls of the last minutes before the quarter are not in it
    assert ledger_totals(queries.bounds(Q)[0].replace(year=Q.year - 1), end)["granted"] == 12
    refusals = table(figures, "refusals")
    assert [(r["code"], r["n"]) for r in refusals["rows"]] == [("out_of_scope", 2)]
    use = {r["title"]: r["calls"] for r in table(figures, "resource_use")["rows"]}
    assert use == {"高血压患者健康管理数据": 7, "医保参保人员": 3}
    # money: the paid approval fee of merchant_two (15,000 calls × 0.30 yuan)
    assert summary["revenue"] == paid_fen(start, end) == 450000
    revenue = table(figures, "revenue")
    assert revenue["total"]["fen"] == 450000
    treasury = {r["item"][1]: r["fen"] for r in table(figures, "treasury")["rows"]}
    # no revenue cap set: net profit = revenue, 30 % to the treasury
    assert treasury["Net profit estimate (revenue − allowed cost − tax)"] == 450000
    assert summary["treasury"] == 135000
    # applications: 2 active and 1 rejected decided this quarter; 1 free + 1 paid entitlement
    outcomes = {r["outcome"][1]: r["n"] for r in table(figures, "applications")["rows"]}
    assert outcomes == {"approved": 2, "rejected": 1}
    assert summary["entitlements_granted"] == 2 and summary["entitlements_in_force"] == 2
    alerts = table(figures, "alerts")["rows"]
    assert [(a["kind"][1], a["outcome"][1], a["n"], a["refusals"]) for a in alerts] == [
        ("out of scope (product or operation)", "open", 1, 2)]
    # the catalog's resources and products were created this quarter (activity stream)
    changes = table(figures, "catalog_changes")["rows"]
    assert {r["title"] for r in changes if r["change"][1] == "added"} >= {
        "高血压患者健康管理数据", "医保参保人员", "市场流通药品相关数据"}
    listed = {r["title"] for r in table(figures, "products")["rows"] if r["change"][1] == "listed"}
    assert listed == {"慢病线上开处方", "个人健康画像与风险预警"}
    assert shown["state"] == "upcoming" and shown["stored"] is None


def test_annual_report_sums_its_quarters(report_world):
    figures = call_as("bureau_user", "sanyi_report_show", kind="annual",
                      period=str(Q.year))["figures"]
    by_quarter = table(figures, "by_quarter")
    mine = next(r for r in by_quarter["rows"] if r["quarter"] == Q.key)
    assert mine["calls_granted"] == 7 and mine["revenue"] == 450000
    summary = {s["key"]: s["value"] for s in figures["summary"]}
    assert by_quarter["total"]["calls_granted"] == summary["calls_granted"]
    assert summary["calls_granted"] == 7 + (5 if Q.quarter > 1 else 0)


ROLES = (("anonymous", 302), ("no_role", 403), ("merchant_user", 403), ("wj_editor", 200),
         ("operator_user", 200), ("bureau_user", 200))
# (parametrized tests would each be a kind of test of their own to sanyi_db, and build the
# world again: the roles are walked in one test)


def test_who_may_open_the_quarterly_report(report_world, app):
    for who, status in ROLES:
        sign_out(app)
        if who != "anonymous":
            sign_in(app, who)
        res = app.get(URL, follow_redirects=False)
        assert res.status_code == status, who
        page = res.get_data(as_text=True)
        if who == "wj_editor":  # the unit's own part: its resources, no merchants, no money
            assert "本单位部分" in page and "高血压患者健康管理数据" in page
            assert "医保参保人员" not in page and "福州数商科技有限公司" not in page
            assert "calls_by_merchant" not in page and "上缴财政" not in page
        if status == 200 and who != "wj_editor":
            assert "福州数商科技有限公司2" in page and "sanyi-chart" in page
            assert "sanyi-report-submit" not in page  # the quarter runs: nothing to submit yet
        if who == "anonymous":
            assert "/user/login" in res.headers["Location"]
        assert app.get(f"{URL}.xlsx", follow_redirects=False).status_code == status, who
        listing = app.get("/reports", follow_redirects=False).status_code
        assert listing == (200 if status == 200 else status), who


def test_the_api_refuses_the_quarterly_report(report_world):
    from ckan.plugins import toolkit as tk
    shown = call_as("wj_editor", "sanyi_report_show", kind="quarterly", period=Q.key)
    assert shown["audience"] == "unit"
    assert {t["id"] for t in shown["figures"]["tables"]} == {
        "catalog_changes", "overdue", "resource_use"}
    assert {r["title"] for r in shown["figures"]["tables"][2]["rows"]} == {"高血压患者健康管理数据"}
    for who in ("anonymous", "no_role", "merchant_user"):
        for action, data in (("sanyi_report_show", {"kind": "quarterly", "period": Q.key}),
                             ("sanyi_report_show", {"kind": "annual", "period": str(Q.year)}),
                             ("sanyi_report_list", {})):
            with pytest.raises(tk.NotAuthorized):
                call_as(who, action, **data)


def test_the_public_disclosure_names_no_merchant(report_world, app):
    for who, _ in ROLES:
        sign_out(app)
        if who != "anonymous":
            sign_in(app, who)
        res = app.get(f"/disclosure/{Q.year}")
        assert res.status_code == 200, who
        page = res.get_data(as_text=True)
        assert "福州数商科技有限公司" not in page
        assert "个人健康画像与风险预警" in page and "产品清单" in page
        assert "&lt;3" in page  # one merchant per product: shown as <3
        assert "尚未正式发布" in page
        assert app.get("/disclosure").status_code == 200
    shown = call_as("anonymous", "sanyi_report_show", kind="disclosure", period=str(Q.year))
    assert "calls_by_merchant" not in {t["id"] for t in shown["figures"]["tables"]}
    assert "福州数商科技有限公司" not in str(shown)


@pytest.mark.parametrize("prefix, zh", [("", True), ("/en", False)])
def test_the_disclosure_tables_speak_in_words(report_world, app, prefix, zh):
    """Category, status and billing unit in the page's language, not their codes; an industrial
    product may serve industrial use, a public-interest one only with the bureau's leave."""
    sign_out(app)
    page = app.get(f"{prefix}/disclosure/{Q.year}").get_data(as_text=True)
    def html_table(tid: str) -> str:
        return page.split(f'data-table="{tid}"', 1)[1].split("</table>", 1)[0]
    products = html_table("product_list")
    rows = {r.split("</td>", 1)[0].rsplit(">", 1)[-1]: r for r in products.split("<tr")[2:]}
    chronic, health = rows["慢病线上开处方"], rows["个人健康画像与风险预警"]
    if zh:
        assert "产业发展/行业发展" in chronic and ">允许<" in chronic and "已批准" in chronic
        assert "公共治理/公益事业" in health and ">不允许<" in health
    else:
        assert "industrial / industry development" in chronic and ">allowed<" in chronic
        assert "public governance / public welfare" in health and ">not allowed<" in health
    prices = html_table("prices")
    assert "慢病线上开处方" in prices and ("按服务次数" if zh else "per call") in prices
    for code in (">industrial<", ">public_interest<", ">approved<", ">call<"):
        assert code not in page


def test_english_and_chinese_pages(report_world, app):
    sign_in(app, "bureau_user")
    zh = app.get(URL).get_data(as_text=True)
    en = app.get(f"/en{URL}").get_data(as_text=True)
    assert "按产品的调用次数" in zh and "Calls by product" not in zh
    assert "Calls by product" in en and "按产品的调用次数" not in en
    assert "Quarterly usage report" in en
    sign_out(app)
    public = app.get(f"/en/disclosure/{Q.year}").get_data(as_text=True)
    assert "Product list" in public and "no merchant is named" in public


def test_xlsx_holds_the_tables(report_world, app):
    from openpyxl import load_workbook
    sign_in(app, "operator_user")
    res = app.get(f"{URL}.xlsx")
    assert res.status_code == 200 and res.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(res.get_data()))
    assert book.sheetnames[0] == "摘要"
    sheet = book["按产品和数商的调用次数"]
    rows = list(sheet.values)
    assert rows[0] == ("产品", "数商", "放行", "拒绝", "计量单位数")
    assert rows[-1][0] == "合计" and rows[-1][2] == 7 and rows[-1][3] == 2
    money = list(book["收入（本期已缴费且未退款的订单）"].values)
    assert float(money[-1][2]) == 4500.0


def test_bad_periods_are_404(report_world, app):
    sign_in(app, "bureau_user")
    for path in ("/reports/quarterly/2026Q5", "/reports/monthly/2026", "/reports/annual/abcd",
                 f"/reports/quarterly/{Q.year + 1}Q4", f"{URL}.doc", "/disclosure/20x6"):
        assert app.get(path, follow_redirects=False).status_code == 404, path


def test_bad_periods_are_field_errors_over_the_api(report_world):
    from ckan.plugins import toolkit as tk
    with pytest.raises(tk.ValidationError) as err:
        call_as("bureau_user", "sanyi_report_show", kind="quarterly", period="2026Q9")
    assert "period" in err.value.error_dict
    message = " ".join(err.value.error_dict["period"])
    assert "季度" in message and "quarter" in message


def test_reminders_on_the_dashboards(report_world, app):
    overdue_day = due_date(Q) + dt.timedelta(days=1)
    for when, words in ((AFTER, "还剩"), (dt.datetime.combine(overdue_day, dt.time(9), BJ),
                                        "已逾期")):
        with clock.freeze(when):
            for who in ("operator_user", "bureau_user"):
                sign_in(app, who)
                page = app.get("/dashboard/reports").get_data(as_text=True)
                banner = page.split('class="alert', 1)[1].split("</div>", 1)[0]
                assert f'data-period="{Q.key}"' in banner and words in banner
                assert "sanyi-reports-due" in app.get("/dashboard/overdue").get_data(
                    as_text=True)
            sign_in(app, "merchant_user")
            assert "sanyi-reports-due" not in app.get("/dashboard/overdue").get_data(
                as_text=True)
            assert app.get("/dashboard/reports", follow_redirects=False).status_code == 403
    with clock.freeze(dt.datetime.combine(overdue_day, dt.time(9), BJ)):
        sign_in(app, "operator_user")
        en = app.get("/en/dashboard/reports").get_data(as_text=True)
        assert "overdue by 1 days" in en and "Reports due" in en


def test_cli_builds_the_report_with_progress(report_world, cli, tmp_path):
    import subprocess

    from ckan.cli.cli import ckan
    result = cli.invoke(ckan, ["sanyi", "report", "quarterly", Q.key, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    for step in ("catalog", "ledger", "revenue", "xlsx", "pdf (WeasyPrint)"):
        assert f"] {step}" in result.output
    assert "放行调用: 7" in result.output
    pdf = tmp_path / f"sanyi-quarterly-{Q.key}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    assert "季度使用情况报告" in text and "按产品的调用次数" in text
    assert (tmp_path / f"sanyi-quarterly-{Q.key}.xlsx").stat().st_size > 1000
    bad = cli.invoke(ckan, ["sanyi", "report", "quarterly", "2026Q7"])
    assert bad.exit_code == 2 and "YYYYQn" in bad.output
