"""The bureau's supervision view over HTTP, on one known world per module (read-only: the
world is built once, ``bureau_view_support``): who may open it, each figure (the JSON of
``sanyi_supervision_figures`` and the page that shows it), the filters by period, data unit
and product, bad filters as field errors (never a 500), Chinese and English."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from bureau_view_support import TODAY, D, build_view_world, csrf_token, sign_in
from pagecheck import checked_body, page_text

pytestmark = pytest.mark.usefixtures("with_plugins")
PAGE = "/bureau/supervision"
API = "/api/3/action/sanyi_supervision_figures"


@pytest.fixture(scope="module")
def app():
    """One test app for the module (CKAN's ``app`` builds one for every test, seconds each);
    each test signs in afresh."""
    from ckan.lib.app_globals import _CONFIG_CACHE
    from ckan.tests import helpers
    _CONFIG_CACHE.clear()
    return helpers._get_test_app()


@pytest.fixture
def view_world(world, sanyi_db, request):
    """The known world (``build_view_world``), built once for the module: the tests only read."""
    return sanyi_db.layer(request, lambda: build_view_world(world))


def figures(app, **args):
    res = app.get(API, query_string=args)
    assert res.status_code == 200, res.get_data(as_text=True)[:500]
    return json.loads(res.get_data(as_text=True))["result"]


def test_who_may_open_the_view(view_world, app):
    res = app.get(PAGE, follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]
    assert app.get("/en" + PAGE, follow_redirects=False).status_code == 302
    assert app.get(API).status_code == 403
    for who in ("no_role", "merchant_user", "wj_editor", "operator_user"):
        sign_in(app, who)
        for url in (PAGE, "/en" + PAGE, PAGE + "/audit"):
            body = checked_body(app.get(url), url, 403)
            assert "数据局" in body or "bureau" in body
        assert app.get(API).status_code == 403
    for who in ("bureau_user", "sysadmin"):
        sign_in(app, who)
        text = page_text(checked_body(app.get(PAGE), PAGE))
        assert "监督管理" in text and "每日调用" in text and "待审核上架的产品" in text
        english = page_text(checked_body(app.get("/en" + PAGE), "/en" + PAGE))
        assert "Supervision" in english and "Calls per day" in english
        assert "Products awaiting approval" in english and "每日调用" not in english
        nav = checked_body(app.get("/bureau/delivery"), "/bureau/delivery")
        assert 'href="/bureau/supervision">监督管理</a>' in nav


def test_each_figure_on_the_known_world(view_world, app):
    sign_in(app, "bureau_user")
    f = figures(app)
    assert f["filters"] == {"date_from": (TODAY - dt.timedelta(days=29)).isoformat(),
                            "date_to": TODAY.isoformat()}
    assert f["timezone"] == "Asia/Shanghai"
    days = {d["day"]: (d["granted"], d["refused"]) for d in f["calls"]["days"]}
    assert len(days) == 30
    assert days[D.isoformat()] == (3, 3)
    # 00:30 Beijing time is 16:30 UTC the day before: counted on the Beijing day
    assert days[(D + dt.timedelta(days=1)).isoformat()] == (2, 0)
    assert (f["calls"]["granted"], f["calls"]["refused"]) == (5, 3)
    assert [(r["code"], r["count"]) for r in f["calls"]["by_reason"]] == \
        [("out_of_scope", 2), ("quota_exhausted", 1)]
    assert f["calls"]["by_reason"][1]["zh"] == "授权额度已用尽"
    ents = {r["status"]: r["count"] for r in f["entitlements"]["by_status"]}
    assert ents == {"active": 1, "suspended": 1, "expired": 1, "revoked": 0}
    kinds = {r["kind"]: (r["alerts"], r["refusals"]) for r in f["alerts"]["by_kind"]}
    assert kinds["out_of_scope"] == (1, 1) and f["alerts"]["total"] == 1
    [period] = f["revenue"]["periods"]
    # last year's 10,000 fen over its cap are deducted from this year's 100,000
    assert (period["period"], period["effective_cap_fen"], period["billed_fen"]) == \
        (str(TODAY.year), 90_000, 85_000)
    assert (period["used_pct"], period["level"], period["warning_pct"]) == ("94.44", "warning", "80")
    overdue = {u["name"]: u for u in f["overdue"]["units"]}
    assert set(overdue) == {"shi-yi-bao-ju", "shi-yao-jian-ju"} and f["overdue"]["total"] == 2
    assert [r["name"] for r in overdue["shi-yi-bao-ju"]["resources"]] == ["claims-old"]
    assert overdue["shi-yi-bao-ju"]["most_days"] > overdue["shi-yao-jian-ju"]["most_days"] > 0
    steps = {s["step"]: s for s in f["waiting"]["steps"]}
    assert {k: s["count"] for k, s in steps.items()} == \
        {"unit_review": 1, "bureau_review": 1, "awaiting_payment": 0}
    assert steps["unit_review"]["oldest_days"] == 0 and steps["awaiting_payment"]["oldest_days"] is None
    assert {u["name"]: u["count"] for u in steps["unit_review"]["units"]} == \
        {"shi-wei-jian-wei": 1, "shi-yi-bao-ju": 1}


def test_the_page_shows_the_figures_and_their_charts(view_world, app):
    sign_in(app, "bureau_user")
    body = checked_body(app.get(PAGE), PAGE)
    assert body.count("<svg") == 6 and "<script" not in body.split('id="calls"')[1].split("</section>")[0]
    assert re.search(rf'data-day="{D.isoformat()}" data-granted="3" data-refused="3"', body)
    assert 'data-code="out_of_scope" data-count="2"' in body
    assert 'data-status="suspended" data-count="1"' in body
    assert 'data-kind="out_of_scope" data-count="1"' in body
    assert f'data-period="{TODAY.year}" data-level="warning" data-used-pct="94.44"' in body
    assert '<g class="sanyi-bar-mark" data-value="80">' in body and 'data-value="100"' in body
    # the portal's charts (common/charts.py): 4 statuses, 3 entitlements in all
    assert 'aria-labelledby="sup-entitlements-title sup-entitlements-desc" data-labels="4" ' \
        'data-totals="3"' in body
    assert 'data-label="已暂停" data-series="授权" data-value="1"' in body
    assert 'data-unit="shi-yi-bao-ju" data-count="1"' in body
    assert 'data-step="unit_review" data-count="1"' in body
    text = page_text(body)
    assert "超出授权范围（产品或操作）" in text and "达到预警线 80%" in text
    assert "医保结算清单（逾期）" in text and "数据局审批" in text
    english = page_text(checked_body(app.get("/en" + PAGE), "/en" + PAGE))
    assert "quota is used up" in english and "at the warning mark" in english
    assert "bureau approval" in english and "Overdue catalog resources by data unit" in english


def test_filters_by_period_unit_and_product(view_world, app):
    sign_in(app, "bureau_user")
    day = figures(app, date_from=D.isoformat(), date_to=D.isoformat())
    assert (day["calls"]["granted"], day["calls"]["refused"]) == (3, 3)
    assert len(day["calls"]["days"]) == 1 and day["alerts"]["total"] == 1
    after = figures(app, date_from=(D + dt.timedelta(days=1)).isoformat())
    assert (after["calls"]["granted"], after["calls"]["refused"]) == (2, 0)
    assert after["alerts"]["total"] == 0  # its refusals were all on D
    long_ago = figures(app, date_from=(TODAY - dt.timedelta(days=90)).isoformat(),
                       date_to=(TODAY - dt.timedelta(days=61)).isoformat())
    assert long_ago["entitlements"]["total"] == 0 and long_ago["calls"]["granted"] == 0
    assert long_ago["overdue"]["as_of"] == (TODAY - dt.timedelta(days=61)).isoformat()
    assert [u["name"] for u in long_ago["overdue"]["units"]] == ["shi-yi-bao-ju"]
    last_year = figures(app, date_from=f"{TODAY.year - 1}-12-20")  # at most 377 days
    levels = {p["period"]: (p["used_pct"], p["level"]) for p in last_year["revenue"]["periods"]}
    assert levels == {str(TODAY.year - 1): ("110.00", "exceeded"),
                      str(TODAY.year): ("94.44", "warning")}

    chronic = figures(app, product="chronic-refill")
    assert (chronic["calls"]["granted"], chronic["calls"]["refused"]) == (2, 0)
    assert chronic["entitlements"]["total"] == 0 and chronic["alerts"]["total"] == 0
    assert chronic["overdue"]["total"] == 0  # it draws on hypertension and insured
    assert {s["step"]: s["count"] for s in chronic["waiting"]["steps"]}["unit_review"] == 1
    health = figures(app, product="health-profile")
    assert {s["step"]: s["count"] for s in health["waiting"]["steps"]} == \
        {"unit_review": 0, "bureau_review": 1, "awaiting_payment": 0}

    yb = figures(app, organization="shi-yi-bao-ju")
    assert (yb["calls"]["granted"], yb["calls"]["refused"]) == (2, 0)  # calls reading insured
    assert yb["entitlements"]["total"] == 0  # it supplies chronic-refill only
    assert [u["name"] for u in yb["overdue"]["units"]] == ["shi-yi-bao-ju"]
    assert yb["waiting"]["total"] == 1
    wj = figures(app, organization="shi-wei-jian-wei")
    assert wj["calls"]["granted"] == 3 and wj["entitlements"]["total"] == 3
    assert wj["waiting"]["total"] == 2 and wj["overdue"]["total"] == 0
    both = figures(app, organization="shi-wei-jian-wei", product="chronic-refill")
    assert both["calls"]["granted"] == 0 and both["entitlements"]["total"] == 0

    body = checked_body(app.get(PAGE, query_string={"organization": "shi-yi-bao-ju",
                                                    "product": "chronic-refill"}), PAGE)
    assert '<option value="shi-yi-bao-ju" selected>' in body
    assert '<option value="chronic-refill" selected>' in body
    assert 'data-granted="2" data-refused="0"' in body


# not parametrized: a test's parameters are fixtures to the world's key, so each case would
# build a world of its own
BAD_FILTERS = [
    ({"date_from": "2026-13-01"}, "date_from", "日期格式须为 YYYY-MM-DD"),
    ({"date_to": "yesterday"}, "date_to", "date must be YYYY-MM-DD"),
    ({"date_from": "2025-06-02", "date_to": "2025-06-01"}, "date_to", "结束日期早于开始日期"),
    ({"date_from": "2024-01-01", "date_to": "2025-06-01"}, "date_from", "最多 400 天"),
    ({"date_from": "2999-01-01"}, "date_from", "开始日期不能晚于今天"),
    ({"organization": "no-such-unit"}, "organization", "没有这个数源单位"),
    ({"organization": "shi-shu-ju-ju"}, "organization", "no such data unit"),
    ({"product": "hypertension"}, "product", "没有这个产品"),
    ({"product": "<b>x</b>"}, "product", "没有这个产品：&lt;b&gt;x&lt;/b&gt;"),
    ({"organization": "x" * 300}, "organization", "数源单位须为名称文本"),
]


def test_bad_filters_are_field_errors(view_world, app):
    sign_in(app, "bureau_user")
    for args, field, words in BAD_FILTERS:
        body = checked_body(app.get(PAGE, query_string=args), PAGE, 400)
        match = re.search(rf'sanyi-field-error" data-field="{field}">([^<]+)<', body)
        assert match and words in match.group(1), (args, body[:3000])
        assert "每日调用" in page_text(body)  # the figures are still there, for the defaults
        res = app.get(API, query_string=args)
        assert res.status_code == 409
        assert field in json.loads(res.get_data(as_text=True))["error"]
    # JSON of the wrong types, over the API: field errors too
    token = csrf_token(app, PAGE)
    res = app.post(API, json={"date_from": ["2026-01-01"], "organization": 5, "product": {"a": 1}},
                   headers={"X-CSRFToken": token})
    assert res.status_code == 409
    assert set(json.loads(res.get_data(as_text=True))["error"]) >= {"date_from", "organization", "product"}
    english = checked_body(app.get("/en" + PAGE, query_string={"organization": "nope"}), "/en" + PAGE, 400)
    assert 'data-field="organization"' in english and "Some filters are invalid" in english


def test_text_no_database_can_hold_is_refused_at_the_door(view_world, app):
    sign_in(app, "bureau_user")
    res = app.get(PAGE, query_string={"product": "a\x00b"})
    assert res.status_code == 400 and "Traceback" not in res.get_data(as_text=True)


def test_the_queue_shows_who_may_approve(view_world, app):
    sign_in(app, "bureau_user")
    body = checked_body(app.get(PAGE), PAGE)
    assert 'sanyi-queue-count">2<' in body
    mine = body[body.index('data-product="filed-claims"'):].split("</tr>")[0]
    theirs = body[body.index('data-product="filed-underwriting"'):].split("</tr>")[0]
    assert "sanyi-own-filing" in mine and 'value="approve"' not in mine and 'value="return"' in mine
    assert 'value="approve"' in theirs and 'name="_csrf_token"' in theirs
    assert "operator_user" in theirs and "bureau_user" in mine
    sign_in(app, "bureau_two")
    body = checked_body(app.get(PAGE), PAGE)
    assert "sanyi-own-filing" not in body and body.count('value="approve"') == 2
    # the product's edit form points to the queue (no approving by a dropdown unexplained)
    edit = checked_body(app.get("/product/edit/filed-underwriting"), "/product/edit")
    assert "待审核上架的产品" in page_text(edit) and "/bureau/supervision" in edit


AUDIT = "/bureau/supervision/audit"


def _entries(body: str) -> list[str]:
    return re.findall(r'class="sanyi-audit-entry" data-id="(\d+)" data-action="([^"]+)"', body)


def test_the_audit_log_reads_as_words_in_beijing_time(view_world, app):
    from ckan import model
    from sqlalchemy import text

    from ckanext.sanyi.common import clock
    sign_in(app, "bureau_user")
    body = checked_body(app.get(AUDIT, query_string={"action": "sanyi_revenue_cap_set"}), AUDIT)
    rows = _entries(body)
    assert len(rows) == 2 and {a for _, a in rows} == {"sanyi_revenue_cap_set"}
    assert 'sanyi-audit-count">2<' in body
    created = model.Session.execute(text(
        "SELECT created FROM sanyi_audit WHERE id = :i"), {"i": int(rows[0][0])}).scalar_one()
    entry = body[body.index(f'data-id="{rows[0][0]}"'):].split('class="sanyi-audit-entry"')[0]
    assert f'sanyi-audit-when">{clock.format_datetime(created)}<' in entry
    assert clock.format_datetime(created) == created.astimezone(clock.local_tz()).strftime("%Y-%m-%d %H:%M")
    text_ = page_text(entry)
    assert "核定最高准许收入" in text_ and "最高准许收入" in text_
    # a first value: every field is new, shown as a row of the diff table
    assert 'data-field="allowed_cost_fen" data-change="added"' in entry and "¥600.00" in entry
    english = checked_body(app.get("/en" + AUDIT, query_string={"action": "sanyi_revenue_cap_set"}),
                           AUDIT)
    assert "set the maximum allowed revenue" in page_text(english)

    # a change: only the fields that differ, before and after
    body = checked_body(app.get(AUDIT, query_string={"action": "sanyi_entitlement_suspended"}), AUDIT)
    [(rid, _)] = _entries(body)
    entry = body[body.index(f'data-id="{rid}"'):].split("</table>")[0]
    assert "暂停使用授权" in page_text(body)
    assert re.search(r'data-field="status" data-change="changed"><td class="text-break" title="status">状态</td>'
                     r'<td class="text-break">有效</td><td class="text-break">已暂停</td>', entry)
    assert 'data-field="quota"' not in entry  # unchanged fields are left out


def test_the_audit_log_filters_and_pages(view_world, app, monkeypatch):
    from ckanext.sanyi.supervision import views
    sign_in(app, "bureau_user")
    everything = checked_body(app.get(AUDIT), AUDIT)
    total = int(re.search(r'sanyi-audit-count">(\d+)<', everything).group(1))
    assert total > 20 and len(_entries(everything)) == min(total, views.PER_PAGE)
    mine = checked_body(app.get(AUDIT, query_string={"actor": "bureau_user"}), AUDIT)
    actors = re.findall(r'<td><a href="/bureau/supervision/audit\?actor=([^"]+)">', mine)
    assert actors and set(actors) == {"bureau_user"}
    product = view_world["by_bureau"]["id"]
    assert _entries(checked_body(app.get(AUDIT, query_string={"object_type": "product",
                                                              "object_id": product}), AUDIT)) == []
    ent = view_world["suspended"]["entitlement"]["id"]
    by_object = _entries(checked_body(app.get(AUDIT, query_string={
        "object_type": "entitlement", "object_id": ent}), AUDIT))
    assert [a for _, a in by_object] == ["sanyi_entitlement_suspended", "sanyi_entitlement_create"]

    monkeypatch.setattr(views, "PER_PAGE", 3)
    first = checked_body(app.get(AUDIT, query_string={"actor": "bureau_user"}), AUDIT)
    second = checked_body(app.get(AUDIT, query_string={"actor": "bureau_user", "page": "2"}), AUDIT)
    assert len(_entries(first)) == 3 and _entries(second)
    assert not set(_entries(first)) & set(_entries(second))
    assert int(_entries(first)[-1][0]) > int(_entries(second)[0][0])  # newest first
    link = re.search(r'sanyi-page-next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "page=2" in link and "actor=bureau_user" in link
    assert checked_body(app.get(AUDIT, query_string={"page": "x"}), AUDIT)  # page 1
    far = checked_body(app.get(AUDIT, query_string={"page": "999999999"}), AUDIT)
    assert _entries(far) == []


def test_bad_audit_filters_are_field_errors(view_world, app):
    sign_in(app, "bureau_user")
    for field in ("actor", "action", "object_type", "object_id"):
        body = checked_body(app.get(AUDIT, query_string={field: "x" * 300}), AUDIT, 400)
        assert f'sanyi-field-error" data-field="{field}"' in body and "标识过长" in body
        assert _entries(body)  # the rest of the log is shown


def test_the_pricing_page_links_to_the_audit_log(view_world, app):
    sign_in(app, "bureau_user")
    body = checked_body(app.get("/bureau/pricing"), "/bureau/pricing")
    assert 'href="/bureau/supervision/audit?object_type=revenue_cap"' in body
    assert 'class="table table-sm sanyi-audit"' not in body and "font-monospace\">{" not in body
