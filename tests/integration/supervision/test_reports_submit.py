"""Submitting a report freezes it: the stored PDF and figures, their SHA-256 in the audit log,
unchanged by later data; the bureau marks it received; every step by role, with CSRF."""
from __future__ import annotations

import hashlib
import subprocess

import pytest
import reports_support
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from reports_support import (
    AFTER,
    Q,
    at,
    call,
    call_as,
    csrf_token,
    sign_in,
    table,
)

from ckanext.sanyi.common import clock
from ckanext.sanyi.supervision.reports import build, service

pytestmark = pytest.mark.usefixtures("with_plugins")


@pytest.fixture
def report_world(world, sanyi_db, request):
    return reports_support.layer(world, sanyi_db, request)
URL = f"/reports/quarterly/{Q.key}"


def _stored() -> dict:
    model.Session.rollback()
    return dict(model.Session.execute(sa.text(
        "SELECT * FROM sanyi_report WHERE kind = 'quarterly' AND period = :p"),
        {"p": Q.key}).mappings().one())


def _audit(action: str) -> list[dict]:
    model.Session.rollback()
    return [dict(r) for r in model.Session.execute(sa.text(
        "SELECT actor, object_id, after FROM sanyi_audit WHERE action = :a ORDER BY id"),
        {"a": action}).mappings()]


def test_submit_freezes_the_report(report_world, app, tmp_path):
    with pytest.raises(tk.ValidationError) as err:  # the quarter has not ended
        call_as("operator_user", "sanyi_report_submit", kind="quarterly", period=Q.key)
    assert "period" in err.value.error_dict
    with clock.freeze(AFTER):
        for who in ("anonymous", "no_role", "merchant_user", "wj_editor", "bureau_user"):
            with pytest.raises(tk.NotAuthorized):
                call_as(who, "sanyi_report_submit", kind="quarterly", period=Q.key)
        sign_in(app, "operator_user")
        page = app.get(URL).get_data(as_text=True)
        assert "sanyi-report-submit" in page and "待提交" in page
        assert app.post(f"{URL}/submit", data={}, follow_redirects=False).status_code == 400
        res = app.post(f"{URL}/submit", data={"_csrf_token": csrf_token(app, URL)},
                       follow_redirects=False)
        assert res.status_code == 302
        row = _stored()
        pdf = bytes(row["pdf"])
        assert hashlib.sha256(pdf).hexdigest() == row["pdf_sha256"]
        assert service.sha256(service.canonical(row["figures"])) == row["figures_sha256"]
        [audit] = _audit("sanyi_report_submit")
        assert audit["actor"] == "operator_user" and audit["object_id"] == f"quarterly:{Q.key}"
        assert audit["after"]["pdf_sha256"] == row["pdf_sha256"]
        assert audit["after"]["figures_sha256"] == row["figures_sha256"]
        chained = model.Session.execute(sa.text(  # the audit log's hash chain holds it
            "SELECT seq, row_hash FROM sanyi_audit WHERE id = :i"), {"i": row["audit_id"]}).one()
        assert chained.seq and len(chained.row_hash) == 64
        # the Chinese renders in the stored PDF (fonts-noto-cjk)
        (tmp_path / "r.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True,
                              capture_output=True, text=True).stdout
        assert f"{Q.year} 年第 {Q.quarter} 季度使用情况报告" in text
        assert "慢病线上开处方" in text and "福州数商科技有限公司2" in text
        assert "4,500.00" in text and row["figures_sha256"] in text.replace("\n", "")

        # the data change; the submitted report does not
        ent = report_world["theirs"]["entitlement"]
        for _ in range(10):
            call(ent, "granted", at(Q.first, 15), ["insured:参保状态"])
        model.Session.commit()
        live = build.build(Q)
        assert {s["key"]: s["value"] for s in live["summary"]}["calls_granted"] == 17
        shown = call_as("bureau_user", "sanyi_report_show", kind="quarterly", period=Q.key)
        assert shown["figures"] == row["figures"] and shown["state"] == "submitted"
        assert table(shown["figures"], "calls_by_merchant")["total"]["granted"] == 7
        assert shown["stored"]["pdf_sha256"] == row["pdf_sha256"]
        page = app.get(URL).get_data(as_text=True)
        assert row["pdf_sha256"] in page and "sanyi-report-submit" not in page
        got = app.get(f"{URL}.pdf")
        assert got.status_code == 200 and got.headers["Content-Type"] == "application/pdf"
        assert hashlib.sha256(got.get_data()).hexdigest() == row["pdf_sha256"]

        with pytest.raises(tk.ValidationError) as err:  # once only
            call_as("operator_user", "sanyi_report_submit", kind="quarterly", period=Q.key)
        assert "status" in err.value.error_dict

        # the bureau marks it received (operator and others may not)
        for who in ("operator_user", "merchant_user", "wj_editor", "no_role"):
            with pytest.raises(tk.NotAuthorized):
                call_as(who, "sanyi_report_receive", kind="quarterly", period=Q.key)
        sign_in(app, "bureau_user")
        page = app.get(URL).get_data(as_text=True)
        assert "sanyi-report-receive" in page
        assert app.post(f"{URL}/receive", data={"comment": "已阅"},
                        follow_redirects=False).status_code == 400
        res = app.post(f"{URL}/receive", data={"comment": "已阅",
                                               "_csrf_token": csrf_token(app, URL)},
                       follow_redirects=False)
        assert res.status_code == 302
        assert _stored()["status"] == "received" and _stored()["received_by"] == "bureau_user"
        assert _audit("sanyi_report_receive")[0]["after"] == {"status": "received",
                                                              "comment": "已阅"}
        with pytest.raises(tk.ValidationError) as err:
            call_as("bureau_user", "sanyi_report_receive", kind="quarterly", period=Q.key)
        assert "status" in err.value.error_dict
        listing = call_as("operator_user", "sanyi_report_list")
        mine = next(r for r in listing["results"] if r["period"] == Q.key
                    and r["kind"] == "quarterly")
        assert mine["state"] == "submitted" and mine["submitted"]["status"] == "received"
        assert all(r["period"] != Q.key or r["kind"] != "quarterly"
                   for r in listing["reminders"])


