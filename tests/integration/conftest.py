"""Fixtures shared by several folders of the integration tests, and those of the fuzz tests.

The worlds of the feature tests, built on an empty database and reused by the next tests of
a module while nothing is written (tests/sanyi_db.py): ``world`` (the application tests'
units, resources, products and merchants; ``applications/applications_support.py``),
``pricing_world`` (``pricing/pricing_support.py``) and ``pay_world``
(``payments/payments_support.py``); the session's ``localstripe`` and ``stripe_config``, which
points the extension at it; quicker password hashes for every test user.

The fuzz tests (common/test_fuzz_*.py) run against one world per module, reached over HTTP.

``fuzz_world`` builds, once per module, the demo roles (sysadmin, bureau staff, operator
staff, a data-unit editor, a verified merchant, a logged-in user with no role), catalog
resources, a charged and a free product with prices, applications in several states, an
order awaiting payment, a paid order and a refund, and an API token for every user.
``fuzz_app`` is one CKAN test app for the module (the function-scoped ``app`` would build a
new Flask app for every test). ``fuzz_log`` counts the requests sent and keeps every 5xx;
both are reported at the end of the run (``run_summary``).
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from collections import Counter
from typing import Any

import pytest
import run_summary
from sqlalchemy import text

ROLES = ("anonymous", "no_role", "sysadmin", "bureau_user", "operator_user", "wj_editor",
         "merchant_user")


# -- the worlds of the feature tests --------------------------------------------------------
@pytest.fixture(scope="session", autouse=True)
def quick_password_hashes():
    """Test users' passwords hashed with 1,000 PBKDF2-SHA512 rounds, not CKAN's 25,000
    (``ckan.model.user`` uses this handler for hashing, checking and upgrading alike): the
    same scheme and checks, but a hash costs ~2 ms instead of ~60 ms (0.2 s on a busy
    machine), and every world creates five to nine users."""
    from ckan.model import user
    from passlib.hash import pbkdf2_sha512
    patch = pytest.MonkeyPatch()
    patch.setattr(user, "pbkdf2_sha512", pbkdf2_sha512.using(rounds=1000))
    yield
    patch.undo()


@pytest.fixture
def world(sanyi_orgs, sanyi_db, request):
    """sanyi_orgs + a sysadmin, a second merchant, an uninvolved data unit, catalog resources
    of three units, a charged and a free product, both merchants verified (``build_world``)."""
    from applications_support import build_world
    return sanyi_db.layer(request, lambda: build_world(sanyi_orgs))


@pytest.fixture
def pricing_world(sanyi_orgs, sanyi_db, request):
    """sanyi_orgs + a sysadmin + the tiered 智慧核保 product, a public-interest and a
    flat-priced one (``build_pricing_world``)."""
    from pricing_support import build_pricing_world
    return sanyi_db.layer(request, lambda: build_pricing_world(sanyi_orgs))


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory):
    """The base URL of a localstripe started for this session (killed at the end)."""
    from payments_support import run_localstripe
    with run_localstripe(tmp_path_factory.mktemp("localstripe")) as url:
        yield url


@pytest.fixture
def stripe_config(ckan_config, monkeypatch, localstripe):
    """Point the extension at localstripe (keys, API base, Stripe.js, webhook secret)."""
    from payments_support import stripe_settings
    for key, value in stripe_settings(localstripe).items():
        monkeypatch.setitem(ckan_config, f"ckanext.sanyi.stripe.{key}", value)
    return localstripe


@pytest.fixture
def pay_world(sanyi_orgs, stripe_config, monkeypatch):
    """sanyi_orgs + a sysadmin + a second merchant, localstripe configured, the applications
    service faked (its calls in ``world["applications"].paid``)."""
    from ckan.tests import factories
    from payments_support import FakeApplications

    from ckanext.sanyi.applications import subscriptions
    factories.Sysadmin(name="sysadmin")
    factories.User(name="merchant_two")
    fake = FakeApplications()
    monkeypatch.setattr(subscriptions, "service", fake)
    return {"applications": fake, "stripe_base": stripe_config, **sanyi_orgs}


# -- the fuzz tests ---------------------------------------------------------------------------
class _LastError(logging.Handler):
    """Keeps the last exception logged (CKAN logs the one behind a 500 answer)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.exc: BaseException | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            self.exc = record.exc_info[1]


class FuzzLog:
    """Requests sent by the fuzz tests and the 5xx answers seen (kept across modules)."""

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()
        self.failures: list[dict[str, Any]] = []
        self.last_error = _LastError()

    def logged(self) -> str:
        """The exception logged since the last call, as file:line (or "")."""
        for name in ("ckan.views.api", "ckan.config.middleware.flask_app", ""):
            logger = logging.getLogger(name)
            logger.disabled = False  # the test ini's logging setup disables existing loggers
            if self.last_error not in logger.handlers:  # CKAN's logging setup replaces them
                logger.addHandler(self.last_error)
        exc, self.last_error.exc = self.last_error.exc, None
        return short_traceback(exc) if exc is not None else ""

    def add(self, module: str) -> None:
        self.sent[module] += 1

    def fail(self, **info: Any) -> None:
        self.failures.append(info)

    @staticmethod
    def problem(res: Any) -> str | None:
        return answer_problem(res)

    @staticmethod
    def where(exc: BaseException) -> str:
        return short_traceback(exc)


