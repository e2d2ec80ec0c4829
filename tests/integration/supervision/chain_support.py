"""Helpers of the hash-chain tests: a signing key in the configuration, rows written the ways
the portal writes them, tampering as the database owner would, the CLI."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from ckan import model
from ckan.plugins import toolkit as tk
from click.testing import CliRunner

from ckanext.sanyi.cli import sanyi
from ckanext.sanyi.common import audit
from ckanext.sanyi.delivery import ledger
from ckanext.sanyi.supervision import checkpoints

UTC = dt.timezone.utc


def make_key(path: Path) -> str:
    return checkpoints.generate_key(str(path))


@pytest.fixture
def signing_key(tmp_path, monkeypatch) -> str:
    """A fresh Ed25519 key configured as ckanext.sanyi.audit.signing_key."""
    path = make_key(tmp_path / "signing.pem")
    monkeypatch.setitem(tk.config, checkpoints.KEY_OPTION, path)
    return path


def run(*args: str) -> Any:
    """``ckan sanyi audit ARGS`` in this process; the result (exit_code, output)."""
    model.Session.remove()
    result = CliRunner().invoke(sanyi, ["audit", *args], catch_exceptions=False)
    model.Session.remove()
    return result


def ledger_rows(n: int, *, at: dt.datetime | None = None, step: dt.timedelta | None = None,
                **extra: Any) -> list[int]:
    """``n`` ledger rows through :func:`ledger.record` (CKAN's session), committed."""
    ids = []
    for i in range(n):
        when = None if at is None else at + (step or dt.timedelta(minutes=1)) * i
        values: dict[str, Any] = dict(
            request_id=f"req-{i}", outcome="granted" if i % 3 else "refused",
            error=None if i % 3 else "out_of_scope", product="smart-underwriting",
            operation="risk-assessment", units=1 if i % 3 else 0,
            payload={"id_number": "420802195803124021", "i": i},
            fields_read=["hypertension:患者编号", f"diabetes:字段{i}"], latency_ms=1.25 * i,
            merchant_id="merchant-1" if i % 2 else None, at=when)
        values.update(extra)
        ids.append(ledger.record(**values))
    model.Session.commit()
    return ids


def audit_rows(n: int) -> list[int]:
    ids = [audit.record("bureau_user", "sanyi_price_set", "price", f"p-{i}",
                        before=None if i % 2 else {"价格": i}, after={"价格": i + 1, "说明": "上调"})
           for i in range(n)]
    model.Session.commit()
    return ids


def sql(statement: str, **params: Any) -> Any:
    """One statement on a connection of its own as the database owner (CKAN's role), in a
    transaction of its own, committed."""
    model.Session.commit()
    with model.meta.engine.begin() as conn:
        result = conn.execute(sa.text(statement), params)
        return result.all() if result.returns_rows else result.rowcount


def as_owner(*statements: str, table: str = "sanyi_ledger", guard: str | None = None) -> None:
    """Tamper as an attacker with the owner's rights: the append-only trigger switched off
    around ``statements`` (one transaction), then on again."""
    guard = guard or f"{table}_append_only"
    model.Session.commit()
    with model.meta.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {guard}"))
        for statement in statements:
            conn.execute(sa.text(statement))
        conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER {guard}"))


def save_checkpoints(app: Any, path: Path) -> Path:
    """What an outsider keeps: the JSON of the public checkpoints."""
    res = app.get("/api/transparency/checkpoints.json")
    assert res.status_code == 200
    path.write_text(json.dumps(res.json, ensure_ascii=False), encoding="utf-8")
    return path
