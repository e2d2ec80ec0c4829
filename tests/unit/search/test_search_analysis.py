"""Pure parts of search analysis: traditional to simplified, pinyin and initials, positions,
synonym groups and their expansion in the tsquery, phrases, minimum-should-match."""
from __future__ import annotations

import pytest

from ckanext.sanyi.search import analysis, segment
from ckanext.sanyi.search import backend as b
from ckanext.sanyi.search import syntax as s
from ckanext.sanyi.search.compiler import Compiler


def tsq(q: str) -> str:
    c = Compiler()
    c.sql(s.min_should_match(s.parse(q), q))
    return c.params["p0"]


@pytest.mark.parametrize("trad, simp", [("醫保", "医保"), ("門診收費", "门诊收费"),
                                        ("高血壓 API", "高血压 API"), ("plain", "plain")])
def test_traditional_becomes_simplified(trad, simp):
    assert analysis.simplify(trad) == simp


def test_traditional_query_and_text_give_the_same_tokens():
    assert segment.query_tokens("醫保") == segment.query_tokens("医保") == ("医保",)
    assert segment.index_postings("門診收費", unigrams=False) == \
        segment.index_postings("门诊收费", unigrams=False)


@pytest.mark.parametrize("word, forms", [("高血压", ("gaoxueya", "gxy")), ("医保", ("yibao", "yb")),
                                         ("门诊", ("menzhen", "mz")), ("压", ()), ("api", ())])
def test_pinyin_forms(word, forms):
    assert analysis.pinyin_forms(word) == forms


def test_pinyin_is_indexed_at_the_words_position():
    p = b.prepare({"id": "1", "title": "高血压患者"})
    assert "gaoxueya" in p.weighted_text["A"].split() and "gxy" in p.weighted_text["A"].split()
    ta = p.postings["A"]
    pos = {lx.split("':")[0].strip("'"): lx.split("':")[1] for lx in ta.split()}
    assert pos["gaoxueya"] == pos["高血压"] == pos["gxy"]


def test_positions_count_cjk_characters_and_latin_words():
    assert segment.unit_starts("ab 门诊 cd") == [0, 0, 1, 1, 2, 3, 3, 3]
    assert segment.query_postings("门诊收费") == (("门诊", 0), ("收费", 2))
    assert segment.query_postings("Government  Expenditure") == (("government", 0),
                                                                ("expenditure", 1))


def test_phrases_compile_to_distances():
    assert tsq('"门诊收费"') == "( ( '门诊' <2> '收费' ) )"
    assert tsq('"Government Expenditure"') == "( ( 'government' <1> 'expenditure' ) )"
    assert tsq('title:"门诊收费"') == "( ( '门诊':A <2> '收费':A ) )"


def test_synonym_file_parsing_and_symmetry():
    syn = analysis.Synonyms.parse("# comment\n醫保, 医疗保障\n慢病 慢性病  # inline\n\n"
                                  "核保，承保审核、核保审核\n")
    assert syn.get("医保") == ("医疗保障",)  # keys simplified
    assert syn.get("医疗保障") == ("医保",)
    assert syn.get("慢性病") == ("慢病",)
    assert set(syn.get("核保")) == {"承保审核", "核保审核"}
    assert syn.get("其他") == ()


def test_shipped_synonyms_cover_the_domain_abbreviations():
    syn = analysis.Synonyms.load(None)
    for short, long in (("医保", "医疗保障"), ("卫健", "卫生健康"), ("药监", "药品监督管理"),
                        ("慢病", "慢性病"), ("核保", "承保审核")):
        assert long in syn.get(short) and short in syn.get(long)


def test_synonyms_expand_a_run_of_query_words():
    # 卫生健康 is cut into two words; the run as a whole is a synonym of 卫健
    q = tsq("卫生健康")
    assert "'卫健'" in q and "'卫生' & '健康'" in q
    assert "( '卫生' <2> '健康' )" in tsq("卫健")


def test_configured_synonym_file(tmp_path):
    path = tmp_path / "syn.txt"
    path.write_text("甲乙, 丙丁\n", encoding="utf-8")
    analysis.configure_synonyms(str(path))
    try:
        assert analysis.synonyms().get("甲乙") == ("丙丁",)
        assert analysis.synonyms().get("医保") == ()
    finally:
        analysis.configure_synonyms(None)
    assert analysis.synonyms().get("医保")


def test_missing_synonym_file_means_no_synonyms(tmp_path):
    analysis.configure_synonyms(str(tmp_path / "none.txt"))
    try:
        assert analysis.synonyms().get("医保") == ()
    finally:
        analysis.configure_synonyms(None)


@pytest.mark.parametrize("n, k", [(1, 1), (2, 2), (3, 2), (5, 4), (6, 4), (10, 8)])
def test_required_clauses_follow_ckans_default_mm(n, k):
    assert s.required_clauses(n) == k


def test_min_should_match_only_for_plain_words():
    assert isinstance(s.min_should_match(s.parse("a b c"), "a b c"), s.AtLeast)
    for q in ("a AND b AND c", "title:a b c", "a b -c", "a b"):
        assert not isinstance(s.min_should_match(s.parse(q), q), s.AtLeast)
    assert tsq("aa bb cc") == ("( ( ( 'aa' ) & ( 'bb' ) ) | ( ( 'aa' ) & ( 'cc' ) ) "
                               "| ( ( 'bb' ) & ( 'cc' ) ) )")


def test_prefix_star_and_infix_lexemes():
    assert tsq("hypert*") == "( 'hypert':* )"
    assert tsq("title_ngram:bli") == "( ( 'bli':*A | '~bli':*A ) )"
    p = b.prepare({"id": "1", "title": "Some public stuff"})
    assert {"~ublic", "~blic", "~lic", "~ic"} <= set(p.postings["A"].replace("'", " ").split())


def test_title_sort_key_is_pinyin():
    assert analysis.sort_key("高血压") == "gao1 xue4 ya1"
    assert analysis.sort_key("Some Public") == "some public"
    assert analysis.sort_key("不动产") < analysis.sort_key("高血压") < analysis.sort_key("知识产权")