_LOG = FuzzLog()


@pytest.fixture(scope="session")
def fuzz_log() -> FuzzLog:
    return _LOG


@run_summary.source
def _fuzz_lines() -> list[str]:
    if not _LOG.sent:
        return []
    out = [f"fuzz: {module}: {n} requests" for module, n in sorted(_LOG.sent.items())]
    out.append(f"fuzz: total {sum(_LOG.sent.values())} requests, {len(_LOG.failures)} answered 5xx")
    seen: set[tuple[str, str]] = set()
    for f in _LOG.failures:
        key = (f.get("target", ""), f.get("where", "").split(" | ")[0])
        if key in seen:
            continue
        seen.add(key)
        out.append(f"  5xx {f.get('status')} {f.get('target')} as {f.get('role')}: "
                   f"{f.get('where', '')}")
    return out


def _reset_database(reset_db: Any, migrate_db_for: Any) -> None:
    """What tests/conftest.py ``clean_db`` does, at module scope."""
    from ckan import model
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("sanyi")
    tables = [r[0] for r in model.Session.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'sanyi\\_%' AND tablename <> 'sanyi_alembic_version'"))]
    if tables:
        model.Session.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
    model.Session.commit()


@pytest.fixture(scope="module")
def demo_portal_data(reset_db, migrate_db_for) -> Any:
    """The demo data (``ckan sanyi load-demo``'s catalog, products, accounts) and a user with no
    role, on a database emptied for the module."""
    import ckan.plugins
    from ckan.tests import factories

    from ckanext.sanyi.catalog import demo as catalog_demo
    ckan.plugins.load_all()
    _reset_database(reset_db, migrate_db_for)
    catalog_demo.load(echo=lambda _: None)
    factories.User(name="no_role")
    yield
    ckan.plugins.unload_all()


@pytest.fixture(scope="module")
def fuzz_world(reset_db, migrate_db_for, localstripe) -> dict[str, Any]:
    """The world every fuzz request runs against (see the module docstring)."""
    import applications_support as sup
    import ckan.plugins
    from ckan import model
    from ckan.tests import factories

    saved = _stripe_config(localstripe)
    # the applications' dates are checked against today in Asia/Shanghai, not the host's today
    host_today = sup.TODAY
    sup.TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    ckan.plugins.load_all()
    _reset_database(reset_db, migrate_db_for)
    for name in ("bureau_user", "operator_user", "wj_editor", "yb_editor", "merchant_user",
                 "merchant_two", "yj_editor", "no_role"):
        factories.User(name=name)
    factories.Sysadmin(name="sysadmin")
    for org, title, editor in (("shi-shu-ju-ju", "市数据局", "bureau_user"),
                               ("san-yi-yun-ying", "三医数据运营有限公司", "operator_user"),
                               ("shi-wei-jian-wei", "市卫健委", "wj_editor"),
                               ("shi-yi-bao-ju", "市医保局", "yb_editor"),
                               ("shi-yao-jian-ju", "市药监局", "yj_editor")):
        factories.Organization(name=org, title=title,
                               users=[{"name": editor, "capacity": "editor"}])
    sup._resource("wj_editor", "shi-wei-jian-wei", "hypertension", "高血压患者健康管理数据",
                  data_fields=[{"field_name": "患者编号", "field_type": "code", "sensitive": "yes"},
                               {"field_name": "随访日期", "field_type": "date", "sensitive": "no"}])
    sup._resource("yb_editor", "shi-yi-bao-ju", "insured", "医保参保人员", domain="insurance")
    sup._product("chronic-refill", "慢病线上开处方", "industrial",
                 ["shi-wei-jian-wei", "shi-yi-bao-ju"], ["hypertension", "insured"])
    sup._product("health-profile", "个人健康画像与风险预警", "public_interest",
                 ["shi-wei-jian-wei"], ["hypertension"])
    sup._product("not-listed", "未上架产品", "industrial", ["shi-wei-jian-wei"],
                 ["hypertension"], status="draft")
    start = dt.date(sup.TODAY.year, 1, 1).isoformat()
    flat = {"bands": [{"upto": None, "price": "0.40"}], "unit": "call"}
    sup.system("sanyi_price_ceiling_set", product="chronic-refill", schedule=flat,
               effective_from=start)
    sup.system("sanyi_price_set", product="chronic-refill",
               schedule=dict(flat, bands=[{"upto": None, "price": "0.30"}]), effective_from=start)
    merchants = {"merchant_user": sup.register_merchant("merchant_user", 1),
                 "merchant_two": sup.register_merchant("merchant_two", 2)}
    apps = {status: sup.to_status(status, free=status == "active")
            for status in ("draft", "unit_review", "bureau_review", "awaiting_payment", "active")}
    paid = sup.to_status("awaiting_payment")
    sup.pay(paid["id"])
    revoked = sup.call_as("bureau_user", "sanyi_entitlement_revoke",
                          id=sup.call_as("merchant_user", "sanyi_application_show",
                                         id=paid["id"])["entitlement"]["id"],
                          reason="违规使用")["application"]
    apps["revoked"] = revoked
    order_ids = [a["order_id"] for a in apps.values() if a.get("order_id")]
    refund_ids = [r[0] for r in model.Session.execute(text("SELECT id FROM sanyi_refund"))]
    entitlement_ids = [r[0] for r in model.Session.execute(text("SELECT id FROM sanyi_entitlement"))]
    model.Session.commit()
    tokens = {name: factories.APIToken(user=name)["token"] for name in ROLES if name != "anonymous"}
    product_ids = {p.name: p.id for p in model.Session.query(model.Package)
                   .filter(model.Package.type == "product")}
    dataset_ids = {p.name: p.id for p in model.Session.query(model.Package)
                   .filter(model.Package.type == "dataset")}
    model.Session.remove()
    sup.TODAY = host_today
    world = {
        "tokens": tokens, "apps": apps, "merchants": merchants, "orders": order_ids,
        "refunds": refund_ids, "entitlements": entitlement_ids, "products": product_ids,
        "datasets": dataset_ids,
        "ids": sorted({*[a["id"] for a in apps.values()], *order_ids, *refund_ids,
                       *entitlement_ids, *product_ids, *product_ids.values(), *dataset_ids,
                       *dataset_ids.values(), *[m["id"] for m in merchants.values()]}),
    }
    world["localstripe"] = localstripe
    yield world
    ckan.plugins.unload_all()
    _restore_config(saved)


def _stripe_config(localstripe: str) -> dict[str, Any]:
    """Point the extension at localstripe; the previous values, for ``_restore_config``."""
    import payments_support as pay
    from ckan.plugins import toolkit as tk
    saved = {k: tk.config.get(k) for k in list(tk.config) if k.startswith("ckanext.sanyi.stripe.")}
    for key, value in {"secret_key": pay.SECRET_KEY, "publishable_key": pay.PUBLISHABLE_KEY,
                       "api_base": localstripe, "js_url": f"{localstripe}/js.stripe.com/v3/",
                       "webhook_secret": pay.WEBHOOK_SECRET,
                       "payment_method_types": "card alipay wechat_pay"}.items():
        tk.config[f"ckanext.sanyi.stripe.{key}"] = value
    return saved


def _restore_config(saved: dict[str, Any]) -> None:
    from ckan.plugins import toolkit as tk
    for key in [k for k in tk.config if k.startswith("ckanext.sanyi.stripe.")]:
        if key in saved:
            tk.config[key] = saved[key]
        else:
            del tk.config[key]


@pytest.fixture(scope="module")
def fuzz_module_app(fuzz_world):
    """One CKAN test app for the whole module."""
    from ckan.lib.app_globals import _CONFIG_CACHE
    from ckan.tests import helpers
    _CONFIG_CACHE.clear()
    return helpers._get_test_app()


@pytest.fixture
def fuzz_app(fuzz_module_app, fuzz_world, monkeypatch):
    """The module's app, with Stripe pointed at localstripe for this test (CKAN's test
    plugin puts the configuration back after every test)."""
    import payments_support as pay
    from ckan.plugins import toolkit as tk
    for key, value in {"secret_key": pay.SECRET_KEY, "publishable_key": pay.PUBLISHABLE_KEY,
                       "api_base": fuzz_world["localstripe"],
                       "js_url": f"{fuzz_world['localstripe']}/js.stripe.com/v3/",
                       "webhook_secret": pay.WEBHOOK_SECRET,
                       "payment_method_types": "card alipay wechat_pay"}.items():
        monkeypatch.setitem(tk.config, f"ckanext.sanyi.stripe.{key}", value)
    return fuzz_module_app


def answer_problem(res: Any) -> str | None:
    """Why an API answer is not acceptable (None if it is): a 5xx, or not CKAN's JSON."""
    if res.status_code >= 500:
        return f"HTTP {res.status_code}"
    try:
        body = json.loads(res.get_data(as_text=True))
    except ValueError:
        return f"HTTP {res.status_code}, not JSON: {res.get_data(as_text=True)[:200]!r}"
    if res.status_code == 400 and isinstance(body, str) and body.startswith("Bad request"):
        return None  # CKAN's own refusal of a request it cannot parse (or a GET of a write)
    if not isinstance(body, dict) or body.get("success") not in (True, False):
        return f"HTTP {res.status_code}, no success flag: {str(body)[:200]}"
    return None


def short_traceback(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "ckanext/sanyi" in f.filename] or frames[-1:]
    last, deepest = ours[-1], frames[-1]
    place = f"{last.filename.split('site-packages/')[-1].split('ckanext/')[-1]}:{last.lineno} " \
            f"{last.name}"
    if deepest is not last:
        place += f" -> {deepest.filename.split('site-packages/')[-1]}:{deepest.lineno}"
    return f"{place} | {type(exc).__name__}: {str(exc)[:160]}"
