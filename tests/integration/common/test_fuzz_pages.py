"""No 5xx from any GET page of the extension, on any URL argument or query, from anyone.

The routes are read from the app's URL map: every rule whose endpoint belongs to a blueprint
the sanyi plugin registers (a new page is covered without editing this file). GET routes get
their ``<id>``-style arguments filled with the world's real ids and with hostile values
(NUL, an invalid UTF-8 sequence, SQL and Solr fragments, Chinese, emoji, a huge string,
numbers ≥ 2**63), plus ``page=`` values such as 99999999999999999999, -1 and abc. All of it
as anonymous, as a logged-in user with no role and as each role, at / (Chinese) and /en/
(English). The forms (POST) are fuzzed by test_fuzz_forms.py, in a lane of their own.
"""
from __future__ import annotations

from typing import Any

from page_fuzz import (
    PAGE_ARGS,
    ROLES,
    argument_values,
    assert_no_failures,
    assert_requests_sent,
    check,
    sanyi_rules,
    url_for,
)

MODULE = "test_fuzz_pages"


def pytest_generate_tests(metafunc: Any) -> None:
    if "role" in metafunc.fixturenames:
        metafunc.parametrize("role", ROLES)


def test_routes_are_enumerated(fuzz_app):
    rules = sanyi_rules(fuzz_app.flask_app)
    assert any(r.rule == "/stripe/webhook" for r in rules)
    assert sum("GET" in r.methods for r in rules) >= 15 and sum("POST" in r.methods for r in rules) >= 8


def test_get_pages_never_answer_5xx(fuzz_app, fuzz_world, fuzz_log, role):
    failures: list[str] = []
    for rule in sanyi_rules(fuzz_app.flask_app):
        if "GET" not in rule.methods:
            continue
        for i, values in enumerate(argument_values(rule, fuzz_world)):
            for lang in (("zh", "en") if i == 0 else ("en",) if i % 2 else ("zh",)):
                check(failures, fuzz_app, fuzz_log, fuzz_world, role, "GET",
                      url_for(rule, values, lang), module=MODULE)
        if not rule.arguments:
            for page in PAGE_ARGS:
                check(failures, fuzz_app, fuzz_log, fuzz_world, role, "GET",
                      url_for(rule, {}, "zh") + f"?page={page}&status={page}&q={page}",
                      module=MODULE)
    assert_no_failures(failures)


def test_page_request_count(fuzz_log):
    assert_requests_sent(fuzz_log, MODULE, "pages (GET)")
