"""The data domain is unreadable through CKAN: not its database role, no action, no page.

CKAN's database role may not even connect to the domain's database. With a person loaded into
the domain under a distinctive identity number, name, address and employer, no registered
action (every side-effect-free one over GET, every sanyi action over POST, with the person's
name or number in each parameter it documents) and no page answers any of them, as anonymous
or as sysadmin. A value a request carries may be echoed back (a search box shows its query), so
each request is checked for the values it does not carry; the check reads JSON answers decoded,
and a positive control proves it sees Chinese text where it is.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
import sqlalchemy as sa
from ckan.tests import factories
from extract_files import PERSONS_HEADER, rows_of, write_csv

from ckanext.sanyi.delivery.datadomain import loader, store
from ckanext.sanyi.domain.id_number import check_char

pytestmark = pytest.mark.usefixtures("with_plugins")

FIRST17 = "42080219770707135"
ID_NUMBER = FIRST17 + check_char(FIRST17)
NAME = "甄隐秘"
PERSON_NO = "PZ99887766"
ADDRESS = "东宝区隐秘巷77号"
EMPLOYER = "隐秘测试精工有限公司"
NEVER_SENT = (PERSON_NO, ADDRESS, EMPLOYER)
PARAMS = ("q", "id", "query", "name", "fq", "terms", "search", "term", "text", "filters",
          "id_number", "user", "package", "resource_id", "object_id")


def _ckan_url_to(database: str) -> sa.engine.URL:
    import ckan.plugins.toolkit as tk
    return sa.engine.make_url(tk.config["sqlalchemy.url"]).set(database=database)


def test_ckan_role_cannot_connect_to_the_domain_database(configured_domain_url, load_domain):
    for url in (load_domain, configured_domain_url):
        database = sa.engine.make_url(url).database
        eng = sa.create_engine(_ckan_url_to(database))
        with pytest.raises(sa.exc.OperationalError) as e:
            with eng.connect():
                pass
        eng.dispose()
        assert "permission denied" in str(e.value) and database in str(e.value)
        with store.connect(url) as conn:
            ckan_role = _ckan_url_to(database).username
            assert conn.execute(sa.text(
                "SELECT has_database_privilege(:r, current_database(), 'CONNECT')"),
                {"r": ckan_role}).scalar_one() is False


def _loaded_person(tmp_path) -> None:
    header = [*PERSONS_HEADER, "患者现住址", "患者所在单位"]
    row = [PERSON_NO, ID_NUMBER, NAME, "1", "1977-07-07", "310", "420802", "2000-01-01",
           ADDRESS, EMPLOYER]
    report = loader.load_file("yb-persons", write_csv(tmp_path / "p.csv", header, [row]))
    assert report.inserted == 1
    [got] = rows_of("persons")
    assert (got["id_number"], got["name"], got["address"]) == (ID_NUMBER, NAME, ADDRESS)


def _text(res: Any) -> str:
    body = res.get_data(as_text=True)
    try:  # CKAN's JSON escapes Chinese as \\uXXXX: read it as text
        return json.dumps(json.loads(body), ensure_ascii=False)
    except ValueError:
        return body


def _actions() -> tuple[list[str], list[str]]:
    """(every side-effect-free action, every other sanyi action)."""
    import ckan.logic as logic
    from ckan.plugins.core import _get_service
    logic.get_action("package_show")   # fills the registry
    registry = logic._actions
    free = sorted(n for n, f in registry.items() if getattr(f, "side_effect_free", False))
    own = sorted(n for n in _get_service("sanyi").get_actions() if n not in free)
    return free, own


def _params(name: str) -> list[str]:
    import ckan.plugins.toolkit as tk
    doc = tk.get_action(name).__doc__ or ""
    return sorted(set(re.findall(r":param (\w+):", doc)) | set(PARAMS))


class _Probe:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.sent = 0
        self.leaks: list[str] = []
        self.echoed = 0

    def check(self, where: str, res: Any, hidden: tuple[str, ...], sent: str) -> None:
        self.sent += 1
        text = _text(res)
        self.echoed += sent in text
        self.leaks += [f"{where}: {h}" for h in hidden if h in text]

    def action(self, name: str, method: str, value: str, hidden: tuple[str, ...],
               token: str | None) -> None:
        headers = {"Authorization": token} if token else {}
        data = {p: value for p in _params(name)}
        if name == "resource_search":
            data["query"] = f"name:{value}"
        url = f"/api/3/action/{name}"
        try:
            if method == "GET":
                res = self.app.get(url, query_string=data, headers=headers)
            else:
                res = self.app.post(url, json=data, headers=headers)
        except Exception:  # a crash answers nothing, so leaks nothing
            self.sent += 1
            return
        self.check(f"{method} {name}", res, hidden, value)

    def page(self, url: str, hidden: tuple[str, ...], sent: str) -> None:
        self.check(f"page {url}", self.app.get(url), hidden, sent)


def test_no_action_or_page_returns_a_domain_row(load_catalog, app, login, tmp_path):
    _loaded_person(tmp_path)
    factories.Sysadmin(name="probe_admin")
    token = factories.APIToken(user="probe_admin")["token"]
    import ckan.plugins as plugins
    assert not plugins.plugin_loaded("datastore")
    res = app.get("/api/3/action/datastore_search", query_string={"resource_id": ID_NUMBER})
    assert res.status_code == 400 and "datastore_search" in _text(res)

    probe = _Probe(app)
    free, own = _actions()
    assert "package_search" in free and "resource_search" in free and len(own) >= 20
    by_name = (NAME, (ID_NUMBER, *NEVER_SENT))
    by_number = (ID_NUMBER, (NAME, *NEVER_SENT))
    for value, hidden in (by_name, by_number):
        for who in (None, token):
            for name in free:
                probe.action(name, "GET", value, hidden, who)
    for who in (None, token):   # these may store what they are sent: check only the rest
        for name in own:
            probe.action(name, "POST", NAME, NEVER_SENT, who)

    pages = ["/dataset/?q={}", "/dataset/yb-persons", "/dataset/?q=%E5%8C%BB%E4%BF%9D+{}",
             "/api/3/action/package_search?q={}", "/api/3/action/resource_search?query=name:{}",
             "/organization/shi-yi-bao-ju?q={}", "/product/?q={}", "/"]
    for session in ("anonymous", "probe_admin"):
        if session != "anonymous":
            login(app, session)
        for value, hidden in (by_name, by_number):
            for url in pages:
                probe.page(url.format(value), hidden, value)
    print(f"\n{probe.sent} requests, {probe.echoed} echoed the value sent")
    assert probe.leaks == []
    assert probe.echoed > 10   # the check does see Chinese text where it is
    assert probe.sent >= 2 * 2 * len(free) + 2 * len(own) + 2 * 2 * len(pages)
