"""Dates and times are Asia/Shanghai for people: "today" on a Beijing morning (while the UTC
date is still the day before), and every stored time shown as ``YYYY-MM-DD HH:MM`` in
Beijing time, over HTTP through the test app (same process, so ``clock.freeze`` reaches it)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from applications_support import to_status
from ckan import model
from ckan.plugins import toolkit as tk
from ckan.tests import factories, helpers
from pagecheck import checked_body, page_text
from payments_support import new_order, order_row

from ckanext.sanyi.applications.model import application_table, review_table
from ckanext.sanyi.common import audit, clock
from ckanext.sanyi.payments.model import order_table

pytestmark = pytest.mark.usefixtures("with_plugins")

BEIJING_MORNING = "2026-12-01T18:30:00+00:00"   # 2026-12-02 02:30 in Beijing
STORED = dt.datetime(2026, 12, 1, 18, 25, tzinfo=dt.timezone.utc)
SHOWN = "2026-12-02 02:25"


@pytest.fixture
def beijing_morning():
    with clock.freeze(BEIJING_MORNING) as moment:
        yield moment


def _token(user: str) -> dict[str, str]:
    return {"Authorization": factories.APIToken(user=user)["token"]}


def _get(app, url: str, headers: dict[str, str] | None = None, status: int = 200) -> str:
    res = app.get(url, headers=headers or {})
    return checked_body(res, url, status)




def _catalog_resource(name: str, last_updated: str) -> dict:
    return helpers.call_action(
        "package_create", context={"user": "wj_editor", "ignore_auth": False},
        name=name, title=f"资源 {name}", owner_org="shi-wei-jian-wei", domain="health",
        delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
        open_attribute="authorized", last_updated=last_updated)


# -- "today" is the Beijing date ----------------------------------------------------------------
def test_today_is_the_beijing_date_on_a_beijing_morning(beijing_morning):
    assert clock.now_utc() == dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.timezone.utc)
    assert clock.today() == dt.date(2026, 12, 2)


def test_mark_updated_over_http_sets_the_beijing_date(app, sanyi_orgs, beijing_morning):
    _catalog_resource("tz-monthly", "2026-10-31")           # due 2026-11-30
    editor = _token("wj_editor")
    # the banner counts days from the Beijing date: 2 days overdue, not 1
    assert "已逾期 2 天" in page_text(_get(app, "/dataset/tz-monthly"))
    assert "2 days overdue" in page_text(_get(app, "/en/dataset/tz-monthly"))
    res = app.post("/dataset/tz-monthly/mark-updated", headers=editor)
    assert res.status_code == 200
    pkg = helpers.call_action("package_show", id="tz-monthly", context={"use_cache": False})
    assert (pkg["last_updated"], pkg["next_due"]) == ("2026-12-02", "2027-01-02")
    assert "sanyi-overdue-banner" not in _get(app, "/dataset/tz-monthly")


def test_a_date_received_today_in_beijing_is_accepted_and_tomorrow_refused(
        app, sanyi_orgs, beijing_morning):
    _catalog_resource("tz-date", "2026-11-01")
    ctx = {"user": "wj_editor", "ignore_auth": False}
    pkg = helpers.call_action("sanyi_mark_updated", context=dict(ctx), id="tz-date",
                              date="2026-12-02")
    assert pkg["last_updated"] == "2026-12-02"
    with pytest.raises(tk.ValidationError) as err:
        helpers.call_action("sanyi_mark_updated", context=dict(ctx), id="tz-date",
                            date="2026-12-03")
    message = err.value.error_dict["last_updated"][0]
    assert "晚于今天 2026-12-02" in message and "today is 2026-12-02" in message


def test_bank_transfer_received_today_in_beijing_is_accepted(app, pay_world, beijing_morning):
    order = new_order()
    operator = _token("operator_user")
    tomorrow = app.post(f"/order/{order['id']}/bank-transfer", headers=operator,
                        data={"reference": "HX-TZ", "amount": "6500.00",
                              "received_on": "2026-12-03"})
    assert tomorrow.status_code == 200
    assert "到账日期不能晚于今天" in tomorrow.get_data(as_text=True)
    assert order_row(order["id"])["status"] == "awaiting_payment"

    res = app.post(f"/order/{order['id']}/bank-transfer", headers=operator,
                   data={"reference": "HX-TZ", "amount": "6500.00",
                         "received_on": "2026-12-02"})
    assert res.status_code == 200
    row = order_row(order["id"])
    assert row["status"] == "paid"
    assert row["paid_at"] == dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.timezone.utc)
    # the paid time, taken from the clock, is shown in Beijing time
    page = page_text(_get(app, f"/order/{order['id']}", _token("merchant_user")))
    assert "2026-12-02 02:30" in page and "18:30" not in page


# -- one display format, in Beijing time --------------------------------------------------------
# Orders, reviews and audit records are append-only (database triggers refuse UPDATE), so rows
# stored at 18:25Z are inserted as such, the way a write at that moment would have stored them.
def _audit_at(object_type: str, object_id: str, action: str) -> None:
    model.Session.execute(audit.audit_table.insert().values(
        actor="bureau_user", action=action, object_type=object_type, object_id=object_id,
        after={"status": "awaiting_payment"}, created=STORED))


def _order_stored_at_1825(template: dict) -> str:
    """A copy of the order ``template`` (another application), created at 18:25Z."""
    row = dict(order_row(template["id"]))
    row.update(id="order-tz", application_id="app-tz", created=STORED, updated=STORED)
    row.pop("human_ref", None)  # the database numbers every order
    model.Session.execute(order_table.insert().values(**row))
    _audit_at("order", "order-tz", "sanyi_order_create")
    model.Session.commit()
    return "order-tz"


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_order_pages_show_stored_times_in_beijing_time(app, pay_world, prefix):
    order_id = _order_stored_at_1825(new_order())
    for url, user in ((f"/order/{order_id}", "merchant_user"),
                      (f"/order/{order_id}", "operator_user"),
                      ("/orders", "operator_user"), ("/orders", "merchant_user")):
        page = page_text(_get(app, prefix + url, _token(user)))
        assert SHOWN in page, (url, user)
        assert "18:25" not in page, (url, user)
    # the trace row (the order's audit record) too, in the same format
    html = _get(app, f"{prefix}/order/{order_id}", _token("operator_user"))
    trace = html.split("sanyi-order-trace", 1)[1]
    assert f'<td class="text-nowrap">{SHOWN}</td>' in trace


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_application_trace_and_reviews_show_stored_times_in_beijing_time(app, world, prefix):
    application = to_status("unit_review")
    aid = application["id"]
    _audit_at("application", aid, "sanyi_application_review")
    model.Session.execute(review_table.insert().values(
        application_id=aid, actor="wj_editor", role="unit", unit="shi-wei-jian-wei",
        decision="return", comment="请补充", created=STORED))
    model.Session.execute(sa.update(application_table).where(application_table.c.id == aid)
                          .values(modified=STORED))
    model.Session.commit()
    merchant = _token("merchant_user")
    read = _get(app, f"{prefix}/application/{aid}", merchant)
    assert f'<td class="text-nowrap">{SHOWN}</td>' in read           # the trace
    assert f"<li>{SHOWN} · " in read                                 # the reviews
    assert "18:25" not in page_text(read)
    listing = page_text(_get(app, f"{prefix}/merchant/applications", merchant))
    assert SHOWN in listing and "18:25" not in listing


def test_ckan_render_datetime_is_in_beijing_time_for_every_kind_of_value(app):
    with app.flask_app.test_request_context():
        for value in (STORED, STORED.replace(tzinfo=None), "2026-12-01T18:25:00+00:00",
                      "2026-12-01T18:25:00"):
            assert tk.h.render_datetime(value, "%Y-%m-%d %H:%M") == SHOWN, value
            assert "02:25" in tk.h.render_datetime(value, with_hours=True), value
        assert tk.h.render_datetime(None) == ""
        assert tk.h.sanyi_datetime(STORED) == SHOWN
        assert tk.h.sanyi_datetime("2026-12-01T18:25:00.123456+00:00") == SHOWN
        assert tk.h.sanyi_datetime(None) == ""


def test_operator_price_form_defaults_to_the_beijing_date(app, sanyi_orgs, beijing_morning):
    html = _get(app, "/operator/pricing", _token("operator_user"))
    assert 'min="2026-12-02"' in html and 'min="2026-12-01"' not in html
