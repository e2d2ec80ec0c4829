"""The in-memory index's tsquery matching and ts_rank agree with PostgreSQL's own.

Random tsvectors (lexemes from a small alphabet, random positions and weights, some lexemes
without positions) and random tsqueries of the forms the compiler writes (``&``, ``|``, ``!``,
phrases ``<N>``, weight restrictions) are evaluated by ``memindex`` (one document at a time, and
over slots for the built index) and by the database (``@@``, ``ts_rank``): the answers must be
equal, the scores equal as float4.
"""
from __future__ import annotations

import random

import numpy as np
import pytest
from ckan import model
from sqlalchemy import text

from ckanext.sanyi.search import memindex as mi

pytestmark = pytest.mark.usefixtures("with_plugins")

LEXEMES = ["医保", "门诊", "收费", "药品", "gxy", "yibao", "a=b", "x"]
WEIGHTS = "ABCD"


def _vector(rng: random.Random) -> tuple[str, dict[str, tuple[int, ...]]]:
    """A tsvector literal and the same as DocData lexemes (WordEntryPos: weight << 14)."""
    parts, lexemes = [], {}
    for lx in rng.sample(LEXEMES, rng.randint(1, len(LEXEMES))):
        if lx == "a=b" or rng.random() < 0.1:  # no positions (as the index's exact terms)
            parts.append(f"'{lx}'")
            lexemes[lx] = ()
            continue
        pos = sorted(rng.sample(range(1, 40), rng.randint(1, 4)))
        ws = [rng.choice(WEIGHTS) for _ in pos]
        parts.append(f"'{lx}':" + ",".join(f"{p}{w}" for p, w in zip(pos, ws, strict=True)))
        code = {"A": 3, "B": 2, "C": 1, "D": 0}
        lexemes[lx] = tuple(p | (code[w] << 14) for p, w in zip(pos, ws, strict=True))
    return " ".join(parts), lexemes


def _operand(rng: random.Random) -> str:
    lx = rng.choice(LEXEMES)
    w = "".join(sorted(rng.sample(WEIGHTS, rng.randint(1, 2)))) if rng.random() < 0.25 else ""
    return f"'{lx}'" + (f":{w}" if w else "")


def _query(rng: random.Random, depth: int = 0) -> str:
    r = rng.random()
    if depth > 2 or r < 0.3:
        return _operand(rng)
    if r < 0.45:
        chain = " ".join(f"<{rng.randint(0, 4)}> '{rng.choice(LEXEMES)}'"
                         for _ in range(rng.randint(1, 2)))
        return f"( '{rng.choice(LEXEMES)}' {chain} )"
    if r < 0.55:
        return f"!{_query(rng, depth + 1)}"
    op = rng.choice(["&", "|"])
    return "( " + f" {op} ".join(_query(rng, depth + 1) for _ in range(rng.randint(2, 3))) + " )"


def _doc(iid: str, lexemes: dict[str, tuple[int, ...]]) -> mi.DocData:
    return mi.DocData(index_id=iid, columns={}, labels=frozenset(), lexemes=lexemes,
                      rank=mi.rank_shares(lexemes),
                      facets=frozenset(), modified=0, created=0)


def test_matching_agrees_with_postgresql():
    rng = random.Random(20261204)
    checked = matched = 0
    for _ in range(400):
        literal, lexemes = _vector(rng)
        q = _query(rng)
        pg = model.Session.execute(text("SELECT CAST(:v AS tsvector) @@ CAST(:q AS tsquery)"),
                                   {"v": literal, "q": q}).scalar()
        mine = mi._doc_ts(mi.parse_tsquery(q), _doc("d", lexemes))
        assert mine == pg, (literal, q, mine, pg)
        checked += 1
        matched += bool(pg)
    model.Session.rollback()
    assert checked == 400 and 40 < matched < 360  # both answers were exercised


def test_ts_rank_agrees_with_postgresql_to_the_last_bit():
    rng = random.Random(7)
    nonzero = 0
    for _ in range(300):
        literal, lexemes = _vector(rng)
        terms = rng.sample([x for x in LEXEMES if x != "a=b"], rng.randint(1, 4))
        q = " | ".join(f"'{t}'" for t in terms)
        pg = model.Session.execute(text("SELECT ts_rank(CAST(:v AS tsvector), CAST(:q AS tsquery))"),
                                   {"v": literal, "q": q}).scalar()
        ix = mi.MemoryIndex.__new__(mi.MemoryIndex)
        mine = mi.MemoryIndex._doc_score(_doc("d", lexemes), ix._rank_terms(q))
        assert np.float32(pg) == mine, (literal, q, pg, mine)
        nonzero += pg > 0
    model.Session.rollback()
    assert nonzero > 100


def test_what_the_index_cannot_answer_is_left_to_sql():
    for q in ("'abc':*", "'a' & 'b'"):
        with pytest.raises(mi.Unsupported):
            ix = mi.MemoryIndex.__new__(mi.MemoryIndex)
            if q.endswith("*"):
                mi.MemoryIndex._lexemes(mi.parse_tsquery(q))
            else:
                ix._rank_terms(q)  # ts_rank of a conjunction is calc_rank_and
    with pytest.raises(mi.Unsupported):
        mi.parse_tsquery("'a' &")


def test_a_tsvector_read_as_text_gives_the_positions_and_weights_it_holds():
    from ckanext.sanyi.search.memload import parse_tsvector
    rng = random.Random(11)
    for _ in range(100):
        literal, lexemes = _vector(rng)
        as_text = model.Session.execute(text("SELECT CAST(CAST(:v AS tsvector) AS text)"),
                                        {"v": literal}).scalar()
        assert parse_tsvector(as_text) == lexemes, (literal, as_text)
    odd = model.Session.execute(text(
        "SELECT CAST(array_to_tsvector(ARRAY['it''s', 'a\\b', 'x y']) AS text)")).scalar()
    model.Session.rollback()
    assert parse_tsvector(odd) == {"it's": (), "a\\b": (), "x y": ()}
