"""Shared fixtures: CKAN's own (clean_db, app, with_plugins, ...) plus the sanyi tables.

A run of the unit tests alone (``pytest tests/unit`` or ``pytest -m unit``) leaves CKAN's
pytest plugin out: it would load the configuration and build the app (reading the database)
before the first test.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import plugin_reuse
import pytest
import run_summary
from sanyi_db import Database

UNIT = Path(__file__).resolve().parent / "unit"


def _unit_tests_only(config: pytest.Config) -> bool:
    """Does this run select the unit tests only (``-m unit``, or paths under tests/unit)?"""
    if config.option.markexpr.strip() == "unit":
        return True
    paths = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
             for arg in config.args]
    return bool(paths) and all(p == UNIT or UNIT in p.parents for p in paths)


def _lane_ini(config: pytest.Config) -> None:
    """Under pytest-xdist (``tests/run.sh`` runs the suite in lanes), worker ``gwN`` for N > 0
    takes ``test-laneN+1.ini`` beside the given ``--ckan-ini``: a database, data domain,
    Redis db and storage of its own (``deploy/setup.sh test`` writes them)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not config.option.ckan_ini or int(worker[2:]) == 0:
        return
    lane = Path(config.option.ckan_ini).resolve().with_name(f"test-lane{int(worker[2:]) + 1}.ini")
    if not lane.exists():
        raise pytest.UsageError(f"{lane} is missing: run `SANYI_TEST_LANES=N bash deploy/setup.sh "
                                f"test` for N lanes")
    config.option.ckan_ini = str(lane)


def seconds_to_wait(now: dt.datetime, margin: dt.timedelta) -> float:
    """Seconds until just after the next midnight of ``now``'s zone when that midnight is
    less than ``margin`` away, else 0."""
    midnight = dt.datetime.combine(now.date() + dt.timedelta(days=1), dt.time(), now.tzinfo)
    left = (midnight - now).total_seconds()
    return left + 5 if left < margin.total_seconds() else 0.0


def _within_one_day(config: pytest.Config) -> None:
    """Test modules and worlds take today's date in Asia/Shanghai (the portal's) when they
    are imported or built; a run that crossed Beijing midnight would hand the portal
    yesterday's dates (an application starting "before today"). A run that would start less
    than ``SANYI_TEST_DAY_MARGIN_MINUTES`` (default 30, about twice the suite) before it waits
    for midnight to pass."""
    if hasattr(config, "workerinput"):  # a lane: its controller has waited
        return
    margin = dt.timedelta(minutes=int(os.environ.get("SANYI_TEST_DAY_MARGIN_MINUTES", "30")))
    wait = seconds_to_wait(dt.datetime.now(ZoneInfo("Asia/Shanghai")), margin)
    if wait:
        print(f"Beijing midnight is {wait / 60:.1f} min away: the run starts after it, so that "
              "every test's today is one date", file=sys.stderr, flush=True)
        time.sleep(wait)


def pytest_configure(config: pytest.Config) -> None:
    _lane_ini(config)
    if _unit_tests_only(config):
        for name in ("ckan", "ckan_fixtures"):  # entry points of ckan.tests.pytest_ckan
            plugin = config.pluginmanager.get_plugin(name)
            if plugin is not None:
                config.pluginmanager.unregister(plugin)
    else:
        _within_one_day(config)
        plugin_reuse.install()


# -- CKAN's with_plugins and app, loading and building only what differs (plugin_reuse.py) --
@pytest.fixture
def with_plugins(ckan_config, provide_plugin, monkeypatch, request):
    """CKAN's ``with_plugins``: the plugins of ``ckan.plugins`` and of the test's
    ``with_plugins`` marks loaded, unless they already are for this configuration."""
    import ckan.plugins
    names = plugin_reuse.plugin_names(request)
    if names is None or plugin_reuse.OFF:  # plugin classes provided: CKAN's fixture as it is
        from ckan.tests.pytest_ckan.fixtures import with_plugins as ckan_with_plugins
        plugin_reuse.REUSE.forget()
        yield from ckan_with_plugins.__wrapped__(ckan_config, provide_plugin, monkeypatch,
                                                 request)
        return
    current = ckan_config["ckan.plugins"]
    if isinstance(current, str):
        current = current.split()
    monkeypatch.setitem(ckan_config, "ckan.plugins", [*current, *names])
    plugin_reuse.REUSE.load_plugins()
    assert all(ckan.plugins.plugin_loaded(n) for n in names)
    yield