def test_the_database_keeps_a_submitted_report_as_it_is(report_world):
    last_year = str(Q.year - 1)  # ended: its disclosure may be published today
    stored = call_as("operator_user", "sanyi_report_submit", kind="disclosure", period=last_year)
    assert stored["kind"] == "disclosure" and len(stored["pdf_sha256"]) == 64
    for statement in ("UPDATE sanyi_report SET pdf = 'x'::bytea WHERE id = :i",
                      "UPDATE sanyi_report SET figures = '{}'::jsonb WHERE id = :i",
                      "UPDATE sanyi_report SET pdf_sha256 = repeat('0', 64) WHERE id = :i",
                      "UPDATE sanyi_report SET status = 'received' WHERE id = :i",
                      "DELETE FROM sanyi_report WHERE id = :i"):
        with pytest.raises(sa.exc.DBAPIError, match="sanyi_report"):
            model.Session.execute(sa.text(statement), {"i": stored["id"]})
        model.Session.rollback()
    row = dict(model.Session.execute(sa.text(
        "SELECT figures, pdf_sha256 FROM sanyi_report WHERE id = :i"),
        {"i": stored["id"]}).mappings().one())
    assert row["pdf_sha256"] == stored["pdf_sha256"] and row["figures"]["kind"] == "disclosure"
    # the public page of that year now shows the published (frozen) disclosure
    public = call_as("anonymous", "sanyi_report_show", kind="disclosure", period=last_year)
    assert public["stored"]["pdf_sha256"] == stored["pdf_sha256"]


def test_two_submissions_at_once_store_one_report(report_world):
    import threading

    from ckanext.sanyi.domain.errors import DomainError
    outcomes: list[str] = []
    ready = threading.Barrier(2)

    def submit() -> None:
        try:
            user = model.User.get("operator_user")
            ready.wait()
            service.submit(user, "disclosure", str(Q.year - 1))
            model.Session.commit()
            outcomes.append("stored")
        except DomainError as err:
            model.Session.rollback()
            outcomes.append(err.field)
        finally:
            model.Session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["status", "stored"]
    assert model.Session.execute(sa.text(
        "SELECT count(*) FROM sanyi_report WHERE kind = 'disclosure'")).scalar() == 1
    assert len(_audit("sanyi_report_submit")) == 1
