"""Python (domain/chain.py) and PostgreSQL (the triggers of 0010_hash_chains) serialize and
hash a row alike on awkward values: SQL NULL against JSON null, Chinese text, escapes and
control characters, numbers with their scale, key order, empty and nested JSON, timestamps at
the edges of Beijing days and years in any session time zone, rows written by CKAN's session,
by the gateway's own connection and by a raw INSERT."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from chain_support import ledger_rows, sql
from ckan import model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import call_store, ledger
from ckanext.sanyi.domain import chain as rules
from ckanext.sanyi.supervision import chain

pytestmark = pytest.mark.usefixtures("with_plugins", "clean_db")
UTC = dt.timezone.utc
AWKWARD = [
    None, {"a": None}, [], {}, "", "中文 · 医保局「结算」", "\"quoted\" \\ back\\slash / slash",
    "tab\tnew\nline\rcr\x08bs\x0cff\x01\x1f\x7f", "\u2028\u2029 emoji 🩺 é", 0, -0, 7,
    -123456789012345678901234567890, Decimal("2.50"), Decimal("0.000"), Decimal("-0.0"),
    Decimal("1E-7"), Decimal("1E+20"), Decimal("3.14159265358979323846264338327950288"),
    True, False, [1, [2, [3, []]], {"": ""}],
    {"bb": 1, "a": 2, "ccc": {"z": [], "y": {}}, "中": "文", "é": 1, "aa": None, "": 0},
]
TIMES = ["2026-12-31T16:00:00.000000Z", "2026-12-31T15:59:59.999999Z",
         "1999-12-31T23:59:59.999999Z", "2026-03-01T00:00:00.000001Z",
         "2024-02-29T12:00:00.500000Z"]


def _sql_json(value):
    return None if value is None else rules.jsonb_text(value)


def _rows(log: str, zone: str) -> list[tuple[dict, str]]:
    """Every row of the log as Python reads it for the walk, with the database's canonical
    text, read in session time zone ``zone``."""
    table = chain.TABLES[log]
    with model.meta.engine.connect() as conn:
        conn.execute(sa.text("SELECT set_config('TimeZone', :z, false)"), {"z": zone})
        out = []
        select = chain._select(log, "ORDER BY seq").as_string(conn.connection.dbapi_connection)
        for row in conn.execute(sa.text(select)).mappings():
            canon = conn.execute(sa.text(
                f"SELECT sanyi_{log}_canonical(t) FROM {table} t WHERE seq = :s"),
                {"s": row["seq"]}).scalar_one()
            out.append((dict(row), canon))
    return out


def _agree(log: str) -> int:
    n = 0
    for zone in ("UTC", "Asia/Shanghai", "America/St_Johns"):
        for row, canon in _rows(log, zone):
            assert rules.canonical_text(log, row) == canon
            assert rules.row_hash(log, row) == row["row_hash"] == rules.sha256_hex(canon)
            n += 1
    return n


def test_audit_rows_with_awkward_values():
    for i, value in enumerate(AWKWARD):
        sql("INSERT INTO sanyi_audit (actor, action, object_type, object_id, before, after, "
            "created) VALUES (:a, 'x', 't', :o, CAST(:b AS jsonb), CAST(:c AS jsonb), :t)",
            a="操作员" if i % 2 else "bureau_user", o="" if i % 3 else f"对象-{i}",
            b=_sql_json(value), c=_sql_json(AWKWARD[-1 - i]), t=TIMES[i % len(TIMES)])
    audit.record("bureau_user", "sanyi_price_set", "price", "p", before=None,
                 after={"amount": Decimal("12.30"), "day": dt.date(2026, 12, 2)}, commit=True)
    assert _agree("audit") == 3 * (len(AWKWARD) + 1)
    nulls = sql("SELECT sanyi_audit_canonical(a) FROM sanyi_audit a WHERE seq IN (1, 2) "
                "ORDER BY seq")
    assert ', null, ' in nulls[0][0] and ', [{"a": null}], ' in nulls[1][0]
    assert chain.verify("audit").ok


def test_ledger_rows_from_every_writer():
    ledger_rows(4, at=dt.datetime(2026, 12, 31, 15, 59, 59, 999999, tzinfo=UTC),
                step=dt.timedelta(microseconds=1))
    ledger.record(request_id="中文请求", outcome="refused", error="out_of_scope",
                  fields_read=[], latency_ms=0.0)
    model.Session.commit()
    tx = call_store.CallTx()  # the gateway's own connection: its transaction and insert
    tx.relock("e")
    tx.commit_row(ledger.row(request_id="gw-1", outcome="granted", units=3, product="p",
                             operation="o", fields_read=["yb-persons:身份证号"],
                             latency_ms=12.345, merchant_id="m", client_id="c",
                             entitlement_id="e", payload={"id_number": "420802195803124021"},
                             at=dt.datetime(2026, 1, 1, tzinfo=UTC)))
    sql("INSERT INTO sanyi_ledger (request_id, outcome, units, fields_read, resources, "
        "latency_ms) VALUES ('raw', 'granted', 1, '[{\"k\": 1.50}, null]', '{a,NULL,\"b c\"}', "
        "99.9)")
    assert _agree("ledger") == 3 * 7
    assert chain.verify("ledger").ok


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.text(max_size=12)
    | st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6,
                  max_value=10**6),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=4),
    max_leaves=12))
def test_any_json_value_hashes_alike(value):
    text = rules.jsonb_text(value)
    if "\\u0000" in text:  # jsonb refuses NUL
        return
    row = sql("SELECT sanyi_chain_wrap(CAST(:v AS jsonb))::text, CAST(:v AS jsonb)::text",
              v=text)[0]
    assert rules.jsonb_text([rules.parse_jsonb(row[1])]) == row[0]
