"""Hash chains of the append-only logs: canonical serialization, row hashes, the walk that
verifies a chain, signed checkpoints and archive files. Pure: no CKAN, no database.

The database assigns the chain (migration ``0010_hash_chains``: a BEFORE INSERT trigger per
log, under a lock on the log's head row); this module says, once, what it computes, and
recomputes it from the rows alone, so anyone holding the rows (or an archive file) and the
published public key can check them without trusting the database.

Canonical serialization (version ``sanyi-chain/1``)
---------------------------------------------------
A row's canonical text is PostgreSQL's text output of one ``jsonb`` array (``jsonb_build_array
(...)::text``; reproduced by :func:`jsonb_text`) of, in this order:

=====  ==================  =========================================================
 pos    value               encoding
=====  ==================  =========================================================
 0      ``"sanyi-chain/1"``  string (the version of these rules)
 1      log name            string, ``"audit"`` or ``"ledger"``
 2..    the log's fields    :data:`FIELDS`, in that order, each encoded by its kind:
 last   ``prev_hash``       string: the previous row's ``row_hash`` (:data:`GENESIS`, 64
                            zeros, before the first row)
=====  ==================  =========================================================

Kinds of field (SQL NULL is JSON ``null`` for every kind):

* ``int`` (``seq``, ``id``, counts): a JSON number, decimal digits.
* ``text``: a JSON string, escaped as PostgreSQL does: ``"`` ``\\`` and ``\\b \\f \\n \\r \\t``
  by a backslash, other characters under U+0020 as ``\\u00xx`` (lower-case hex), everything
  else (Chinese included) as itself, UTF-8.
* ``ts`` (``timestamptz``): a JSON string, the instant in UTC with microseconds:
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (``to_char(ts AT TIME ZONE 'UTC', ...)``), whatever the
  session's time zone.
* ``jsonb``: the value wrapped in a one-element array (``[value]``), so that SQL NULL
  (``null``) and a JSON ``null`` (``[null]``) differ. Objects print as ``{"k": v, "k2": v}``
  with keys ordered by their UTF-8 length, then bytewise (jsonb's order); arrays as
  ``[a, b]`` (a comma and a space between items, a colon and a space after a key); numbers
  as PostgreSQL's ``numeric`` text (no exponent, the scale kept: ``2.50``).
* ``text[]``: a JSON array of strings (``to_jsonb(text[])``).
* ``numeric``: a JSON number, ``numeric``'s text (``0.000`` for ``numeric(12,3)`` zero).

``row_hash`` = lower-case hex SHA-256 of the canonical text's UTF-8 bytes. The row at
``seq`` n stores ``prev_hash`` = ``row_hash`` of the row at n - 1, so changing, removing,
inserting or moving any row changes every later hash; a signed checkpoint (length, head
hash) then proves the log only grew since.

Fields (:data:`FIELDS`)
~~~~~~~~~~~~~~~~~~~~~~~
``audit``: seq, id, actor, action, object_type, object_id, before (jsonb), after (jsonb),
created (ts).
``ledger``: seq, id, at (ts), request_id, merchant_id, client_id, entitlement_id, product,
operation, outcome, error, units, input_hash, fields_read (jsonb), resources (text[]),
answer_bytes, latency_ms (numeric).

Checkpoints
-----------
A checkpoint statement is the UTF-8 JSON (keys sorted, no whitespace) of ``{"v":
"sanyi-checkpoint/1", "origin", "log", "kind", "length", "head", "time", "previous"}`` (plus
``"archived": {"from", "to", "month", "file_sha256"}`` for an archive), signed with Ed25519;
``previous`` is the SHA-256 of the log's previous statement (64 zeros for the first), so the
checkpoints form a chain of their own.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = ["VERSION", "GENESIS", "LOGS", "FIELDS", "Jsonb", "jsonb_text", "utc_text",
           "parse_jsonb", "canonical_text", "row_hash", "sha256_hex", "Break", "ChainWalk",
           "CHECKPOINT_VERSION", "checkpoint_statement", "sign", "verify_signature",
           "load_private_key", "public_key_raw", "key_id", "ChainError", "ARCHIVE_FORMAT",
           "archive_header", "archive_trailer", "check_archive", "parse_statement"]

VERSION = "sanyi-chain/1"
CHECKPOINT_VERSION = "sanyi-checkpoint/1"
ARCHIVE_FORMAT = "sanyi-archive/1"
GENESIS = "0" * 64
LOGS = ("audit", "ledger")
_UTC = dt.timezone.utc
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
# json.dumps(s, ensure_ascii=False) for a str, without building an encoder per call: the same
# escapes as PostgreSQL's (" \\ \b \f \n \r \t, other controls as \u00xx)
_string: Any = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal)

FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "audit": (("seq", "int"), ("id", "int"), ("actor", "text"), ("action", "text"),
              ("object_type", "text"), ("object_id", "text"), ("before", "jsonb"),
              ("after", "jsonb"), ("created", "ts")),
    "ledger": (("seq", "int"), ("id", "int"), ("at", "ts"), ("request_id", "text"),
               ("merchant_id", "text"), ("client_id", "text"), ("entitlement_id", "text"),
               ("product", "text"), ("operation", "text"), ("outcome", "text"),
               ("error", "text"), ("units", "int"), ("input_hash", "text"),
               ("fields_read", "jsonb"), ("resources", "text[]"), ("answer_bytes", "int"),
               ("latency_ms", "numeric")),
}


class ChainError(ValueError):
    """A value that has no canonical form, or an archive file that does not check."""


@dataclass(frozen=True)
class Jsonb:
    """A jsonb column's value already parsed (a ``str`` given for a jsonb field is its text
    as PostgreSQL prints it, parsed with numbers as Decimal)."""
    value: Any


# -- canonical text -------------------------------------------------------------------------
def _numeric(value: Decimal | int) -> str:
    if isinstance(value, bool):
        raise ChainError("a boolean is no number here")
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        raise ChainError(f"no canonical form for {value}")
    text = format(value, "f")
    return text[1:] if value == 0 and text.startswith("-") else text


def _key(name: str) -> tuple[int, bytes]:
    raw = name.encode("utf-8")
    return (len(raw), raw)


def jsonb_text(value: Any) -> str:
    """PostgreSQL's text of the jsonb of ``value`` (None, bool, int, Decimal, str, list,
    tuple, dict); floats are refused (their decimal form is not what jsonb kept)."""
    kind = type(value)  # exact types first: the walk calls this for every field of every row
    if kind is str:
        return str(_string(value))
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is list or kind is tuple:
        return "[" + ", ".join(map(jsonb_text, value)) + "]"
    if kind is Decimal:
        return _numeric(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        items = sorted(((str(k), v) for k, v in value.items()), key=lambda kv: _key(kv[0]))
        return "{" + ", ".join(f"{_string(k)}: {jsonb_text(v)}" for k, v in items) + "}"
    if isinstance(value, str):
        return str(_string(str(value)))
    if isinstance(value, (int, Decimal)):
        return _numeric(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(jsonb_text, value)) + "]"
    if isinstance(value, float):
        raise ChainError("floats have no canonical form (read jsonb numbers as Decimal)")
    raise ChainError(f"no canonical form for {type(value).__name__}")


def parse_jsonb(text: str) -> Any:
    """Parse jsonb text as PostgreSQL prints it, numbers as Decimal (their scale kept)."""
    return _DECODER.decode(text)


def utc_text(value: dt.datetime | str) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC (a naive datetime is taken as UTC; a string
    must already be in that form)."""
    if isinstance(value, str):
        if not _TS.match(value):
            raise ChainError(f"not a canonical UTC time: {value!r}")
        return value
    if not isinstance(value, dt.datetime):
        raise ChainError(f"not a time: {value!r}")
    t = value.replace(tzinfo=_UTC) if value.tzinfo is None else value.astimezone(_UTC)
    return (f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
            f"{t.second:02d}.{t.microsecond:06d}Z")


