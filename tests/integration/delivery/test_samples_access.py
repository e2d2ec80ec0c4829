"""Desensitized samples over HTTP: only active data processors see one (everyone else: 403 with
how to qualify, sysadmins included); at most 20 rows, every sensitive value masked, the
viewer's watermark traceable to them; every view recorded in an append-only table."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.cli.cli import ckan as ckan_cli
from pagecheck import checked_body, page_text
from sample_roles import FIXED_PERSON, PROCESSORS, REFUSED, call_as, raw_values

from ckanext.sanyi.common import clock
from ckanext.sanyi.delivery import samples
from ckanext.sanyi.delivery.datadomain import store
from ckanext.sanyi.delivery.datadomain.tables import table
from ckanext.sanyi.domain import watermark as wm

pytestmark = pytest.mark.usefixtures("with_plugins")
SECRET = {"persons": ("person_no", "id_number", "name", "phone", "address", "employer"),
          "outpatient_visits": ("person_no", "id_number", "doctor_code")}


def _api(app, world, user, resource):
    headers = {"Authorization": world["tokens"][user]} if user != "anonymous" else {}
    res = app.post("/api/3/action/sanyi_sample_show", json={"id": resource}, headers=headers)
    return res.status_code, json.loads(res.get_data(as_text=True))


def _views() -> list[dict]:
    t = samples.views
    return [dict(r) for r in model.Session.execute(sa.select(t).order_by(t.c.id)).mappings()]


def _leaks(text: str, table_name: str) -> set[str]:
    secrets = raw_values(table_name, SECRET[table_name]) | {FIXED_PERSON}
    return {v for v in secrets if len(v) >= 2 and v in text}


@pytest.mark.parametrize("user", REFUSED)
def test_everyone_but_a_data_processor_is_refused_with_how_to_qualify(app, sample_world, user):
    status, body = _api(app, sample_world, user, "insured")
    assert status == 403 and body["success"] is False
    message = body["error"]["message"]
    assert "数据加工处理人员" in message and "data processors" in message
    assert "运营机构" in message and "备案" in message and "保密协议" in message
    assert "operator" in message and "agreement" in message
    assert _views() == []


def test_a_processor_gets_at_most_20_masked_rows_with_a_traceable_watermark(app, sample_world):
    for name, table_name in (("insured", "persons"), ("visits", "outpatient_visits")):
        status, body = _api(app, sample_world, "processor_user", name)
        assert status == 200, body
        result = body["result"]
        assert 0 < result["count"] == len(result["rows"]) <= 20
        assert result["fields"][-1] == "水印" and "身份证号" in result["sensitive_fields"]
        user = model.User.get("processor_user")
        assert result["marker"] == wm.marker(samples.watermark_key(), user.id,
                                             sample_world[name]["id"], clock.today())
        assert all(r["水印"] == result["marker"] for r in result["rows"])
        assert all(re.fullmatch(r"\d{3}\*{11}[\dX]{4}", r["身份证号"]) for r in result["rows"])
        assert _leaks(json.dumps(result, ensure_ascii=False), table_name) == set()
        traced = samples.trace(result["marker"].lower())
        assert traced["found"] and traced["views"][-1]["user_name"] == "processor_user"
        assert traced["views"][-1]["package_name"] == name and traced["views"][-1]["verified"]
    persons = _api(app, sample_world, "processor_user", "insured")[1]["result"]["rows"]
    assert all(re.fullmatch(r"\d{4}", r["出生日期"]) and r["姓名"][1:].strip("*") == ""
               for r in persons)


def test_the_same_viewer_gets_the_same_sample_and_another_viewer_another(app, sample_world):
    first = _api(app, sample_world, "processor_user", "visits")[1]["result"]
    again = _api(app, sample_world, "processor_user", "visits")[1]["result"]
    other = _api(app, sample_world, "processor_two", "visits")[1]["result"]
    assert first["rows"] == again["rows"] and first["marker"] == again["marker"]
    assert other["marker"] != first["marker"]
    assert [r["医保就诊ID"] for r in other["rows"]] != [r["医保就诊ID"] for r in first["rows"]]


def test_a_large_table_is_drawn_from_random_blocks_by_tid_range_scans(sample_world):
    t = table("outpatient_visits")
    with store.connect() as conn:
        n_blocks = samples._n_blocks(conn, t)
        plan = "\n".join(r[0] for r in conn.execute(
            sa.text("EXPLAIN " + str(samples.block_query(conn, t))),
            {"blks": [1, 5, 9], "poss": [1, 2, 3]}))
    assert n_blocks > samples.SMALL_BLOCKS
    assert "Tid Range Scan" in plan and "Seq Scan" not in plan
    from ckanext.sanyi.delivery.datadomain.sources import by_table
    rows = samples.draw(by_table("outpatient_visits"), "SY-0000-0000-0000-0001")
    assert len(rows) == 20 and len({r["visit_id"] for r in rows}) == 20


def test_every_view_is_recorded_and_the_record_cannot_change(app, sample_world):
    _api(app, sample_world, "processor_user", "insured")
    _api(app, sample_world, "processor_two", "visits")
    views = _views()
    assert [(v["user_name"], v["package_name"]) for v in views] == \
        [("processor_user", "insured"), ("processor_two", "visits")]
    assert all(v["view_date"] == clock.today() and v["row_count"] > 0 for v in views)
    for sql in ("UPDATE sanyi_sample_view SET user_name = 'someone'",
                "DELETE FROM sanyi_sample_view"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            model.Session.execute(sa.text(sql))
        model.Session.rollback()
    assert len(_views()) == 2
    listed = call_as("bureau_user", "sanyi_sample_view_list", user="processor_two")
    assert listed["count"] == 1 and listed["results"][0]["package_name"] == "visits"


def test_trace_from_the_command_line(app, sample_world, cli):
    marker = _api(app, sample_world, "processor_user", "insured")[1]["result"]["marker"]
    model.Session.commit()
    out = cli.invoke(ckan_cli, ["sanyi", "domain", "trace-sample", marker.replace("-", "")])
    assert out.exit_code == 0, out.output
    assert marker in out.output and "processor_user" in out.output and "insured" in out.output
    assert "genuine" in out.output
    unknown = cli.invoke(ckan_cli, ["sanyi", "domain", "trace-sample", "SY-0000-0000-0000-0000"])
    assert unknown.exit_code == 1 and "no view recorded" in unknown.output
    bad = cli.invoke(ckan_cli, ["sanyi", "domain", "trace-sample", "not-a-marker"])
    assert bad.exit_code == 2


def test_trace_and_view_list_are_for_the_operator_and_the_bureau(app, sample_world):
    for user in ("no_role", "merchant_user", *PROCESSORS):
        res = app.get("/api/3/action/sanyi_sample_trace?marker=SY-0000-0000-0000-0000",
                      headers={"Authorization": sample_world["tokens"][user]})
        assert res.status_code == 403
    res = app.get("/api/3/action/sanyi_sample_trace?marker=junk",
                  headers={"Authorization": sample_world["tokens"]["operator_user"]})
    assert res.status_code == 409 and "marker" in res.get_data(as_text=True)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_sample_page_for_each_role(app, sample_world, prefix):
    url = f"{prefix}/dataset/insured/sample"
    for user in REFUSED:
        headers = {"Authorization": sample_world["tokens"][user]} if user != "anonymous" else {}
        res = app.get(url, headers=headers)
        text = page_text(checked_body(res, url, 403))
        assert ("数据加工处理人员" if not prefix else "data processors") in text
        assert ("保密协议" if not prefix else "confidentiality agreement") in text
        assert res.headers["Cache-Control"].startswith("no-store")
    res = app.get(url, headers={"Authorization": sample_world["tokens"]["processor_user"]})
    body = checked_body(res, url, 200)
    assert res.headers["Cache-Control"].startswith("no-store")
    marker = re.search(r"SY(?:-[0-9A-F]{4}){4}", body).group(0)
    assert body.count(marker) > 20  # above the table and in every row's 水印 column
    assert body.count("<tr>") <= 21 and _leaks(body, "persons") == set()
    text = page_text(body)
    assert ("脱敏样例" if not prefix else "Desensitized sample") in text
    assert samples.trace(marker)["views"][-1]["user_name"] == "processor_user"


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_the_resource_page_says_whether_a_sample_exists_and_how_to_qualify(app, sample_world,
                                                                           prefix):
    anonymous = page_text(checked_body(app.get(f"{prefix}/dataset/insured"), "insured"))
    assert ("样例数据" if not prefix else "Sample") in anonymous
    assert ("提供抽样、脱敏的数据样例" if not prefix else "desensitized sample") in anonymous
    assert ("在数据局备案" if not prefix else "filed with the data bureau") in anonymous
    assert "/dataset/insured/sample" not in checked_body(app.get(f"{prefix}/dataset/insured"),
                                                         "insured")
    processor = checked_body(app.get(f"{prefix}/dataset/insured", headers={
        "Authorization": sample_world["tokens"]["processor_user"]}), "insured")
    assert "/dataset/insured/sample" in processor
    none = page_text(checked_body(app.get(f"{prefix}/dataset/other"), "other"))
    assert ("本资源暂不提供数据样例" if not prefix else "offers no sample") in none
    assert _views() == []  # the resource page shows no rows and records nothing


def test_unknown_or_odd_resources_are_no_500(app, sample_world):
    token = {"Authorization": sample_world["tokens"]["processor_user"]}
    for ref in ("no-such-resource", "other", "x" * 300, "%00"):
        res = app.post("/api/3/action/sanyi_sample_show", json={"id": ref}, headers=token)
        assert res.status_code in (404, 409), (ref, res.status_code)
        page = app.get(f"/dataset/{ref}/sample", headers=token)
        assert page.status_code in (400, 404), (ref, page.status_code)
    res = app.post("/api/3/action/sanyi_sample_show", json={"id": ["insured"]}, headers=token)
    assert res.status_code == 409
