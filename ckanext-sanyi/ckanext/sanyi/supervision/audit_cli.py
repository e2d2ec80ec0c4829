"""``ckan sanyi audit ...``: checkpoints, verification and archive of the hash-chained logs.

* ``checkpoint [--log audit|ledger]``: sign and publish each log's head (daily job, cron
  ``5 0 * * *``, see deploy/AUDIT.md); exit 1 when a chain is broken (nothing signed).
* ``verify [--log ...] [--since-checkpoint FILE] [--public-key PEM]``: walk the chain and
  report the first broken row and why; exit 1 when broken, 2 when the saved checkpoint's
  signature does not verify.
* ``archive --log ledger --month 2022-11 --out FILE``: archive and delete a whole month older
  than the retention period.
* ``check-archive FILE [--public-key PEM]``: check an archive file offline.
* ``public-key``: print the public key (PEM).

Each action but ``public-key`` is recorded in the audit log.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import click

__all__ = ["audit_group"]

LOG_CHOICE = click.Choice(["audit", "ledger"])


def _actor() -> str:
    from ..common.user import site_user_name
    return site_user_name()


def _fail(err: Any, code: int = 1) -> None:
    click.secho(f"{err.zh} / {err.en}", fg="red", err=True)
    raise click.exceptions.Exit(code)


def _trusted_key(path: str | None) -> bytes | None:
    """The raw public key to trust: the PEM file given, else the configured signing key's."""
    from cryptography.hazmat.primitives import serialization

    from ..domain import chain as rules
    from . import checkpoints
    if path:
        pub = serialization.load_pem_public_key(Path(path).read_bytes())
        return rules.public_key_raw(pub)  # type: ignore[arg-type]
    info = checkpoints.public_key_info()
    return base64.b64decode(info["raw_base64"]) if info else None


def _saved_checkpoints(path: str, trusted: bytes | None) -> list[dict[str, Any]]:
    """The checkpoints of a saved file: one checkpoint object, a list of them, or the JSON
    of /api/transparency/checkpoints.json; each signature checked under ``trusted`` (else
    under the key the file names)."""
    from ..domain import chain as rules
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data.get("checkpoints", [data]) if isinstance(data, dict) else list(data)
    found = []
    for item in items:
        statement = str(item["statement"]).encode("utf-8")
        key = trusted if trusted is not None else str(item.get("public_key") or "")
        if not rules.verify_signature(key, statement, str(item.get("signature") or "")):
            raise ValueError(f"checkpoint {item.get('id', '?')}: the signature does not verify "
                             "under the trusted public key / 检查点签名无法用受信公钥验证")
        found.append(rules.parse_statement(statement))
    return found


@click.group("audit", short_help="hash-chained logs: checkpoints, verify, archive")
def audit_group() -> None:
    """The audit log and the data-flow ledger as hash chains (全程留痕，防篡改)."""


@audit_group.command("checkpoint")
@click.option("--log", "logs", type=LOG_CHOICE, multiple=True,
              help="the log (default: both)")
def checkpoint_cmd(logs: tuple[str, ...]) -> None:
    """Verify the rows since the last checkpoint, then sign and store a checkpoint."""
    from ..domain.errors import DomainError
    from . import checkpoints
    actor, failed = _actor(), None
    for log in logs or ("audit", "ledger"):
        try:
            cp = checkpoints.create(log, actor=actor)
        except DomainError as err:
            click.secho(f"{log}: {err.zh} / {err.en}", fg="red", err=True)
            failed = err
            continue
        click.echo(f"{log}: checkpoint {cp['id']} length={cp['length']} head={cp['head_hash']} "
                   f"key={cp['key_id']} / 已签名检查点")
    if failed is not None:
        raise click.exceptions.Exit(1)


@audit_group.command("verify")
@click.option("--log", "logs", type=LOG_CHOICE, multiple=True, help="the log (default: both)")
@click.option("--since-checkpoint", "saved", type=click.Path(exists=True, dir_okay=False),
              help="a checkpoint (or the checkpoints JSON) kept earlier: the chain must still "
                   "contain it")
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False),
              help="PEM public key to trust for --since-checkpoint (default: the configured "
                   "signing key's)")
