"""No 5xx from any form (POST route) of the extension, whatever it is sent, from anyone.

Every POST rule of the sanyi plugin's blueprints (read from the app's URL map, as
test_fuzz_pages.py reads the GET ones), the Stripe webhook apart, is sent forms of hostile
values (empty, NUL, 20,000 characters, SQL, Chinese with emoji, numbers ≥ 2**63, negative and
fractional numbers) with and without a CSRF token, with its arguments filled with real and
hostile values: as anonymous, as a logged-in user with no role and as each role, at /
(Chinese) and /en/ (English).
"""
from __future__ import annotations

from typing import Any

from page_fuzz import (
    FORM_VALUES,
    ROLES,
    argument_values,
    assert_no_failures,
    assert_requests_sent,
    check,
    csrf_token,
    sanyi_rules,
    url_for,
)

MODULE = "test_fuzz_forms"
FIELDS = ["id", "reference", "amount", "received_on", "order_id", "decision", "comment",
          "reason", "product", "use", "unit", "quantity", "bands", "schedule", "price",
          "effective_from", "pct", "period", "company_name", "credit_code", "purpose",
          "data_items", "status", "date", "upto", "treasury_pct", "operator_share"]


def pytest_generate_tests(metafunc: Any) -> None:
    if "role" in metafunc.fixturenames:
        metafunc.parametrize("role", ROLES)


def test_post_forms_never_answer_5xx(fuzz_app, fuzz_world, fuzz_log, role):
    token = csrf_token(fuzz_app, fuzz_world, role)
    if role != "anonymous":
        assert token, f"no CSRF token on /dataset/ for {role}"
    failures: list[str] = []
    for rule in sanyi_rules(fuzz_app.flask_app):
        if "POST" not in rule.methods or rule.rule == "/stripe/webhook":
            continue
        for i, values in enumerate(argument_values(rule, fuzz_world)[:6]):
            form = {f: FORM_VALUES[(i + j) % len(FORM_VALUES)] for j, f in enumerate(FIELDS)}
            for with_token in (True, False):
                data = dict(form, _csrf_token=token) if with_token and token else form
                check(failures, fuzz_app, fuzz_log, fuzz_world, role, "POST",
                      url_for(rule, values, "en" if i % 2 else "zh"), module=MODULE,
                      data=data)
    assert_no_failures(failures)


def test_form_request_count(fuzz_log):
    assert_requests_sent(fuzz_log, MODULE, "forms (POST)")
