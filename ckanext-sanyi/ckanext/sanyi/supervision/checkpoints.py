"""Signed checkpoints of the hash-chained logs, and the archive of whole old months.

* :func:`create` (``ckan sanyi audit checkpoint``, daily by cron): verifies the rows added
  since the log's previous checkpoint, then signs ``{log, length, head, time, previous}``
  (:func:`.domain.chain.checkpoint_statement`) with the Ed25519 key at
  ``ckanext.sanyi.audit.signing_key`` (a PEM file), stores it in ``sanyi_checkpoint`` and
  records it in the audit log. Published at ``/transparency/checkpoints`` and as JSON with
  the public key (:mod:`.checkpoint_views`), so an outsider can keep copies and later prove
  with ``audit verify --since-checkpoint`` that the log only grew.
* :func:`archive` (``ckan sanyi audit archive``): a whole month (Beijing time) of a log, all
  of it older than the retention period (``ckanext.sanyi.ledger.retention_years``, at least
  3, for both logs) and forming the start of the live chain, is verified, written to a file
  (JSON Lines: a header, one canonical row a line, the signed ``archive`` checkpoint naming
  the SHA-256 of all that precedes it), recorded as that checkpoint (so ``verify`` knows the
  chain now starts after it) and deleted, in one transaction. The database refuses to delete
  any row younger than three years whatever is asked.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import getpass
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ckan.model as model
import ckan.plugins.toolkit as tk
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..common import audit, clock
from ..common.errors import DomainError
from ..delivery.model import ledger_table
from ..domain import chain as rules
from . import chain
from .checkpoint_model import checkpoint_table as ct

__all__ = ["KEY_OPTION", "signing_key", "public_key_info", "create", "latest", "listing",
           "as_json", "archive", "month_bounds", "MIN_RETENTION_YEARS", "retention_years",
           "generate_key", "demo"]

KEY_OPTION = "ckanext.sanyi.audit.signing_key"
MIN_RETENTION_YEARS = 3
_TIME = {"audit": "created", "ledger": "at"}
_LOG_TABLES = {"audit": audit.audit_table, "ledger": ledger_table}


def generate_key(path: str) -> str:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600) to ``path`` unless a file is
    there; returns the path."""
    target = Path(path)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    return str(target)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Ed25519PrivateKey:
    return rules.load_private_key(Path(path).read_bytes())


def signing_key() -> Ed25519PrivateKey:
    """The configured signing key; DomainError when it is not configured or unreadable."""
    path = str(tk.config.get(KEY_OPTION) or "")
    if not path:
        raise DomainError("signing_key", f"未配置签名密钥（{KEY_OPTION}）",
                          f"no signing key configured ({KEY_OPTION})")
    try:
        return _load(path, os.stat(path).st_mtime)
    except (OSError, rules.ChainError) as err:
        raise DomainError("signing_key", f"无法读取签名密钥 {path}：{err}",
                          f"cannot read the signing key {path}: {err}") from None


def public_key_info() -> dict[str, Any] | None:
    """The published public key (algorithm, key id, raw base64, PEM), or None without a
    configured key."""
    try:
        key = signing_key()
    except DomainError:
        return None
    raw = rules.public_key_raw(key)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"algorithm": "Ed25519", "key_id": rules.key_id(raw),
            "raw_base64": base64.b64encode(raw).decode("ascii"), "pem": pem.decode("ascii")}


def retention_years() -> int:
    return max(MIN_RETENTION_YEARS, int(tk.config.get("ckanext.sanyi.ledger.retention_years")
                                        or MIN_RETENTION_YEARS))


def latest(log: str, session: Any = None) -> dict[str, Any] | None:
    session = session if session is not None else model.Session
    row = session.execute(sa.select(ct).where(ct.c.log == log).order_by(ct.c.id.desc())
                          .limit(1)).mappings().first()
    return dict(row) if row else None


def _origin() -> str:
    return str(tk.config.get("ckan.site_url") or "")


