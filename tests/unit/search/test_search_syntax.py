"""The Solr-subset parser (ckanext.sanyi.search.syntax): trees for user queries and for the
exact strings CKAN 2.12 itself builds, and errors for malformed input."""
import pytest

from ckanext.sanyi.search.syntax import (
    And,
    MatchAll,
    Not,
    Or,
    Prefix,
    QuerySyntaxError,
    Range,
    Term,
    Text,
    conjoin,
    parse,
    text_values,
)


@pytest.mark.parametrize("q", [None, "", "   ", '""', "''", "*:*", "*"])
def test_empty_and_match_all(q):
    assert parse(q) == MatchAll()


def test_bare_words_are_full_text_and_juxtaposition_is_and():
    assert parse("高血压") == Text("高血压")
    assert parse("门诊 收费") == And((Text("门诊"), Text("收费")))


def test_fielded_terms_and_text_fields():
    assert parse("tags:慢病") == Term("tags", "慢病")
    assert parse('organization:"shi-yi-bao-ju"') == Term("organization", "shi-yi-bao-ju")
    # analysed Solr fields are full-text matches, "text" is the catch-all field
    assert parse("title:高血压") == Text("高血压", "title")
    assert parse("notes:收费") == Text("收费", "notes")
    assert parse("text:医保") == Text("医保")


def test_phrases_keep_spaces_and_escaped_quotes():
    assert parse('"门诊 收费"') == Text("门诊 收费", phrase=True)
    assert parse('tags:"a \\"b\\" c"') == Term("tags", 'a "b" c')


def test_boolean_operators_and_precedence():
    assert parse("a OR b") == Or((Text("a"), Text("b")))
    assert parse("a || b && c") == Or((Text("a"), And((Text("b"), Text("c")))))
    assert parse("a AND b OR c") == Or((And((Text("a"), Text("b"))), Text("c")))
    assert parse("a AND (b OR c)") == And((Text("a"), Or((Text("b"), Text("c")))))
    # lower-case "or" is a word, as in Solr's standard parser
    assert parse("a or b") == And((Text("a"), Text("or"), Text("b")))


def test_not_plus_minus_and_bang():
    assert parse("-tags:x") == Not(Term("tags", "x"))
    assert parse("NOT tags:x") == Not(Term("tags", "x"))
    assert parse("!tags:x") == Not(Term("tags", "x"))
    assert parse("+tags:x") == Term("tags", "x")
    assert parse("医保 -住院") == And((Text("医保"), Not(Text("住院"))))
    # a hyphen inside a word is part of the word
    assert parse("name:covid-19") == Term("name", "covid-19")


def test_field_groups():
    assert parse("state:(active OR draft)") == Or((Term("state", "active"),
                                                    Term("state", "draft")))
    assert parse("tags:(a b)") == And((Term("tags", "a"), Term("tags", "b")))


def test_ranges():
    assert parse("metadata_modified:[2026-01-01T00:00:00Z TO NOW]") == Range(
        "metadata_modified", "2026-01-01T00:00:00Z", "NOW", True, True)
    assert parse("num_resources:{0 TO *}") == Range("num_resources", "0", None, False, False)
    assert parse("num_resources:[* TO 5}") == Range("num_resources", None, "5", True, False)
    assert parse('last_updated:["2026-01-01" TO "2026-02-01"]') == Range(
        "last_updated", "2026-01-01", "2026-02-01")


def test_prefixes_and_existence():
    assert parse("name:gao*") == Prefix("name", "gao")
    assert parse("res_format:*") == Prefix("res_format", "")
    # a quoted star is a literal value, a star on a text field is match-all
    assert parse('name:"gao*"') == Term("name", "gao*")
    assert parse("title:*") == MatchAll()


def test_escapes():
    assert parse(r"name:a\:b") == Term("name", "a:b")
    assert parse(r"name:a\ b") == Term("name", "a b")
    assert parse(r"\(x\)") == Text("(x)")
    assert parse(r"name:\-x") == Term("name", "-x")


def test_boosts_and_fuzzy_marks_are_ignored():
    assert parse("title:高血压^2") == Text("高血压", "title")
    assert parse('"门诊 收费"~3 医保~') == And((Text("门诊 收费", phrase=True), Text("医保")))
    assert parse(r"a\^2") == Text("a^2")


# --- the strings CKAN 2.12 sends -------------------------------------------------------

def test_ckan_package_search_visibility_filter():
    assert parse("+capacity:public +state:(active OR draft)") == And((
        Term("capacity", "public"), Or((Term("state", "active"), Term("state", "draft")))))
    assert parse('+site_id:"default"') == Term("site_id", "default")
    assert parse('+permission_labels:("public" OR "member-abc")') == Or((
        Term("permission_labels", "public"), Term("permission_labels", "member-abc")))


def test_ckan_autocomplete_query():
    assert parse('name_ngram:"x" OR title_ngram:"x" OR name:"x" OR title:"x"') == Or((
        Text("x", "name_ngram", True), Text("x", "title_ngram", True), Term("name", "x"),
        Text("x", "title", True)))


def test_ckan_delete_query():
    assert parse('+entity_type:package AND +(id:"a" OR name:"a") AND +site_id:"default"') == \
        And((Term("entity_type", "package"), Or((Term("id", "a"), Term("name", "a"))),
             Term("site_id", "default")))


def test_ckan_get_index_and_tag_queries():
    assert parse('name:"ds" OR id:"ds"') == Or((Term("name", "ds"), Term("id", "ds")))
    assert parse('+capacity:public +tags:"慢病"') == And((Term("capacity", "public"),
                                                         Term("tags", "慢病")))
    assert parse("+dataset_type:dataset") == Term("dataset_type", "dataset")


@pytest.mark.parametrize("bad", [
    '"unterminated', "title:", "(a OR b", "a)", "()", "a OR", "NOT", "AND", "x:[1 TO",
    "x:[1 2]", ":foo", "[a TO b]",
])
def test_bad_syntax_raises(bad):
    with pytest.raises(QuerySyntaxError):
        parse(bad)


def test_conjoin_and_text_values():
    assert conjoin([MatchAll(), MatchAll()]) == MatchAll()
    assert conjoin([MatchAll(), Term("a", "b")]) == Term("a", "b")
    tree = parse("医保 OR (门诊 -住院) tags:x")
    assert [t.value for t in text_values(tree)] == ["医保", "门诊"]


def test_bad_syntax_becomes_ckans_search_query_error():
    """CKAN maps SearchQueryError to HTTP 400 (API and dataset page), not 500."""
    from ckan.lib.search.common import SearchQueryError

    from ckanext.sanyi.search.connection import SolrCompatConnection

    class NeverCalled:
        def search(self, req):
            raise AssertionError("a malformed query must not reach the backend")

    conn = SolrCompatConnection(NeverCalled(), ())
    for bad_q, params in (('"open', {}), ("*:*", {"fq": "tags:(a OR"}),
                          ("*:*", {"sort": "title sideways"})):
        with pytest.raises(SearchQueryError):
            conn.search(bad_q, **params)
