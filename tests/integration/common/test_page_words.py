"""Every page of the portal in its users' words: the demo world (``ckan sanyi load-demo``)
walked over HTTP in Chinese and English as each role, failing on CKAN's stock phrases and on
raw codes and ids shown where words belong.

One world for the module (the demo loader, once), one test app, requests not a browser.
Roles: anonymous, a user with no role, the data-unit editor (weijian), the merchant, the
bureau, the operator and the sysadmin (admin); each walks its own pages (``ROLE_PAGES``) and
the detail pages it may open (``pages``), in Chinese and under /en. Set SANYI_WORDS_CONTEXT=1
to see each finding in its sentence.
"""
from __future__ import annotations

import os
import re
from typing import Any

import pytest
from ckan import model
from pagecheck import checked_body, page_text
from sqlalchemy import text

pytestmark = pytest.mark.usefixtures("with_plugins")

# Phrases of CKAN's stock English UI (or of its generic dataset wording) that must not show on
# a Chinese page, with the Chinese ones we replaced.
ZH_FORBIDDEN = [
    "All activity types", "No activity found", "News feed", "Unpublish", "Add Product",
    "Update Product", "Reorder resources", "Markdown formatting", "Open Data Commons",
    "Open Database License", "什么是数据集", "CKAN 数据集", "- Product -", "登陆", "追随",
    "Powered by", "Log in", "Register", "Search Datasets", "Datasets", "Organizations",
    "Groups", "About", "Activity Stream", "Followers", "License", "Last Updated", "Created",
    "Page Not Found", "Not Found", "Internal server error", "Edit metadata", "Manage",
    "View profile", "Dashboard", "Private", "Draft", "Deleted", "No description",
]
# Codes that are words in disguise: states, order states, billing units, audit actions,
# transitions, ids shown where a title or reference belongs.
RAW_CODES = [
    r"\bawaiting_payment\b", r"\bunit_review\b", r"\bbureau_review\b", r"\bpublic_interest\b",
    r"\bsanyi_[a-z_]+\b", r"\bp-[0-9a-f]{12}\b", r"\bprice-\d+\b", r"\bshi-[a-z-]+\b",
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
    r"\w+(?:\[\d+\])?\.\w+: ",  # a field path before a message (bands[0].upto: ...)
]
# English status words and unit codes: words in an English page, raw codes in a Chinese one
ZH_RAW_WORDS = r"(?<![\w/.-])(?:active|draft|filed|approved|paid|pending|call|submitted)(?![\w/.-])"
# Chinese punctuation inside an English sentence (Chinese values themselves may show, marked)
# (after an English word and not before Chinese text, or between Latin text and an English word;
# Chinese values with Latin letters inside, such as 公民身份号码（GB 11643，18位）, are not English)
EN_MIXED = (r"(?<=[A-Za-z]) ?[，。：；（）、](?! ?[\u4e00-\u9fff])"
            r"|(?<![\u4e00-\u9fff）]) ?[，：；（、] ?(?=[A-Za-z])")

ROLES = ["anonymous", "no_role", "weijian", "merchant", "bureau", "operator", "admin"]


@pytest.fixture(scope="module")
def demo(demo_portal_data) -> dict[str, Any]:
    """The demo world, loaded once for the module; the ids its detail pages need."""
    q = lambda sql: [r[0] for r in model.Session.execute(text(sql))]  # noqa: E731
    world = {
        "products": q("SELECT name FROM package WHERE type = 'product' AND state = 'active' "
                      "ORDER BY name LIMIT 2"),
        "datasets": q("SELECT name FROM package WHERE type = 'dataset' AND state = 'active' "
                      "ORDER BY name LIMIT 2"),
        "orgs": q("SELECT name FROM \"group\" WHERE is_organization ORDER BY name LIMIT 2"),
        "applications": q("SELECT id FROM sanyi_application ORDER BY created LIMIT 2"),
        "orders": q("SELECT id FROM sanyi_order ORDER BY created LIMIT 2"),
    }
    model.Session.remove()
    yield world


@pytest.fixture(scope="module")
def walk_app(demo):
    from ckan.lib.app_globals import _CONFIG_CACHE
    from ckan.tests import helpers
    _CONFIG_CACHE.clear()
    return helpers._get_test_app()


PUBLIC = ["/", "/dataset/", "/product/", "/organization/", "/about", "/prices",
          "/disclosure", "/transparency/checkpoints", "/no-such-page"]
