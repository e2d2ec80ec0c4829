"""A pytest plugin (``-p ckan_core_plugin``) that runs CKAN's own tests on the sanyi search
backend: loaded by ``test_ckan_core_search.py`` in a separate pytest process with a core-only
CKAN configuration (CKAN's default plugins and settings, no sanyi plugin and no schemas), so
that CKAN's tests create and search datasets as they do against Solr.

* After CKAN's session start (config loaded, app made), ``ckanext.sanyi.search.install``
  replaces CKAN's Solr connection with the sanyi backend, exactly as the sanyi plugin's
  ``update_config`` does; the patches are module attributes, so they outlive CKAN's
  ``plugins.unload_all()`` and every test's config reset.
* CKAN's first ``reset_db`` drops every table of the database (ours too) and creates its
  own: the sanyi migrations are applied again whenever the search table is missing after a
  reset, and the search backend's per-process state (facet value ids) is dropped with it.
"""
from __future__ import annotations

import os

import pytest

_ALEMBIC_INI = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
    "ckanext-sanyi", "ckanext", "sanyi", "migration", "sanyi", "alembic.ini")


def _migrate_sanyi() -> None:
    from ckan import model
    from sqlalchemy import inspect
    engine = model.meta.engine
    if inspect(engine).has_table("sanyi_search_doc"):
        return
    original = model.repo._alembic_ini
    model.repo._alembic_ini = _ALEMBIC_INI
    try:
        model.repo.upgrade_db("head")
    finally:
        model.repo._alembic_ini = original
    model.Session.remove()


def _install_backend() -> None:
    from ckan.common import config

    from ckanext.sanyi import search
    search.install(config)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    import ckan.tests.helpers as helpers
    _install_backend()
    real_reset = helpers.reset_db

    def reset_db() -> None:
        real_reset()
        _migrate_sanyi()
    helpers.reset_db = reset_db  # the reset_db fixture returns this attribute
    real_reset()
    _migrate_sanyi()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the node ids (relative to ckan/tests) listed one per line in the file named by
    ``SANYI_CORE_DESELECT``: exact ids (``--deselect`` would also drop every test whose id
    merely starts with one)."""
    path = os.environ.get("SANYI_CORE_DESELECT")
    if not path:
        return
    with open(path) as f:
        wanted = {line.strip() for line in f if line.strip()}
    keep, drop = [], []
    for item in items:
        (drop if item.nodeid.removeprefix("ckan/tests/") in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def _fake_words_seeded_by_test(request: pytest.FixtureRequest) -> None:
    """CKAN's factories fill titles and descriptions with random words (faker): a test that
    searches for "record" or "one" among three datasets then also finds one whose random
    description holds that word, about one run in a hundred, on Solr as on this backend.
    Each test's words are seeded by its name, so a run is the same every time."""
    import zlib

    import factory.random
    from ckan.tests import factories
    seed = zlib.crc32(request.node.nodeid.encode())
    factories.fake.seed_instance(seed)
    factory.random.reseed_random(seed)