def _sign_and_store(*, log: str, kind: str, length: int, head: str, actor: str,
                    archived: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sign a checkpoint and insert it in CKAN's session (not committed)."""
    key = signing_key()
    raw = rules.public_key_raw(key)
    prev = latest(log)
    now = clock.now_utc()
    statement = rules.checkpoint_statement(
        origin=_origin(), log=log, length=length, head=head, time=now,
        previous=prev["statement_hash"] if prev else rules.GENESIS, kind=kind,
        archived=archived)
    values = {"log": log, "kind": kind, "length": length, "head_hash": head, "signed_at": now,
              "previous": prev["statement_hash"] if prev else rules.GENESIS,
              "statement": statement.decode("utf-8"),
              "statement_hash": rules.sha256_hex(statement),
              "signature": rules.sign(key, statement), "key_id": rules.key_id(raw),
              "public_key": base64.b64encode(raw).decode("ascii"), "created_by": actor}
    if archived:
        values.update(archived_from=archived["from"], archived_to=archived["to"],
                      archived_month=archived["month"], archive_sha256=archived["file_sha256"])
    values["id"] = int(model.Session.execute(ct.insert().values(**values)
                                             .returning(ct.c.id)).scalar_one())
    return values


def create(log: str, *, actor: str) -> dict[str, Any]:
    """Verify what the log gained since its last checkpoint, then sign, store, audit and
    commit a checkpoint of its head. DomainError (field ``chain``) when the chain is broken:
    nothing is signed."""
    if log not in chain.TABLES:
        raise DomainError("log", "未知的日志", f"unknown log: {log}")
    signing_key()  # fail before the walk without a key
    prev = latest(log)
    start = None
    if prev is not None and int(prev["length"]) >= chain.start_of(log)[0]:
        start = (int(prev["length"]), str(prev["head_hash"]))
    result = chain.verify(log, start=start, stored=prev is None)
    if not result.ok:
        _audit_refusal(actor, "sanyi_audit_checkpoint", log, result)
        raise DomainError("chain", f"链已损坏，未签名：{result.broken.zh}",  # type: ignore[union-attr]
                          f"the chain is broken, nothing signed: {result.broken.en}")  # type: ignore[union-attr]
    values = _sign_and_store(log=log, kind="checkpoint", length=result.length,
                             head=result.head, actor=actor)
    audit.record(actor, "sanyi_audit_checkpoint", "checkpoint", str(values["id"]),
                 after={"log": log, "length": result.length, "head": result.head,
                        "key_id": values["key_id"], "os_user": _os_user()})
    model.Session.commit()
    return values


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container
        return ""


def _audit_refusal(actor: str, action: str, log: str, result: chain.Verification) -> None:
    model.Session.rollback()
    audit.record(actor, action, "chain", log, after={**result.as_dict(), "refused": True,
                                                     "os_user": _os_user()}, commit=True)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {"id": row["id"], "log": row["log"], "kind": row["kind"], "length": row["length"],
           "head": row["head_hash"], "time": rules.utc_text(row["signed_at"]),
           "previous": row["previous"], "statement": row["statement"],
           "statement_hash": row["statement_hash"], "signature": row["signature"],
           "key_id": row["key_id"], "public_key": row["public_key"], "archived": None}
    if row["kind"] == "archive":
        out["archived"] = {"from": row["archived_from"], "to": row["archived_to"],
                           "month": row["archived_month"], "file_sha256": row["archive_sha256"]}
    return out


def listing(*, log: str | None = None, since: int = 0, limit: int = 100, offset: int = 0,
            newest_first: bool = False) -> list[dict[str, Any]]:
    """Published checkpoints (id > ``since``), oldest first by default."""
    stmt = sa.select(ct).where(ct.c.id > since)
    if log:
        stmt = stmt.where(ct.c.log == log)
    stmt = (stmt.order_by(ct.c.id.desc() if newest_first else ct.c.id).limit(limit)
            .offset(offset))
    return [_public(dict(r)) for r in model.Session.execute(stmt).mappings()]


def as_json(*, since: int = 0, limit: int = 1000) -> dict[str, Any]:
    """What ``/api/transparency/checkpoints.json`` serves."""
    rows = listing(since=since, limit=limit)
    return {"origin": _origin(), "format": rules.CHECKPOINT_VERSION,
            "public_key": public_key_info(), "checkpoints": rows,
            "next_since": rows[-1]["id"] if len(rows) == limit else None}


# -- archive --------------------------------------------------------------------------------
def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """A ``YYYY-MM`` month in Beijing time as UTC [start, end)."""
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = dt.date(year, mon, 1)
    except (ValueError, TypeError):
        raise DomainError("month", "月份格式应为 YYYY-MM", f"month must be YYYY-MM: {month!r}") \
            from None
    nxt = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    tz = clock.local_tz()
    return (dt.datetime.combine(first, dt.time(), tz).astimezone(dt.timezone.utc),
            dt.datetime.combine(nxt, dt.time(), tz).astimezone(dt.timezone.utc))


def _years_before(now: dt.datetime, years: int) -> dt.datetime:
    try:
        return now.replace(year=now.year - years)
    except ValueError:  # 29 February
        return now.replace(year=now.year - years, day=28)


def archive(log: str, month: str, out: str, *, actor: str,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Archive and delete a whole month of ``log`` (module doc). Returns the archive
    checkpoint; DomainError when the month may not be archived (too young, not the start of
    the chain, an earlier month still present, nothing in it, a broken chain)."""
    if log not in chain.TABLES:
        raise DomainError("log", "未知的日志", f"unknown log: {log}")
    key = signing_key()
    start, end = month_bounds(month)
    years = retention_years()
    cutoff = _years_before(clock.now_utc(), years)
    if end > cutoff:
        raise DomainError("month", f"{month} 未满 {years} 年保存期，不能归档删除",
                          f"{month} is within the {years}-year retention period: it may not "
                          "be archived and removed")
    table = _LOG_TABLES[log]
    when, seq = table.c[_TIME[log]], table.c.seq
    in_month = sa.and_(when >= start, when < end)
    s_len, s_hash, s_break = chain.start_of(log)
    if s_break is not None:
        raise DomainError("chain", s_break.zh, s_break.en)
    stats = model.Session.execute(sa.select(
        sa.func.count().filter(when < start).label("earlier"),
        sa.func.count().filter(in_month).label("n"),
        sa.func.min(seq).filter(in_month).label("first"),
        sa.func.max(seq).filter(in_month).label("last"),
        sa.func.count().filter(sa.and_(when < end, seq.is_(None))).label("unchained"),
    ).select_from(table)).mappings().one()
    if stats["earlier"]:
        raise DomainError("month", f"更早月份还有 {stats['earlier']} 行，请先归档更早月份",
                          f"{stats['earlier']} rows of earlier months remain: archive them first")
    if not stats["n"]:
        raise DomainError("month", f"{month} 没有记录", f"{month} has no rows")
    first, last = int(stats["first"]), int(stats["last"])
    if stats["unchained"] or first != s_len + 1 or last - first + 1 != stats["n"]:
        raise DomainError("month", f"{month} 的记录不是链的开头一段（链从第 {s_len + 1} 行开始）",
                          f"the rows of {month} are not the start of the chain (which starts "
                          f"at seq {s_len + 1}), or later rows sit among them")
    model.Session.commit()
    checked = chain.verify(log, start=(s_len, s_hash), until=last, progress=progress)
    if not checked.ok or checked.length != last:
        assert checked.broken is not None or checked.length != last
        why = checked.broken or rules.Break("gap", checked.length + 1, None, "行缺失", "rows missing")
        _audit_refusal(actor, "sanyi_audit_archive", log, checked)
        raise DomainError("chain", f"链已损坏，未归档：{why.zh}", f"the chain is broken, "
                          f"nothing archived: {why.en}")
    archived, file_sha = _write(log, month, out, first, last, s_hash, checked.head, key)
    values = _sign_and_store(log=log, kind="archive", length=last, head=checked.head,
                             actor=actor, archived={"from": first, "to": last, "month": month,
                                                    "file_sha256": file_sha})
    _finish_file(out, values)
    deleted = model.Session.execute(
        table.delete().where(seq.between(first, last))).rowcount
    if deleted != archived:
        model.Session.rollback()
        raise DomainError("chain", "删除的行数与归档不符，已回滚",
                          "the rows deleted differ from those archived: rolled back")
    audit.record(actor, "sanyi_audit_archive", "checkpoint", str(values["id"]),
                 after={"log": log, "month": month, "from": first, "to": last,
                        "rows": archived, "file": os.path.abspath(out),
                        "file_sha256": file_sha, "os_user": _os_user()})
    model.Session.commit()
    return values


def _write(log: str, month: str, out: str, first: int, last: int, prev: str, head: str,
           key: Ed25519PrivateKey) -> tuple[int, str]:
    """Write header and rows to ``out``.part; returns (rows, SHA-256 of those bytes)."""
    import hashlib
    digest = hashlib.sha256()
    n, link = 0, prev
    with open(out + ".part", "wb") as f:
        def put(line: str) -> None:
            data = (line + "\n").encode("utf-8")
            digest.update(data)
            f.write(data)
        put(rules.archive_header(log=log, month=month, first=first, last=last, prev=prev))
        rows = chain.read_rows(log, after=first - 1, until=last)
        try:
            for row in rows:
                text = rules.canonical_text(log, row)
                if row["prev_hash"] != link or rules.sha256_hex(text) != row["row_hash"]:
                    raise DomainError("chain", "归档时链发生变化", "the chain changed while archiving")
                link = row["row_hash"]
                put(text)
                n += 1
        finally:
            rows.close()
    if link != head or n != last - first + 1:
        raise DomainError("chain", "归档时链发生变化", "the chain changed while archiving")
    return n, digest.hexdigest()


def _finish_file(out: str, values: dict[str, Any]) -> None:
    with open(out + ".part", "ab") as f:
        f.write((rules.archive_trailer(
            statement=values["statement"].encode("utf-8"), signature=values["signature"],
            public_raw=base64.b64decode(values["public_key"])) + "\n").encode("utf-8"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(out + ".part", out)


def _news(after: int) -> int:
    """Audit rows after ``after`` other than the records of checkpoints themselves."""
    return int(model.Session.execute(sa.select(sa.func.count()).select_from(audit.audit_table)
                                     .where(audit.audit_table.c.seq > after,
                                            audit.audit_table.c.action
                                            != "sanyi_audit_checkpoint")).scalar_one())


def demo(echo: Callable[[str], None] = print) -> None:
    """``ckan sanyi load-demo``: a checkpoint of each log whose head moved since its last one
    (nothing without a configured key), so the public page has something to show."""
    from ..common.user import site_user_name
    try:
        signing_key()
    except DomainError as err:
        echo(f"checkpoints skipped: {err.en}")
        return
    for log in chain.TABLES:
        last, (length, _) = latest(log), chain.head(log)
        if last is not None and (int(last["length"]) == length or (log == "audit" and not _news(
                int(last["length"])))):
            continue
        try:
            cp = create(log, actor=site_user_name())
        except DomainError as err:
            echo(f"{log}: {err.en}")
            continue
        echo(f"{log}: checkpoint {cp['id']} at length {cp['length']} / 已签名检查点")
