"""How the operations reach the domain: one statement per operation on the pool of
single-statement reads (no transaction), and a pooled connection the server dropped is
retried once."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from ckanext.sanyi.delivery.datadomain import store
from ckanext.sanyi.delivery.operations import engine

P1 = "420802195803124021"
PAYLOADS = {
    "risk-assessment": {"id_number": P1, "consent_ref": "AUTH-2026-000123"},
    "visit-verification": {"id_number": P1, "institution": "东宝区社区卫生服务中心",
                           "date_from": "2026-01-01", "date_to": "2026-06-30",
                           "diagnosis_chapter": "I"},
    "renewal-eligibility": {"id_number": P1},
    "health-profile": {"id_number": P1},
    "cohort-statistics": {"drug": "苯磺酸氨氯地平片", "date_from": "2025-01-01",
                          "date_to": "2025-12-31", "group_by": ["age_band", "sex"]},
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_operation_is_one_statement_outside_a_transaction(small_domain, name):
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with engine.connection(small_domain.url) as conn:
        sa.event.listen(conn, "before_cursor_execute", seen)
        try:
            engine.run(name, PAYLOADS[name], conn=conn, today=small_domain.today)
        finally:
            sa.event.remove(conn, "before_cursor_execute", seen)
        assert conn.connection.dbapi_connection.autocommit
    assert len(statements) == 1


def test_a_dropped_connection_is_retried(small_domain, monkeypatch):
    import ckan.plugins.toolkit as tk
    monkeypatch.setitem(tk.config, "ckanext.sanyi.domain.url", small_domain.url)
    before = engine.run("risk-assessment", PAYLOADS["risk-assessment"],
                        today=small_domain.today).result
    with store.connect(small_domain.url) as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = 'sanyi-domain' AND state = 'idle'")).scalar()
    assert killed >= 1
    opened = []
    connection = engine.connection

    def counted(url=None):
        opened.append(url)
        return connection(url)

    monkeypatch.setattr(engine, "connection", counted)
    after = engine.run("risk-assessment", PAYLOADS["risk-assessment"],
                       today=small_domain.today).result
    assert after == before and after["found"] is True
    assert len(opened) == 2   # the dropped one, then a new one