def _int(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ChainError(f"not an integer: {value!r}")
    return str(int(value))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ChainError(f"not text: {value!r}")
    return str(_string(value))


def _ts(value: Any) -> str:
    return '"' + utc_text(value) + '"'


def _jsonb(value: Any) -> str:
    return "[" + jsonb_text(value.value if isinstance(value, Jsonb) else parse_jsonb(value)) + "]"


def _array(value: Any) -> str:
    if not isinstance(value, (list, tuple)):
        raise ChainError(f"not an array: {value!r}")
    return jsonb_text(list(value))


def _num(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise ChainError(f"not a numeric: {value!r}")
    return _numeric(value)


# Each kind's JSON text (SQL NULL is ``null`` for all): what jsonb_text would give for the
# field's JSON value, written directly (the walk does this for every field of every row).
_ENCODE = {"int": _int, "text": _text, "ts": _ts, "jsonb": _jsonb, "text[]": _array,
           "numeric": _num}


def canonical_text(log: str, row: Mapping[str, Any], prev_hash: str | None = None) -> str:
    """The canonical text of ``row`` of ``log`` (see the module doc): its fields as read
    from the database, jsonb ones as text (or :class:`Jsonb`), and ``prev_hash`` (default
    ``row["prev_hash"]``)."""
    fields = FIELDS.get(log)
    if fields is None:
        raise ChainError(f"unknown log {log!r}")
    prev = row.get("prev_hash") if prev_hash is None else prev_hash
    parts = ['"' + VERSION + '"', '"' + log + '"']
    for name, kind in fields:
        value = row.get(name)
        parts.append("null" if value is None else _ENCODE[kind](value))
    parts.append("null" if prev is None else _text(prev))
    return "[" + ", ".join(parts) + "]"


def sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def row_hash(log: str, row: Mapping[str, Any], prev_hash: str | None = None) -> str:
    """SHA-256 (hex) of :func:`canonical_text`."""
    return sha256_hex(canonical_text(log, row, prev_hash))


# -- the walk -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    """The first place where a chain is broken: ``kind`` (content, link, gap, order,
    unchained, head, checkpoint, truncated, start), the ``seq`` and row ``id`` concerned, and
    what was found, in Chinese and English."""
    kind: str
    seq: int | None
    row_id: int | None
    zh: str
    en: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "-"
        return f"[{self.kind}] {where}: {self.zh} / {self.en}"


@dataclass
class ChainWalk:
    """Checks rows fed in ``seq`` order (:meth:`feed`), then the end (:meth:`finish`).

    ``start_length``/``start_hash``: where the chain legitimately starts (0 and
    :data:`GENESIS`, or the end of the last archived range). ``expect``: checkpoint lengths
    and the head hash each must find at that ``seq``. Streams: keeps only the last hash.
    """
    log: str
    start_length: int = 0
    start_hash: str = GENESIS
    expect: dict[int, str] = field(default_factory=dict)
    length: int = 0
    head: str = GENESIS
    rows: int = 0
    broken: Break | None = None

    def __post_init__(self) -> None:
        self.length, self.head = self.start_length, self.start_hash
        want = self.expect.get(self.start_length)
        if want is not None and want != self.start_hash:
            self.broken = Break("checkpoint", self.start_length, None,
                                f"检查点记录的第 {self.start_length} 行哈希与归档记录不符",
                                f"the checkpoint at length {self.start_length} does not "
                                "match the archive record")

    def feed(self, row: Mapping[str, Any]) -> Break | None:
        """Check the next row (the first break is kept and returned again)."""
        if self.broken is not None:
            return self.broken
        self.rows += 1
        seq, rid = row.get("seq"), row.get("id")
        expected = self.length + 1
        if seq is None:
            return self._break("unchained", None, rid, f"第 id={rid} 行没有链序号（绕过触发器写入）",
                               f"row id={rid} has no seq (written with the trigger disabled)")
        seq = int(seq)
        if seq > expected:
            return self._break("gap", expected, rid,
                               f"缺少第 {expected}"
                               f"{'' if seq == expected + 1 else f'–{seq - 1}'} 行（已被删除）",
                               f"seq {expected}"
                               f"{'' if seq == expected + 1 else f'-{seq - 1}'} missing "
                               f"(deleted); the next row is seq {seq}")
        if seq < expected:
            return self._break("order", seq, rid, f"第 {seq} 行重复或次序错乱",
                               f"seq {seq} repeated or out of order")
        try:
            computed = row_hash(self.log, row)
        except ChainError as err:
            return self._break("content", seq, rid, f"第 {seq} 行无法规范化：{err}",
                               f"seq {seq} has no canonical form: {err}")
        stored, prev = row.get("row_hash"), row.get("prev_hash")
        if computed != stored:
            return self._break("content", seq, rid,
                               f"第 {seq} 行（id={rid}）的内容与其哈希不符：被修改或被移动",
                               f"seq {seq} (id={rid}) does not match its row_hash: edited "
                               "or moved")
        if prev != self.head:
            return self._break("link", seq, rid,
                               f"第 {seq} 行（id={rid}）的前一哈希不是第 {seq - 1} 行的哈希："
                               "其前的行被替换或删除",
                               f"seq {seq} (id={rid}) does not link to seq {seq - 1}: a row "
                               "before it was replaced or removed")
        want = self.expect.get(seq)
        if want is not None and want != computed:
            return self._break("checkpoint", seq, rid,
                               f"第 {seq} 行的哈希与已签名检查点不符（此前的链被改写）",
                               f"seq {seq} differs from the signed checkpoint's head "
                               "(the chain before it was rewritten)")
        self.length, self.head = seq, computed
        return None

    def _break(self, kind: str, seq: int | None, rid: Any, zh: str, en: str) -> Break:
        self.broken = Break(kind, seq, int(rid) if rid is not None else None, zh, en)
        return self.broken

    def finish(self, head_length: int | None = None, head_hash: str | None = None
               ) -> Break | None:
        """After the last row: the chain must reach every expected checkpoint and, when
        given, the head the database keeps (``sanyi_chain_head``)."""
        if self.broken is not None:
            return self.broken
        beyond = sorted(n for n in self.expect if n > self.length)
        if beyond:
            return self._break("truncated", self.length + 1, None,
                               f"链只有 {self.length} 行，已签名检查点记录了 {beyond[-1]} 行：末尾的行被删除",
                               f"the chain has {self.length} rows, a signed checkpoint "
                               f"recorded {beyond[-1]}: rows were removed from the end")
        if head_length is not None and (head_length, head_hash) != (self.length, self.head):
            return self._break("head", self.length + 1, None,
                               f"链止于第 {self.length} 行，链头记录 {head_length} 行",
                               f"the chain ends at seq {self.length}, its head says "
                               f"{head_length}: rows were removed from the end, or the "
                               "head was changed")
        return None


# -- checkpoints ------------------------------------------------------------------------------
def checkpoint_statement(*, origin: str, log: str, length: int, head: str,
                         time: dt.datetime | str, previous: str, kind: str = "checkpoint",
                         archived: Mapping[str, Any] | None = None) -> bytes:
    """The bytes a checkpoint signs (module doc)."""
    if log not in LOGS or kind not in ("checkpoint", "archive"):
        raise ChainError(f"bad log or kind: {log!r} {kind!r}")
    if not (_HEX64.match(head) and _HEX64.match(previous)) or length < 0:
        raise ChainError("head and previous are 64 hex digits, length >= 0")
    body: dict[str, Any] = {"v": CHECKPOINT_VERSION, "origin": origin, "log": log,
                            "kind": kind, "length": int(length), "head": head,
                            "time": utc_text(time), "previous": previous}
    if kind == "archive":
        if not archived:
            raise ChainError("an archive checkpoint names its range")
        body["archived"] = {"from": int(archived["from"]), "to": int(archived["to"]),
                            "month": str(archived["month"]),
                            "file_sha256": str(archived["file_sha256"])}
    return json.dumps(body, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """An Ed25519 private key from PEM (PKCS#8, unencrypted); ``ChainError`` otherwise."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise ChainError(f"not a PEM private key: {err}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ChainError("the signing key must be an Ed25519 key")
    return key


def public_key_raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """The first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def sign(key: Ed25519PrivateKey, data: bytes) -> str:
    """Base64 of the Ed25519 signature of ``data``."""
    return base64.b64encode(key.sign(data)).decode("ascii")


def verify_signature(public_raw: bytes | str, data: bytes, signature: str) -> bool:
    """Is ``signature`` (base64) the Ed25519 signature of ``data`` under the public key
    (raw 32 bytes, or their base64)?"""
    try:
        raw = base64.b64decode(public_raw, validate=True) if isinstance(public_raw, str) \
            else public_raw
        Ed25519PublicKey.from_public_bytes(raw).verify(
            base64.b64decode(signature, validate=True), data)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def parse_statement(statement: str | bytes) -> dict[str, Any]:
    """The fields of a checkpoint statement; ``ChainError`` when it is not one."""
    try:
        claim = json.loads(statement)
        if claim.get("v") != CHECKPOINT_VERSION or claim.get("log") not in LOGS \
                or not isinstance(claim.get("length"), int) \
                or not _HEX64.match(str(claim.get("head"))):
            raise ValueError("not a checkpoint statement")
    except (ValueError, AttributeError, TypeError) as err:
        raise ChainError(f"not a checkpoint: {err}") from None
    return dict(claim)


# -- archive files ------------------------------------------------------------------------------
def archive_header(*, log: str, month: str, first: int, last: int, prev: str) -> str:
    """The first line of an archive file (JSON Lines): what it holds. The rows follow, one
    canonical text a line in ``seq`` order, then the archive's signed checkpoint, whose
    ``archived.file_sha256`` is the SHA-256 of every byte before that last line."""
    return json.dumps({"format": ARCHIVE_FORMAT, "log": log, "month": month, "from": int(first),
                       "to": int(last), "prev": prev}, ensure_ascii=False,
                      separators=(",", ":"), sort_keys=True)


def archive_trailer(*, statement: bytes, signature: str, public_raw: bytes) -> str:
    """The last line of an archive file: its checkpoint, signed."""
    return json.dumps({"checkpoint": {
        "statement": statement.decode("utf-8"), "signature": signature,
        "public_key": base64.b64encode(public_raw).decode("ascii"),
        "key_id": key_id(public_raw)}}, ensure_ascii=False, separators=(",", ":"))


def check_archive(lines: Iterable[bytes], public_raw: bytes | str) -> dict[str, Any]:
    """Check an archive file, read line by line (bytes, newline kept): the checkpoint's
    signature under ``public_raw``, the file's hash against it, every row's canonical form,
    sequence and link, and the head. Returns a summary; ``ChainError`` naming the first
    problem."""
    digest = hashlib.sha256()
    header: dict[str, Any] | None = None
    pending: bytes | None = None
    prev, seq, rows = GENESIS, 0, 0
    for raw in lines:
        if pending is not None:  # not the last line: a row (or the header)
            digest.update(pending)
            text = pending.decode("utf-8").rstrip("\n")
            if header is None:
                try:
                    header = json.loads(text)
                    prev, seq = str(header["prev"]), int(header["from"]) - 1
                except (ValueError, KeyError, TypeError) as err:
                    raise ChainError(f"not an archive file: {err}") from None
                if header.get("format") != ARCHIVE_FORMAT:
                    raise ChainError("not an archive file of this format")
            else:
                values = parse_jsonb(text)
                if not isinstance(values, list) or jsonb_text(values) != text \
                        or values[:2] != [VERSION, header["log"]]:
                    raise ChainError(f"the row after seq {seq} is not in canonical form")
                seq += 1
                rows += 1
                if int(values[2]) != seq or values[-1] != prev:
                    raise ChainError(f"seq {seq}: out of order, or not linked to the row before")
                prev = sha256_hex(text)
        pending = raw
    if header is None or pending is None:
        raise ChainError("not an archive file: too short")
    try:
        cp = json.loads(pending.decode("utf-8"))["checkpoint"]
        statement = str(cp["statement"]).encode("utf-8")
        claim = json.loads(statement)
    except (ValueError, KeyError, TypeError) as err:
        raise ChainError(f"the archive's checkpoint is unreadable: {err}") from None
    if not verify_signature(public_raw, statement, str(cp.get("signature"))):
        raise ChainError("the checkpoint's signature does not verify under this key")
    archived = claim.get("archived") or {}
    if claim.get("kind") != "archive" or archived.get("file_sha256") != digest.hexdigest():
        raise ChainError("the signed checkpoint does not name this file (changed since?)")
    if (archived.get("from"), archived.get("to"), archived.get("month"), claim.get("log")) != \
            (header["from"], header["to"], header["month"], header["log"]):
        raise ChainError("the file's range differs from its checkpoint")
    if seq != header["to"] or prev != claim.get("head") or claim.get("length") != seq:
        raise ChainError("the rows do not end at the checkpoint's head")
    return {"log": header["log"], "month": header["month"], "from": header["from"],
            "to": header["to"], "head": prev, "rows": rows, "statement": claim}
