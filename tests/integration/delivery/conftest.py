"""Fixtures of the delivery tests.

``small_domain`` (session): the data domain configured in the test ini
(``ckanext.sanyi.domain.url``) holding a generated population of :data:`PERSONS` persons
(seed :data:`SEED`, today :data:`TODAY`) with the fixed test persons, generated once per
session, or kept from an earlier session when it still holds exactly that generation (the
``loads`` rows say so and every table has the rows they count). Tests read it; a test that
writes into the configured domain must use a scratch database instead (as
``extract_support.load_domain`` does), or the other tests of the session see its rows.

    def test_something(small_domain):
        with small_domain.connect() as conn:
            conn.execute(...)
        small_domain.today  # dt.date(2026, 12, 1)
"""
from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

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