@click.option("--quiet", is_flag=True, help="no progress bar")
def verify_cmd(logs: tuple[str, ...], saved: str | None, public_key: str | None,
               quiet: bool) -> None:
    """Walk each chain; report the first broken row and why (exit 1)."""
    from ..common import audit
    from . import chain
    trusted = _trusted_key(public_key)
    saved_cps: list[dict[str, Any]] = []
    if saved:
        try:
            saved_cps = _saved_checkpoints(saved, trusted)
        except (ValueError, KeyError, TypeError) as err:
            click.secho(str(err), fg="red", err=True)
            audit.record(_actor(), "sanyi_audit_verify", "chain", "saved-checkpoint",
                         after={"file": saved, "error": str(err)}, commit=True)
            raise click.exceptions.Exit(2) from None
    actor, broken = _actor(), False
    for log in logs or ("audit", "ledger"):
        expect = {int(c["length"]): str(c["head"]) for c in saved_cps if c["log"] == log}
        total = chain.head(log)[0]
        if quiet:
            result = chain.verify(log, expect=expect)
        else:
            with click.progressbar(length=max(total, 1), label=f"{log}", file=None) as bar:
                result = chain.verify(log, expect=expect, progress=bar.update)
        for note in result.notes:
            click.echo(f"  note: {note}")
        if result.ok:
            click.secho(f"{log}: OK {result.rows} rows, seq {result.start + 1}..{result.length}, "
                        f"head {result.head}, {result.checkpoints} checkpoint(s) matched, "
                        f"{result.seconds:.1f} s / 链完整", fg="green")
        else:
            broken = True
            click.secho(f"{log}: BROKEN {result.broken} / 链已损坏", fg="red")
        audit.record(actor, "sanyi_audit_verify", "chain", log,
                     after={**result.as_dict(), "since_checkpoint": saved}, commit=True)
    if broken:
        raise click.exceptions.Exit(1)


@audit_group.command("archive")
@click.option("--log", type=LOG_CHOICE, required=True)
@click.option("--month", required=True, help="YYYY-MM (Beijing time)")
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True))
def archive_cmd(log: str, month: str, out: str) -> None:
    """Archive a whole month older than the retention period to a signed file, then delete it."""
    from ..domain.errors import DomainError
    from . import checkpoints
    if Path(out).exists():
        click.secho(f"{out} exists / 文件已存在", fg="red", err=True)
        raise click.exceptions.Exit(2)
    try:
        cp = checkpoints.archive(log, month, out, actor=_actor())
    except DomainError as err:
        _fail(err)
        return
    click.echo(f"{log} {month}: seq {cp['archived_from']}..{cp['archived_to']} archived to "
               f"{out} (sha256 {cp['archive_sha256']}), checkpoint {cp['id']}, rows deleted / "
               f"已归档并删除")


@audit_group.command("check-archive")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--public-key", "public_key", type=click.Path(exists=True, dir_okay=False))
def check_archive_cmd(path: str, public_key: str | None) -> None:
    """Check an archive file: signature, hashes, links (exit 1 when it does not hold)."""
    from ..common import audit
    from ..domain import chain as rules
    trusted = _trusted_key(public_key)
    if trusted is None:
        click.secho("no public key: give --public-key / 未指定公钥", fg="red", err=True)
        raise click.exceptions.Exit(2)
    try:
        with open(path, "rb") as f:
            summary = rules.check_archive(f, trusted)
    except rules.ChainError as err:
        click.secho(f"{path}: {err} / 归档文件校验失败", fg="red")
        audit.record(_actor(), "sanyi_audit_check_archive", "archive", path,
                     after={"ok": False, "error": str(err)}, commit=True)
        raise click.exceptions.Exit(1) from None
    audit.record(_actor(), "sanyi_audit_check_archive", "archive", path,
                 after={"ok": True, **{k: v for k, v in summary.items() if k != "statement"}},
                 commit=True)
    click.secho(f"{path}: OK {summary['log']} {summary['month']} seq {summary['from']}.."
                f"{summary['to']} ({summary['rows']} rows), head {summary['head']} / 归档文件完整",
                fg="green")


@audit_group.command("public-key")
def public_key_cmd() -> None:
    """Print the checkpoints' public key (PEM)."""
    from . import checkpoints
    info = checkpoints.public_key_info()
    if info is None:
        click.secho("no signing key configured (ckanext.sanyi.audit.signing_key)", fg="red",
                    err=True)
        raise click.exceptions.Exit(2)
    click.echo(info["pem"].rstrip())
