"""Generating into a database: the same parameters give the same tables, other ones others;
the generation is recorded in ``loads`` (one scratch domain database, never the configured
one that ``small_domain`` fills)."""
from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import generate, sources, store, tables

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def scratch_url():
    import ckan.plugins.toolkit as tk

    from ckanext.sanyi import devtools
    url = tk.config.get("ckanext.sanyi.domain.url")
    if not url:
        pytest.skip("ckanext.sanyi.domain.url is not set in the test ini")
    db = sa.engine.make_url(str(url)).database
    scratch = devtools.create_domain_database(f"{db}_gen")
    store.ensure_schema(scratch)
    yield scratch
    store.dispose()


def _digests(url: str) -> dict[str, str]:
    out = {}
    with store.connect(url) as conn:
        for s in sources.SOURCES:
            out[s.table] = conn.execute(sa.text(
                f'SELECT md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t."{s.key}"), \'\')) '
                f'FROM {sources.SCHEMA}."{s.table}" t')).scalar()
    return out


def _generate(url: str, persons: int, seed: int) -> generate.Report:
    with store.begin(url) as conn:
        return generate.generate(conn, persons=persons, seed=seed, today=TODAY)


def test_same_seed_same_tables_other_seed_other_tables(scratch_url):
    first = _generate(scratch_url, 400, 7)
    a = _digests(scratch_url)
    again = _generate(scratch_url, 400, 7)
    assert _digests(scratch_url) == a
    assert again.sha256 == first.sha256 and again.rows == first.rows
    _generate(scratch_url, 400, 8)
    b = _digests(scratch_url)
    assert b["market_drugs"] == a["market_drugs"]
    assert {t for t in a if a[t] != b[t]} >= {
        "persons", "outpatient_visits", "settlements", "settlement_items", "prescriptions",
        "exams", "lab_results"}


def test_generation_recorded_and_rows_counted(scratch_url):
    report = _generate(scratch_url, 300, 9)
    assert report.rows["persons"] == 300 and report.total > 300 * 20
    with store.connect(scratch_url) as conn:
        got = conn.execute(sa.select(tables.loads.c.source_table, tables.loads.c.origin,
                                     tables.loads.c.rows, tables.loads.c.sha256)).all()
        assert generate.current_origin(conn) == "generate:persons=300,seed=9,today=2026-12-01"
        for s in sources.SOURCES:
            n = conn.execute(sa.select(sa.func.count()).select_from(
                tables.table(s.table))).scalar()
            assert n == report.rows[s.table]
    assert sorted(r.source_table for r in got) == sorted(s.table for s in sources.SOURCES)
    assert {r.origin for r in got} == {report.origin}
    assert {r.source_table: r.rows for r in got} == report.rows
    assert {r.source_table: r.sha256 for r in got} == report.sha256


def test_a_replaced_table_is_no_longer_the_generation(scratch_url):
    _generate(scratch_url, 300, 9)
    with store.begin(scratch_url) as conn:
        conn.execute(tables.loads.insert().values(
            source_table="persons", resource="市医保局/医保参保人员", origin="extract.csv",
            sha256="0" * 64, rows=1, loaded_by="test"))
        assert generate.current_origin(conn) is None
    with store.begin(scratch_url) as conn:
        conn.execute(sa.delete(tables.loads))
        assert generate.current_origin(conn) is None


def test_a_large_generation_rebuilds_the_keys(scratch_url, monkeypatch):
    """The path that drops and rebuilds keys and indexes (taken from 100,000 persons) leaves
    the same tables, primary keys and indexes as the one that keeps them."""
    _generate(scratch_url, 300, 3)
    kept = _digests(scratch_url)
    monkeypatch.setattr(generate, "REBUILD_KEYS_FROM", 1)
    _generate(scratch_url, 300, 3)
    assert _digests(scratch_url) == kept
    with store.connect(scratch_url) as conn:
        names = set(conn.execute(sa.text(
            "SELECT indexname FROM pg_indexes WHERE schemaname = :s"),
            {"s": sources.SCHEMA}).scalars())
    for s in sources.SOURCES:
        assert f"{s.table}_pkey" in names
        for ix in tables.table(s.table).indexes:
            assert ix.name in names