UNIT = ["/dashboard/overdue", "/dashboard/applications", "/review/applications", "/reports"]
BUREAU = ["/dashboard/reports", "/bureau/merchants", "/bureau/entitlements", "/bureau/pricing",
          "/bureau/supervision", "/bureau/supervision/audit", "/bureau/delivery",
          "/processor/manage", "/orders"]
OPERATOR = ["/operator/pricing", "/orders", "/processor/manage", "/dashboard/reports"]
MERCHANT = ["/merchant/register", "/merchant/applications", "/merchant/entitlements",
            "/merchant/orders", "/orders", "/dashboard/applications"]
# the pages each role works on (the public ones are walked as anonymous and by the admin)
ROLE_PAGES = {"anonymous": PUBLIC, "no_role": ["/", "/merchant/register", "/dashboard/overdue"],
              "weijian": UNIT, "merchant": MERCHANT, "bureau": BUREAU + UNIT[1:],
              "operator": OPERATOR, "admin": PUBLIC + UNIT + BUREAU + OPERATOR + MERCHANT}


def pages(role: str, world: dict[str, Any]) -> list[str]:
    """The role's pages, then the detail pages of one of each kind (product, resource, unit,
    application, order: those the role may open)."""
    out = list(dict.fromkeys(ROLE_PAGES[role]))
    if role in ("anonymous", "merchant", "admin"):
        product = world["products"][0]
        out += [f"/product/{product}", f"/prices/{product}", f"/product/activity/{product}"]
        out += [f"/product/{world['products'][1]}"]
    if role in ("merchant",):
        out += [f"/apply/{world['products'][0]}"]
    if role in ("anonymous", "weijian", "admin"):
        dataset = world["datasets"][0]
        out += [f"/dataset/{dataset}", f"/dataset/activity/{dataset}",
                f"/organization/{world['orgs'][0]}", f"/organization/{world['orgs'][1]}"]
    if role in ("merchant", "bureau", "weijian", "admin"):
        out += [f"/application/{world['applications'][0]}"]
    if role in ("merchant", "operator", "admin"):
        out += [f"/order/{world['orders'][0]}"]
    return out


def findings(body: str, zh: bool) -> list[str]:
    """The stock phrases and raw codes in a page's visible text (and its <title>)."""
    # code examples (<pre>: curl calls with their URLs) are code, not words
    visible = page_text(re.sub(r"<pre\b.*?</pre>", " ", body, flags=re.S))
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    visible += " " + (title.group(1) if title else "")
    found = []
    if zh:
        found += [p for p in ZH_FORBIDDEN if re.search(rf"(?<![A-Za-z]){re.escape(p)}"
                                                         rf"(?![A-Za-z])", visible)]
        found += [m.group(0) for m in re.finditer(ZH_RAW_WORDS, visible)]
    else:
        found += [m.group(0) for m in re.finditer(EN_MIXED, visible)]
    for pattern in RAW_CODES:
        found += [m.group(0) for m in re.finditer(pattern, visible)]
    if os.environ.get("SANYI_WORDS_CONTEXT"):  # where each finding is, to fix it
        found = [f"{f} «{visible[max(0, i - 40):i + len(f) + 40]}»" for f in set(found)
                 for i in [visible.find(f)]]
    return sorted(set(found))


def walk(app: Any, login: Any, role: str, world: dict[str, Any]) -> dict[str, list[str]]:
    if role == "anonymous":
        app.client.delete_cookie("ckan", domain="127.0.0.1")
    else:
        login(app, role)
    bad: dict[str, list[str]] = {}
    for path in pages(role, world):
        for prefix, zh in (("", True), ("/en", False)):
            url = prefix + path
            res = app.get(url, follow_redirects=True)
            if res.status_code in (302, 401, 403):
                continue
            want = 404 if path == "/no-such-page" else 200
            try:
                body = checked_body(res, url, 404 if res.status_code == 404 else want)
            except AssertionError as e:
                bad[url] = [str(e)[:300]]
                continue
            found = findings(body, zh)
            if found:
                bad[url] = found
    return bad


@pytest.mark.parametrize("role", ROLES)
def test_every_page_in_its_users_words(walk_app, demo, login, role):
    bad = walk(walk_app, login, role, demo)
    assert not bad, "\n".join(f"{url}: {found}" for url, found in bad.items())
