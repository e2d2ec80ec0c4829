"""Fixtures of the delivery tests; their helpers are plain functions in modules named for
what they do, imported by name (``from gateway_calls import call, token``).

``small_domain`` (session): the data domain configured in the test ini
(``ckanext.sanyi.domain.url``) holding a generated population of :data:`PERSONS` persons
(seed :data:`SEED`, today :data:`TODAY`) with the fixed test persons, generated once per
session, or kept from an earlier session when it still holds exactly that generation (the
``loads`` rows say so and every table has the rows they count). Tests read it; a test that
writes into the configured domain must use a scratch database instead (as ``load_domain``
does), or the other tests of the session see its rows.

    def test_something(small_domain):
        with small_domain.connect() as conn:
            conn.execute(...)
        small_domain.today  # dt.date(2026, 12, 1)

``client_world`` (API client and OAuth tests; helpers in client_calls.py): the application
tests' ``world`` (tests/integration/conftest.py: bureau, operator, data units, two verified
merchants, products) plus a user with no role, an active entitlement of ``merchant_user``
(free public-interest use of health-profile) and one of ``merchant_two``.

``sup_world`` (supervision, billing and usage-page tests; helpers in supervision_records.py):
the application tests' ``world`` (慢病线上开处方 priced per call and the free
个人健康画像与风险预警) plus a user with no role and an active entitlement of each merchant,
both through the real application flow (free public-interest use).

``gateway_world`` (module; gateway tests, helpers in gateway_calls.py): an empty database
holding the demo catalog and products (the demo's data processor, API clients and
entitlements left out), so that the products' operations have their real routes and the
catalog resources their real data items; a verified merchant with a user; the small
generated domain (``small_domain``).

``sample_world`` (sample and data-processor tests; helpers in sample_roles.py): the roles
(sanyi_orgs' bureau, operator, data-unit editors and merchant, plus a sysadmin, a user with
no role and two data processors, fully registered), three catalog resources — 医保参保人员
(市医保局) and 门诊就诊记录数据 (市卫健委), both backed by domain tables, and one backed by
none — and the session's generated domain (``small_domain``, 2,000 persons with the fixed
test persons).

``load_domain`` (tests of loading extracts; helpers in extract_files.py): the configured data
domain becomes a scratch database of its own (``load_domain_url``: ``<domain database>_load``,
created once per session by devtools as deploy/setup.sh creates the domain, owned by the
domain role), emptied before each test, so that replacing a table here never touches rows
another fixture generated in the configured domain; ``configured_domain_url`` (session) is
the domain URL of the test configuration. ``load_catalog``: the catalog resources the tests
load into (医保参保人员 of 市医保局 with a field list leaving out 联系电话; 门诊就诊记录数据 and
高血压患者健康管理数据 of 市卫健委 with the full list) and one resource with no domain table
(住房公积金缴存数据 of 市公积金中心).

``own_redis`` (quota tests; helpers in quota_calls.py): a redis-server of the test's own, on a
free port (:class:`quota_calls.OwnRedis`), stopped at the end.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from quota_calls import OwnRedis

PERSONS = 2000
SEED = 20261201
TODAY = dt.date(2026, 12, 1)


@dataclass(frozen=True)
class SmallDomain:
    url: str
    today: dt.date
    persons: int
    seed: int

    @contextlib.contextmanager
    def connect(self) -> Iterator[sa.engine.Connection]:
        """A read connection to the domain (rolled back at the end)."""
        from ckanext.sanyi.delivery.datadomain import store
        with store.connect(self.url) as conn:
            yield conn


def _intact(conn: sa.engine.Connection, origin: str) -> bool:
    from ckanext.sanyi.delivery.datadomain import generate, tables
    if generate.current_origin(conn) != origin:
        return False
    for row in conn.execute(sa.select(tables.loads.c.source_table, tables.loads.c.rows)):
        n = conn.execute(sa.select(sa.func.count()).select_from(
            tables.table(row.source_table))).scalar()
        if n != row.rows:
            return False
    return True


def ensure_generated(url: str, persons: int = PERSONS, seed: int = SEED,
                     today: dt.date = TODAY) -> SmallDomain:
    """The domain at ``url`` holding exactly that generation (generated when it does not)."""
    from ckanext.sanyi.delivery.datadomain import generate, store
    store.ensure_schema(url)
    with store.begin(url) as conn:
        if not _intact(conn, generate.origin(persons, seed, today)):
            generate.generate(conn, persons=persons, seed=seed, today=today,
                              loaded_by="tests")
    return SmallDomain(url=url, today=today, persons=persons, seed=seed)


@pytest.fixture(scope="session")
def small_domain() -> SmallDomain:
    import ckan.plugins.toolkit as tk
    url = tk.config.get("ckanext.sanyi.domain.url")
    if not url:
        pytest.skip("ckanext.sanyi.domain.url is not set in the test ini")
    return ensure_generated(str(url))


# -- API clients and OAuth ------------------------------------------------------------------
@pytest.fixture
def client_world(world):
    from applications_support import to_status
    from ckan.tests import factories
    factories.User(name="no_role")
    mine = to_status("active", free=True)
    theirs = to_status("active", free=True, user="merchant_two")
    return dict(world, entitlement=mine["entitlement"], other_entitlement=theirs["entitlement"],
                application=mine)


# -- supervision, billing, usage pages ------------------------------------------------------
@pytest.fixture
def sup_world(world):
    from applications_support import to_status
    from ckan.tests import factories
    factories.User(name="no_role")
    mine = to_status("active", free=True)
    theirs = to_status("active", free=True, user="merchant_two")
    return dict(world, entitlement=mine["entitlement"], application=mine,
                other_entitlement=theirs["entitlement"], other_application=theirs)


# -- the gateway ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gateway_world(reset_db, migrate_db_for, small_domain):
    import ckan.plugins
    from ckan import model
    from ckan.tests import factories
    from gateway_calls import CLAIMS, UNDERWRITING, product_name
    from quota_calls import merchant

    from ckanext.sanyi.catalog import demo
    from ckanext.sanyi.delivery import gateway
    from ckanext.sanyi.delivery.datadomain import catalog_link
    from ckanext.sanyi.delivery.operations import engine, spec
    ckan.plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("sanyi")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("ckanext.sanyi.delivery.client_demo.load_demo_clients", lambda echo: None)
        mp.setattr("ckanext.sanyi.delivery.processors.load_demo", lambda echo: None)
        demo.load(echo=lambda s: None)
    user = factories.User(name="gw_merchant")
    firm = merchant(user["id"])
    model.Session.commit()
    gateway.forget_caches()
    resources = catalog_link.resources()
    items = {op.name: sorted(engine.required_items(op, resources))
             for op in spec.OPERATIONS.values()}
    return {"merchant": firm, "user": "gw_merchant", "items": items, "domain": small_domain,
            "underwriting": product_name(UNDERWRITING), "claims": product_name(CLAIMS)}


# -- samples and data processors ------------------------------------------------------------
def _dataset(user: str, org: str, name: str, source_table: str | None, title: str) -> dict:
    from ckan.tests import helpers

    from ckanext.sanyi.delivery.datadomain import catalog_link
    from ckanext.sanyi.delivery.datadomain.sources import by_table
    fields = catalog_link.field_list(by_table(source_table)) if source_table else \
        [{"field_name": "项目", "field_type": "string", "sensitive": "no"}]
    return helpers.call_action(
        "package_create", context={"user": user}, name=name, title=title, owner_org=org,
        domain="health", delivery_methods=["api"], update_cycle="monthly", grade_level="L3",
        open_attribute="authorized", last_updated=dt.date(2026, 11, 28).isoformat(),
        data_fields=fields)


@pytest.fixture
def sample_world(sanyi_orgs, request):
    from ckan.tests import factories
    from sample_roles import PROCESSORS, make_processor, register_merchant
    factories.Sysadmin(name="sysadmin")
    for name in ("no_role", *PROCESSORS):
        factories.User(name=name, fullname=f"{name} 全名")
    register_merchant("merchant_user")
    insured = _dataset("yb_editor", "shi-yi-bao-ju", "insured", "persons", "医保参保人员")
    visits = _dataset("wj_editor", "shi-wei-jian-wei", "visits", "outpatient_visits",
                      "门诊就诊记录数据")
    other = _dataset("wj_editor", "shi-wei-jian-wei", "other", None, "卫生机构名录")
    request.getfixturevalue("small_domain")
    for n, name in enumerate(PROCESSORS, start=1):
        make_processor(name, n)
    tokens = {u: factories.APIToken(user=u)["token"]
              for u in ("no_role", "merchant_user", "sysadmin", "operator_user", "bureau_user",
                        *PROCESSORS)}
    return {"insured": insured, "visits": visits, "other": other, "tokens": tokens,
            **sanyi_orgs}


# -- loading extracts -----------------------------------------------------------------------
@pytest.fixture(scope="session")
def configured_domain_url() -> str:
    """The domain URL of the test configuration (before ``load_domain`` replaces it)."""
    from ckanext.sanyi.delivery.datadomain import store
    return store.configured_url()


@pytest.fixture(scope="session")
def load_domain_url() -> str:
    from ckanext.sanyi import devtools
    from ckanext.sanyi.delivery.datadomain import store
    configured = sa.engine.make_url(store.configured_url())
    url = devtools.create_domain_database(f"{configured.database}_load", recreate=True)
    store.ensure_schema(url)
    return url


@pytest.fixture
def load_domain(load_domain_url, monkeypatch) -> str:
    import ckan.plugins.toolkit as tk
    from extract_files import DOMAIN_KEY, empty_domain
    monkeypatch.setitem(tk.config, DOMAIN_KEY, load_domain_url)
    empty_domain(load_domain_url)
    return load_domain_url


def _resource(org: str, name: str, title: str, domain: str, fields: list[dict[str, str]] | None
              ) -> dict[str, Any]:
    from ckan.tests import helpers
    data: dict[str, Any] = dict(
        name=name, title=title, owner_org=org, domain=domain, delivery_methods=["api"],
        update_cycle="monthly", grade_level="L3", open_attribute="authorized",
        last_updated="2026-11-20")
    if fields is not None:
        data["data_fields"] = fields
    return helpers.call_action("package_create", context={"user": "domain_admin"}, **data)


@pytest.fixture
def load_catalog(clean_db, load_domain) -> dict[str, Any]:
    from ckan.tests import factories

    from ckanext.sanyi.delivery.datadomain import catalog_link, sources
    factories.Sysadmin(name="domain_admin")
    factories.User(name="yb_loader")
    factories.Organization(name="shi-yi-bao-ju", title="市医保局")
    factories.Organization(name="shi-wei-jian-wei", title="市卫健委")
    factories.Organization(name="gong-ji-jin", title="市公积金中心")
    persons = sources.by_table("persons")
    listed = [f for f in catalog_link.field_list(persons) if f["field_name"] != "联系电话"]
    return {
        "persons": _resource("shi-yi-bao-ju", "yb-persons", "医保参保人员", "insurance", listed),
        "visits": _resource("shi-wei-jian-wei", "wj-visits", "门诊就诊记录数据", "health",
                            catalog_link.field_list(sources.by_table("outpatient_visits"))),
        "chronic": _resource("shi-wei-jian-wei", "wj-hypertension", "高血压患者健康管理数据",
                             "health", catalog_link.field_list(
                                 sources.by_table("chronic_registrations"))),
        "other": _resource("gong-ji-jin", "gjj-deposits", "住房公积金缴存数据", "fund", None),
    }


# -- quota and counters ---------------------------------------------------------------------
@pytest.fixture
def own_redis(tmp_path) -> Iterator[OwnRedis]:
    from quota_calls import OwnRedis

    from ckanext.sanyi import devtools
    server = OwnRedis(devtools.free_port(), str(tmp_path))
    server.start()
    try:
        yield server
    finally:
        server.stop()
