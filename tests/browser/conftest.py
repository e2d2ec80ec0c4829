"""A real portal for the browser tests: its own database, demo data, a CKAN server, Chromium.

The portal runs against its own database (never the one in --ckan-ini, which integration
tests wipe with clean_db): ``ckan_sanyi_browser`` for the default test database
``ckan_sanyi_test``, ``<test database>_browser`` for any other, so that suites run with
different CKAN_TEST_INI files do not share it. The database is dropped and created again at
the start of each session, then `ckan db init`, `ckan db pending-migrations --apply` and
`ckan sanyi load-demo` fill it. Set SANYI_BROWSER_DB to choose another name.

Needs PostgreSQL superuser access for CREATE/DROP DATABASE: as root through `su postgres`,
otherwise through `sudo -n -u postgres` (both what deploy/setup.sh uses).
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ckanext.sanyi import devtools

CHROMIUM = os.environ.get("SANYI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
SERVER_START_TIMEOUT = 120


def ckan_bin() -> str:
    here = Path(sys.executable).with_name("ckan")
    return str(here) if here.exists() else (shutil.which("ckan") or "ckan")


def effective_config(ini: str) -> dict[str, str]:
    """The merged [app:main] options of ``ini`` (following its ``use = config:`` chain)."""
    from ckan.cli import CKANConfigLoader
    return CKANConfigLoader(ini).get_config()


def browser_db_name(base_url: str) -> str:
    if os.environ.get("SANYI_BROWSER_DB"):
        return os.environ["SANYI_BROWSER_DB"]
    base_db = urlsplit(base_url).path.lstrip("/") or "ckan_sanyi_test"
    return "ckan_sanyi_browser" if base_db == "ckan_sanyi_test" else f"{base_db}_browser"


def with_database(url: str, db: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + db))


def ckan(ini: Path, *args: str, timeout: int = 600) -> None:
    done = subprocess.run([ckan_bin(), "-c", str(ini), *args], capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode:
        raise RuntimeError(f"ckan {' '.join(args)} failed:\n{done.stdout[-3000:]}\n"
                           f"{done.stderr[-3000:]}")


def prepare_portal(base_ini: str, workdir: Path, port: int, suffix: str = "",
                   settings: dict[str, str] | None = None) -> Path:
    """Create the browser database (+ ``suffix``) from scratch, with demo data, and its ini."""
    url = effective_config(base_ini)["sqlalchemy.url"]
    db = browser_db_name(url) + suffix
    owner = urlsplit(url).username or "ckan_sanyi"
    assert db.replace("_", "").isalnum(), db
    devtools.create_database(db, owner, recreate=True)
    ini = workdir / "browser.ini"
    devtools.write_ini(str(ini), base_ini, {
        "sqlalchemy.url": with_database(url, db), "ckan.site_url": f"http://127.0.0.1:{port}",
        "ckanext.sanyi.demo_passwords": "false", **(settings or {})})
    ckan(ini, "db", "init")
    ckan(ini, "db", "pending-migrations", "--apply")
    ckan(ini, "sanyi", "load-demo")
    return ini


def start_portal(ini: Path, port: int, workdir: Path) -> subprocess.Popen:
    """``ckan run`` on ``port``, answering once this returns (stopped again on failure)."""
    log = workdir / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [ckan_bin(), "-c", str(ini), "run", "--host", "127.0.0.1", "--port", str(port),
             "--disable-reloader", "--threaded"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/3/action/status_show", proc, log,
                 SERVER_START_TIMEOUT)
    except BaseException:
        stop(proc)
        raise
    return proc




def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"CKAN server exited ({proc.returncode}):\n"
                               + log.read_text(errors="replace")[-4000:])
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"CKAN server did not answer {url} in {timeout}s:\n"
                       + log.read_text(errors="replace")[-4000:])


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its children, by our own group id
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="session")
def portal_url(request):
    """Base URL of a running portal with the demo data (own database, own server)."""
    base_ini = request.config.getoption("--ckan-ini")
    if not base_ini:
        pytest.skip("no --ckan-ini given")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} missing (deploy/setup.sh test installs it)")
    workdir = Path(tempfile.mkdtemp(prefix="sanyi-browser-"))
    port = devtools.free_port()
    ini = prepare_portal(base_ini, workdir, port)
    proc = start_portal(ini, port, workdir)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


_PLAYWRIGHT: list = []  # one Playwright per test process: a second sync one inside it fails


def _playwright():
    if not _PLAYWRIGHT:
        import atexit

        from playwright.sync_api import sync_playwright
        _PLAYWRIGHT.append(sync_playwright().start())
        atexit.register(_PLAYWRIGHT[0].stop)
    return _PLAYWRIGHT[0]


@contextlib.contextmanager
def chromium():
    """Debian's Chromium, headless, driven by Playwright (never Playwright's own browser); the
    browser test files of one process share one Playwright, each with a Chromium of its own."""
    b = _playwright().chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(scope="session")
def browser(portal_url):
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, portal_url):
    context = browser.new_context(base_url=portal_url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        context.close()
