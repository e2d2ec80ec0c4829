"""The usage part of the merchant's 我的授权 and the bureau's supervision page
(``/bureau/delivery``): the chart (server-rendered SVG) with the day's counts once ledger rows
are recorded, quota used and left, the example calls and the documentation link; the open
alerts with the bureau's forms (POST with the CSRF token), suspended entitlements; who may see
the page; Chinese by default, English under /en/."""
from __future__ import annotations

import re

import pytest
from csrf_tokens import csrf_token
from pagecheck import checked_body, page_text
from supervision_records import T0, grant, open_alerts, refuse, status_of

from ckanext.sanyi.common import clock

pytestmark = pytest.mark.usefixtures("with_plugins")
MINE = "/merchant/entitlements"
BUREAU = "/bureau/delivery"


def _day(body: str, entitlement_id: str, day: str) -> tuple[int, int]:
    card = body[body.index(f'class="card mb-3 sanyi-usage" data-entitlement="{entitlement_id}"'):]
    match = re.search(rf'data-day="{day}" data-granted="(\d+)" data-refused="(\d+)"', card)
    assert match, f"no bar of {day}"
    return int(match.group(1)), int(match.group(2))


def test_the_merchant_sees_the_days_calls_quota_and_examples(sup_world, app, login):
    ent = sup_world["entitlement"]
    login(app, "merchant_user")
    today = clock.today().isoformat()
    before = checked_body(app.get(MINE), MINE)
    assert _day(before, ent["id"], today) == (0, 0)
    grant(ent, n=3)
    refuse(ent, "out_of_scope")
    body = checked_body(app.get(MINE), MINE)
    assert "<svg" in body and 'class="sanyi-usage-chart"' in body and "<script" not in body.split(
        'id="usage"')[1].split("</section>")[0]
    assert _day(body, ent["id"], today) == (3, 1)
    text = page_text(body)
    assert "近 30 天每日调用次数" in text and "放行 3" in text and "拒绝 1" in text
    assert f"{today}：放行 3 次，拒绝 1 次" in body
    card = body[body.index(f'sanyi-usage" data-entitlement="{ent["id"]}"'):]
    quota = int(ent["quota"])
    assert re.search(r'sanyi-quota-used">3<', card)
    assert re.search(rf'sanyi-quota-left">{quota - 3:,}<', card)
    assert "/api/delivery/docs" in card and "接口文档" in card
    assert f"/api/delivery/v1/{ent['product_name']}/" in card and "grant_type=client_credentials" in card
    assert "Authorization: Bearer" in card
    # 个人健康画像与风险预警's operation, with its input's example
    assert f"/api/delivery/v1/{ent['product_name']}/health-profile" in card
    assert 'data-operation="health-profile"' in card and "420802195803124021" in card
    other = sup_world["other_entitlement"]["id"]
    assert f'data-entitlement="{other}"' not in body

    english = checked_body(app.get("/en" + MINE), "/en" + MINE)
    text = page_text(english)
    assert "Calls per day, last 30 days" in text and "API documentation" in text
    assert f"{today}: 3 granted, 1 refused" in english


@pytest.mark.parametrize("who, status", [("no_role", 403), ("merchant_user", 403),
                                         ("wj_editor", 403)])
def test_only_bureau_and_operator_open_the_supervision_page(sup_world, app, login, who, status):
    res = app.get(BUREAU, follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]
    login(app, who)
    checked_body(app.get(BUREAU), BUREAU, status)


def test_the_bureau_sees_alerts_and_suspensions_and_decides(sup_world, app, login):
    ent = sup_world["entitlement"]
    for i in range(5):
        refuse(ent, "out_of_scope", T0.replace(minute=i))
    refuse(sup_world["other_entitlement"], "quota_exhausted", T0)
    login(app, "operator_user")
    body = checked_body(app.get(BUREAU), BUREAU)
    assert "sanyi-alert-decide" not in body and 'data-kind="out_of_scope"' in body

    login(app, "bureau_user")
    body = checked_body(app.get(BUREAU), BUREAU)
    text = page_text(body)
    assert "超范围调用监管" in text and "待核实的预警" in text and "已暂停的授权" in text
    assert "10 分钟内 5 次超授权范围调用" in text and "暂停待核实" in text
    row = body[body.index('data-kind="out_of_scope"'):]
    assert re.search(r'sanyi-alert-count">5<', row) and "已触发暂停待核实" in row
    assert f'data-entitlement="{ent["id"]}" data-suspension="pending_verification"' in body
    alert_id = re.search(r'data-alert="(\d+)" data-kind="out_of_scope"', body).group(1)
    action = f"{BUREAU}/alerts/{alert_id}"
    assert f'action="{action}"' in body and 'name="_csrf_token"' in row.split("</form>")[0]

    assert app.post(action, data={"decision": "dismiss"}).status_code == 400  # no CSRF token
    assert status_of(ent["id"])[0] == "suspended"
    res = app.post(action, data={"decision": "confirm", "_csrf_token": csrf_token(app, BUREAU)})
    text = page_text(checked_body(res, action))
    assert "请填写核实意见" in text and status_of(ent["id"])[0] == "suspended"
    res = app.post(action, data={"decision": "dismiss", "_csrf_token": csrf_token(app, BUREAU)},
                   follow_redirects=False)
    assert res.status_code == 302 and res.headers["Location"].endswith(BUREAU)
    assert status_of(ent["id"]) == ("active", "active") and "out_of_scope" not in open_alerts(ent["id"])
    body = checked_body(app.get(BUREAU), BUREAU)
    assert "处理决定已保存" in page_text(body) and "核实无误，恢复使用" in page_text(body)

    english = page_text(checked_body(app.get("/en" + BUREAU), "/en" + BUREAU))
    assert "Over-scope supervision" in english and "Open alerts" in english
    assert "calls after the quota was exhausted" in english


def test_a_merchant_cannot_post_a_decision(sup_world, app, login):
    ent = sup_world["entitlement"]
    reaction = refuse(ent, "out_of_scope", T0)
    login(app, "merchant_user")
    res = app.post(f"{BUREAU}/alerts/{reaction.alert_id}",
                   data={"decision": "dismiss", "_csrf_token": csrf_token(app, MINE)})
    assert res.status_code == 403
    assert open_alerts(ent["id"]) == {"out_of_scope": 1}