@pytest.fixture
def app(make_app):
    """CKAN's ``app``: a test app of its own for each test, on a Flask app built again only
    when the plugins or the configuration changed."""
    return make_app() if plugin_reuse.OFF else plugin_reuse.REUSE.test_app()



@pytest.fixture(scope="session")
def sanyi_db(reset_db, migrate_db_for) -> Database:
    """The test database (sanyi_db.py): emptied by ``clean_db``, worlds reused by ``layer``.
    Its first use in a session resets the database as CKAN does and applies the migrations."""
    def prepare() -> None:
        reset_db()
        migrate_db_for("activity")
        migrate_db_for("sanyi")
    db = Database(prepare)
    _databases.append(db)
    return db


_databases: list[Database] = []


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef) -> None:
    for db in _databases:  # a fixture that may write: its world part is checked, not assumed
        db.setting_up(fixturedef.argname)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call() -> None:
    for db in _databases:
        db.setting_up("<test>")


@run_summary.source
def _database_lines() -> list[str]:
    return [f"test database: emptied {db.stats['cleaned']} times; {db.stats['built']} world "
            f"parts built, {db.stats['reused']} tests reused the world of the test before"
            for db in _databases]


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workeroutput"):  # a lane of a run in lanes
        session.config.workeroutput["sanyi_summary"] = run_summary.lines()


_lanes: dict[str, list[str]] = {}


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    _lanes[node.gateway.id] = node.workeroutput.get("sanyi_summary", [])


def pytest_terminal_summary(terminalreporter: Any) -> None:
    by_lane = sorted(_lanes.items()) or [("", run_summary.lines())]
    for lane, lines in by_lane:
        for line in lines:
            terminalreporter.write_line(f"[{lane}] {line}" if lane else line)


@pytest.fixture
def clean_db(sanyi_db, request):
    """An empty database with CKAN's and the sanyi tables (search index included), as CKAN's
    ``clean_db`` leaves it (see ``Database.clean``)."""
    sanyi_db.clean(request)


@pytest.fixture
def clean_index(sanyi_db, request):
    """The search index lives in the database's tables (``sanyi_search_*``), which
    ``clean_db`` empties (or hands over with the reused world); CKAN's own fixture would
    empty them again after a world was handed over."""
    sanyi_db.clean(request)


def make_orgs() -> dict[str, Any]:
    """The bureau, the operator and two data units, with one editor each."""
    from ckan.tests import factories
    users = {k: factories.User(name=k) for k in
             ("bureau_user", "operator_user", "wj_editor", "yb_editor", "merchant_user")}
    orgs = {
        "bureau": factories.Organization(name="shi-shu-ju-ju", title="市数据局",
                                         users=[{"name": "bureau_user", "capacity": "editor"}]),
        "operator": factories.Organization(name="san-yi-yun-ying", title="三医数据运营有限公司",
                                           users=[{"name": "operator_user", "capacity": "editor"}]),
        "wj": factories.Organization(name="shi-wei-jian-wei", title="市卫健委",
                                     users=[{"name": "wj_editor", "capacity": "editor"}]),
        "yb": factories.Organization(name="shi-yi-bao-ju", title="市医保局",
                                     users=[{"name": "yb_editor", "capacity": "editor"}]),
    }
    return {"users": users, "orgs": orgs}


@pytest.fixture
def sanyi_orgs(sanyi_db, request):
    """The bureau, the operator and two data units, with one editor each, on an empty database
    (``make_orgs``; reused by the next tests of the module while nothing is written)."""
    return sanyi_db.layer(request, make_orgs)


LOGIN_PASSWORD = "Sanyi-test-2026"


def csrf_token(app, url: str = "/user/login") -> str:
    """The CSRF token the page at ``url`` hands the current session (form field or meta tag)."""
    import re
    page = app.get(url).body
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page) or \
        re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


@pytest.fixture
def login():
    """``login(app, name)``: log ``app``'s client in as ``name`` through the login form, as a
    browser does, so later requests are authenticated by the session cookie."""
    def do(app, name: str) -> None:
        from ckan import model
        user = model.User.get(name)
        user.password = LOGIN_PASSWORD
        model.Session.commit()
        app.client.delete_cookie("ckan", domain="127.0.0.1")
        res = app.post("/user/login", data={"login": name, "password": LOGIN_PASSWORD,
                                            "_csrf_token": csrf_token(app)},
                       follow_redirects=False)
        assert res.status_code == 302, f"login of {name} failed: {res.status_code}"
        home = app.get("/dashboard/overdue", follow_redirects=False)
        assert home.status_code == 200, f"{name} is not logged in"
    return do
