"""The append-only audit log (全程留痕): who changed what, when, from what to what.

One generic table, ``sanyi_audit`` (migration ``0002_pricing_audit``): ``actor``, ``action``,
``object_type``, ``object_id``, ``before`` and ``after`` (jsonb), ``created``. A database
trigger refuses UPDATE, and DELETE of a record younger than three years, so a record can never
be changed once written. A hash chain (migration ``0010_hash_chains``): the database gives each
record its ``seq``, ``prev_hash`` and ``row_hash`` as it is inserted, whoever inserts it
(:mod:`ckanext.sanyi.supervision.chain`; ``ckan sanyi audit verify``).

:func:`record` writes in the caller's session and does not commit, so the change and its audit
record are committed (or rolled back) together; pass ``commit=True`` for a standalone record.
Values are stored as JSON: dates become ISO strings, Decimals strings; never floats.
"""
from __future__ import annotations

import builtins
import datetime as dt
from decimal import Decimal
from typing import Any

import ckan.model as model
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from .model import metadata
from .paging import MAX_LIMIT

__all__ = ["record", "list", "count", "audit_table"]

_meta = metadata  # not CKAN's metadata: CKAN's reset helpers must never DELETE from it
audit_table = sa.Table(
    "sanyi_audit", _meta,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("actor", sa.UnicodeText, nullable=False),
    sa.Column("action", sa.UnicodeText, nullable=False),
    sa.Column("object_type", sa.UnicodeText, nullable=False),
    sa.Column("object_id", sa.UnicodeText, nullable=False),
    sa.Column("before", JSONB),
    sa.Column("after", JSONB),
    sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seq", sa.BigInteger, unique=True),
    sa.Column("prev_hash", sa.UnicodeText),
    sa.Column("row_hash", sa.UnicodeText),
)


def _plain(value: Any) -> Any:
    """JSON-safe copy: Decimal → str, date/datetime → ISO, tuples → lists; floats refused."""
    if isinstance(value, float):
        raise TypeError("audit values must not be floats (money is integer fen or Decimal)")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dict):
        return {_text(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (builtins.list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, (int, bool)):
        return value
    return _text(str(value))


def _text(value: str) -> str:
    """Text PostgreSQL's jsonb can hold: NUL (refused by jsonb) and lone surrogates (not
    encodable as UTF-8) become U+FFFD, so a record of odd input never fails the change."""
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


def record(actor: str, action: str, object_type: str, object_id: str = "", *,
           before: Any = None, after: Any = None, commit: bool = False) -> int:
    """Append one audit record; returns its id.

    ``actor`` is the user name (or the site user for system changes), ``action`` the action
    name (``sanyi_price_set``), ``object_type``/``object_id`` what changed, ``before``/``after``
    its old and new value (``None`` when there was none).
    """
    if not actor or not action or not object_type:
        raise ValueError("actor, action and object_type are required")
    stmt = (audit_table.insert()
            .values(actor=actor, action=action, object_type=object_type,
                    object_id=object_id or "", before=_plain(before), after=_plain(after))
            .returning(audit_table.c.id))
    new_id = int(model.Session.execute(stmt).scalar_one())
    if commit:
        model.Session.commit()
    return new_id


def _filtered(stmt: Any, filters: dict[str, Any]) -> Any:
    for key in ("actor", "action", "object_type", "object_id"):
        value = filters.get(key)
        if value:
            stmt = stmt.where(audit_table.c[key] == value)
    for key, column in (("object_types", "object_type"), ("object_ids", "object_id")):
        if filters.get(key):
            stmt = stmt.where(audit_table.c[column].in_(builtins.list(filters[key])))
    if filters.get("since"):
        stmt = stmt.where(audit_table.c.created >= filters["since"])
    if filters.get("until"):
        stmt = stmt.where(audit_table.c.created < filters["until"])
    return stmt


def list(*, actor: str | None = None, action: str | None = None, object_type: str | None = None,
         object_id: str | None = None, object_types: Any = None, object_ids: Any = None,
         since: Any = None,
         until: Any = None, limit: int = 100, offset: int = 0,
         oldest_first: bool = False) -> builtins.list[dict[str, Any]]:
    """Audit records matching every given filter, newest first (or oldest first).

    ``object_types`` / ``object_ids`` are collections (any of them); ``since``/``until`` bound
    ``created`` (inclusive/exclusive, datetimes or ISO strings); ``limit`` ≤ 1000.
    """
    filters = {"actor": actor, "action": action, "object_type": object_type,
               "object_id": object_id, "object_types": object_types, "object_ids": object_ids,
               "since": since, "until": until}
    order = audit_table.c.id.asc() if oldest_first else audit_table.c.id.desc()
    stmt = (_filtered(sa.select(audit_table), filters).order_by(order)
            .limit(max(0, min(int(limit), MAX_LIMIT))).offset(max(0, int(offset))))
    return [_row(r) for r in model.Session.execute(stmt).mappings()]


def count(**filters: Any) -> int:
    """How many records match the filters of :func:`list`."""
    stmt = _filtered(sa.select(sa.func.count()).select_from(audit_table), filters)
    return int(model.Session.execute(stmt).scalar_one())


def _row(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "actor": row["actor"], "action": row["action"],
            "object_type": row["object_type"], "object_id": row["object_id"],
            "before": row["before"], "after": row["after"],
            "created": row["created"].isoformat() if row["created"] else None}
