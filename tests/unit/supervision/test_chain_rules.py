"""The pure rules of the hash chains (domain/chain.py): PostgreSQL's jsonb text reproduced,
canonical times, the walk's verdict on each kind of tampering, checkpoint signatures (a wrong
key or a changed statement fails) and archive files."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ckanext.sanyi.domain import chain as rules

BJ = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.parametrize(("value", "text"), [
    (None, "null"), (True, "true"), ([], "[]"), ({}, "{}"), (Decimal("2.50"), "2.50"),
    (Decimal("-0.0"), "0.0"), (Decimal("1E+3"), "1000"), (Decimal("1E-7"), "0.0000001"),
    ("中\"\\\n\x01\x7f", '"中\\"\\\\\\n\\u0001\x7f"'),
    ({"bb": 1, "a": [1, {"c": None}], "é": 2}, '{"a": [1, {"c": null}], "bb": 1, "é": 2}'),
])
def test_jsonb_text_as_postgresql_prints_it(value, text):
    assert rules.jsonb_text(value) == text
    assert rules.jsonb_text(rules.parse_jsonb(text)) == text


def test_floats_have_no_canonical_form():
    with pytest.raises(rules.ChainError):
        rules.jsonb_text(1.5)


def test_times_are_utc_with_microseconds():
    assert rules.utc_text(dt.datetime(2027, 1, 1, 0, 0, tzinfo=BJ)) == "2026-12-31T16:00:00.000000Z"
    assert rules.utc_text(dt.datetime(5, 1, 2, 3, 4, 5, 6)) == "0005-01-02T03:04:05.000006Z"
    with pytest.raises(rules.ChainError):
        rules.utc_text("2026-12-31 16:00")


def _chain(n: int) -> list[dict]:
    rows, prev = [], rules.GENESIS
    for i in range(1, n + 1):
        row = {"seq": i, "id": 100 + i, "actor": "操作员", "action": "a", "object_type": "t",
               "object_id": str(i), "before": None, "after": rules.Jsonb({"n": i}),
               "created": dt.datetime(2026, 12, 2, tzinfo=BJ), "prev_hash": prev}
        row["row_hash"] = prev = rules.row_hash("audit", row)
        rows.append(row)
    return rows


def _walk(rows, **kw):
    walk = rules.ChainWalk("audit", **kw)
    for row in rows:
        if walk.feed(row):
            break
    return walk.finish()


def test_the_walk():
    rows = _chain(6)
    assert _walk(rows) is None
    edited = [dict(r) for r in rows]
    edited[2]["actor"] = "someone"
    assert (_walk(edited).kind, _walk(edited).seq) == ("content", 3)
    assert (_walk(rows[:3] + rows[4:]).kind, _walk(rows[:3] + rows[4:]).seq) == ("gap", 4)
    swapped = [dict(r) for r in rows]
    swapped[1]["seq"], swapped[2]["seq"] = 3, 2
    swapped[1], swapped[2] = swapped[2], swapped[1]
    assert _walk(swapped).seq == 2
    assert _walk(rows[:4], expect={6: rows[5]["row_hash"]}).kind == "truncated"
    assert _walk(rows, expect={4: "f" * 64}).kind == "checkpoint"
    walk = rules.ChainWalk("audit")
    for row in rows[:5]:
        walk.feed(row)
    assert walk.finish(6, rows[5]["row_hash"]).kind == "head"
    tail = rules.ChainWalk("audit", start_length=3, start_hash=rows[2]["row_hash"])
    assert all(tail.feed(r) is None for r in rows[3:]) and tail.finish() is None


def test_a_checkpoint_signature_and_a_wrong_key():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    statement = rules.checkpoint_statement(
        origin="https://sanyi.example", log="ledger", length=9, head="ab" * 32,
        time=dt.datetime(2026, 12, 2, 0, 5, tzinfo=BJ), previous=rules.GENESIS)
    assert b'"time":"2026-12-01T16:05:00.000000Z"' in statement
    signature = rules.sign(key, statement)
    assert rules.verify_signature(rules.public_key_raw(key), statement, signature)
    assert not rules.verify_signature(rules.public_key_raw(other), statement, signature)
    assert not rules.verify_signature(rules.public_key_raw(key), statement + b" ", signature)
    assert not rules.verify_signature(rules.public_key_raw(key), statement, "not base64!")
    assert rules.parse_statement(statement)["length"] == 9
    with pytest.raises(rules.ChainError):
        rules.load_private_key(b"-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")


def _archive(rows, key) -> bytes:
    import hashlib
    lines = [rules.archive_header(log="audit", month="2022-11", first=1, last=len(rows),
                                  prev=rules.GENESIS)]
    lines += [rules.canonical_text("audit", r) for r in rows]
    body = "".join(line + "\n" for line in lines).encode("utf-8")
    statement = rules.checkpoint_statement(
        origin="x", log="audit", length=len(rows), head=rows[-1]["row_hash"],
        time="2026-12-02T00:00:00.000000Z", previous=rules.GENESIS, kind="archive",
        archived={"from": 1, "to": len(rows), "month": "2022-11",
                  "file_sha256": hashlib.sha256(body).hexdigest()})
    return body + (rules.archive_trailer(statement=statement, signature=rules.sign(key, statement),
                                         public_raw=rules.public_key_raw(key)) + "\n").encode()


def test_an_archive_file_checks_and_a_changed_one_does_not():
    key = Ed25519PrivateKey.generate()
    rows = _chain(4)
    data = _archive(rows, key)
    summary = rules.check_archive(io.BytesIO(data), rules.public_key_raw(key))
    assert (summary["rows"], summary["head"]) == (4, rows[-1]["row_hash"])
    with pytest.raises(rules.ChainError, match="signature"):
        rules.check_archive(io.BytesIO(data),
                            rules.public_key_raw(Ed25519PrivateKey.generate()))
    with pytest.raises(rules.ChainError):
        rules.check_archive(io.BytesIO(data.replace(b'"4"', b'"5"', 1)),
                            rules.public_key_raw(key))
    lines = data.splitlines(keepends=True)
    with pytest.raises(rules.ChainError):
        rules.check_archive(io.BytesIO(b"".join(lines[:2] + lines[3:])), rules.public_key_raw(key))
