"""The confidentiality-agreement page (a registered, filed user accepts it; a POST without the
CSRF token is refused) and the operator's and bureau's page of data processors, in Chinese
and English."""
from __future__ import annotations

import pytest
from ckan.tests import factories
from csrf_tokens import csrf_token
from pagecheck import checked_body, page_text
from sample_roles import call_as

from ckanext.sanyi.domain import processor as rules
from ckanext.sanyi.domain.id_number import check_char

pytestmark = pytest.mark.usefixtures("with_plugins")
NUMBER = "42080419880808456"
NUMBER += check_char(NUMBER)


@pytest.fixture
def filed(sample_world):
    """``applicant``: identity verified and filed, agreement not yet accepted."""
    factories.User(name="applicant")
    call_as("operator_user", "sanyi_processor_register", user="applicant", real_name="赵敏",
            document_kind="resident_id_card", document_number=NUMBER)
    call_as("bureau_user", "sanyi_processor_file", user="applicant", filing_no="JMSJ-2026-100")
    return sample_world


def _status(name: str) -> str:
    return call_as(name, "sanyi_processor_show")["status"]


def test_the_agreement_page_needs_a_login(app, filed):
    res = app.get("/processor/agreement", follow_redirects=False)
    assert res.status_code == 302 and "/user/login" in res.headers["Location"]


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_accepting_the_agreement(app, filed, login, prefix):
    url = f"{prefix}/processor/agreement"
    login(app, "applicant")
    text = page_text(checked_body(app.get(url), url))
    clause = rules.AGREEMENT_CLAUSES[2][0 if not prefix else 1]
    assert clause in text and rules.AGREEMENT_VERSION in text
    assert ("尚未签署" if not prefix else "not yet") in text
    assert NUMBER not in text and NUMBER[:3] + "*" * 11 + NUMBER[-4:] in text
    form = {"agreement_version": rules.AGREEMENT_VERSION, "accept": "yes"}
    res = app.post(url, data=form, follow_redirects=False)
    assert res.status_code == 400 and _status("applicant") == "pending"  # no CSRF token
    res = app.post(url, data={"agreement_version": rules.AGREEMENT_VERSION,
                              "_csrf_token": csrf_token(app, url)}, follow_redirects=False)
    text = page_text(checked_body(res, url))  # not ticked: the page says so
    assert ("请勾选" if not prefix else "Tick") in text and _status("applicant") == "pending"
    res = app.post(url, data=dict(form, _csrf_token=csrf_token(app, url)),
                   follow_redirects=False)
    assert res.status_code == 302 and _status("applicant") == "active"
    body = checked_body(app.get(url), url)
    assert ("已签署" if not prefix else "accepted") in page_text(body)
    assert 'name="accept"' not in body  # nothing left to accept: no form
    assert call_as("applicant", "sanyi_sample_show", id="insured")["count"] > 0


def test_an_unregistered_user_reads_the_agreement_but_cannot_accept_it(app, sample_world, login):
    login(app, "no_role")
    body = checked_body(app.get("/processor/agreement"), "agreement")
    assert "运营机构核验身份" in page_text(body) and 'name="accept"' not in body
    res = app.post("/processor/agreement", data={
        "agreement_version": rules.AGREEMENT_VERSION, "accept": "yes",
        "_csrf_token": csrf_token(app, "/processor/agreement")})
    assert "运营机构" in page_text(checked_body(res, "agreement"))


def test_the_management_page_is_for_the_operator_and_the_bureau(app, sample_world):
    res = app.get("/processor/manage", follow_redirects=False)
    assert res.status_code == 302
    for user in ("no_role", "merchant_user", "processor_user"):
        checked_body(app.get("/processor/manage", headers={
            "Authorization": sample_world["tokens"][user]}), "manage", 403)


@pytest.mark.parametrize("prefix", ["", "/en"])
def test_registering_and_filing_from_the_management_page(app, filed, login, prefix):
    url = f"{prefix}/processor/manage"
    factories.User(name="newcomer")
    login(app, "operator_user")
    text = page_text(checked_body(app.get(url), url))
    assert ("核验身份并登记" if not prefix else "Record a verified identity") in text
    assert "processor_user" in text and "测试员1" in text
    form = {"op": "register", "user": "newcomer", "real_name": "孙丽",
            "document_kind": "passport", "document_number": "E99887766"}
    assert app.post(url, data=form, follow_redirects=False).status_code == 400  # no token
    res = app.post(url, data=dict(form, _csrf_token=csrf_token(app, url)))
    text = page_text(checked_body(res, url))
    assert "孙丽" in text and "*****7766" in text and "E99887766" not in text
    bad = app.post(url, data=dict(form, user="no_role", document_number="1",
                                  _csrf_token=csrf_token(app, url)))
    said, other = ("证件号码应为6至20位字母或数字", "letters or digits") if not prefix else \
        ("The document number must be 6 to 20 letters or digits", "证件号码")
    flashed = page_text(checked_body(bad, url))
    assert said in flashed and other not in flashed and "document_number" not in flashed
    row = call_as("operator_user", "sanyi_processor_show", user="newcomer")
    login(app, "bureau_user")
    res = app.post(url, data={"op": "file", "id": row["id"], "filing_no": "荆数备〔2026〕第200号",
                              "_csrf_token": csrf_token(app, url)})
    assert "荆数备〔2026〕第200号" in page_text(checked_body(res, url))
    assert call_as("bureau_user", "sanyi_processor_show", user="newcomer")["filed_by"] == \
        "bureau_user"


def test_tracing_a_marker_from_the_management_page(app, sample_world):
    marker = call_as("processor_user", "sanyi_sample_show", id="visits")["marker"]
    token = {"Authorization": sample_world["tokens"]["bureau_user"]}
    text = page_text(checked_body(app.get(f"/processor/manage?marker={marker.lower()}",
                                          headers=token), "manage"))
    assert "processor_user" in text and "门诊就诊记录数据" in text and "水印有效" in text
    text = page_text(checked_body(app.get("/en/processor/manage?marker=SY-0000-0000-0000-0000",
                                          headers=token), "manage"))
    assert "No sample view carries this watermark" in text
    text = page_text(checked_body(app.get("/processor/manage?marker=nonsense", headers=token),
                                  "manage"))
    assert "水印标识格式不正确" in text
