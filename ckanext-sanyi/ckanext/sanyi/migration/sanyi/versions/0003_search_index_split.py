"""Search index for 100,000+ datasets: a narrow row to match, count and rank on.

* What a search reads for every matching row stays in the heap row, uncompressed (STORAGE
  MAIN, short columns); what is only matched through a GIN index (``terms``, ``tsv``) or read
  for the page of results (``doc``, ``data_dict``, ``validated_data_dict``) is stored out of
  line (STORAGE EXTERNAL). PostgreSQL toasts a row only when it exceeds ~2 kB, which every
  real row does thanks to the serialized dicts, and then moves EXTERNAL values out until the
  row is under ``toast_tuple_target`` (1 kB): the heap row is ~0.5 kB, a quarter of before.
* Exact terms are also lexemes of ``tsv`` (``field=value``, verbatim): a query's words and
  terms together are one tsquery, answered by one GIN index scan with nothing to re-check.
  The GIN index on ``terms`` goes (``terms`` stays, for ranges).
* The fields every search filters on (state, capacity, dataset type, entity type, permission
  labels) become plain columns, so checking them never reads ``terms``.
* Facet values become integer ids (``facet_ids``, dictionary ``sanyi_search_facet_value``):
  a quarter of the bytes to read and faster to count than text. Each list starts with the id
  of ``*`` (every document), so one pass counts hits and facet values.
* ``rank_tsv`` (title and tags) is what relevance is computed from, kept inline.
* Terms no longer hold analysed text or timestamps; the text vectors use segment.py's
  full-mode words and CJK unigrams in titles. Existing rows are re-prepared here from their
  stored document, so no re-index is needed after upgrading.
* ``sanyi_search_generation`` (a sequence) counts changes: a statement trigger advances it on
  every insert, update, delete or truncate of ``sanyi_search_doc`` (the backend advances it
  again after each commit); cached results are keyed by it.
* Sort indexes match the ORDER BY the backend emits (DESC NULLS LAST, then index_id). The
  trigram index on ``title`` (autocomplete now matches word prefixes in ``tsv``) is dropped;
  ``name`` gets a b-tree (lookups by name, as ``package_show`` and deletes do).

Revision ID: 0003_search_index_split
Revises: 0002_pricing_audit
Create Date: 2026-11-24
"""
import json

from alembic import op
from sqlalchemy import text

revision = "0003_search_index_split"
down_revision = "0002_pricing_audit"
branch_labels = None
depends_on = None

_VECTOR = ("setweight(to_tsvector('simple', r.ta), 'A') || setweight(to_tsvector('simple', "
           "r.tb), 'B') || setweight(to_tsvector('simple', r.tc), 'C') || "
           "setweight(to_tsvector('simple', r.td), 'D') || array_to_tsvector(r.terms)")
_RANK = ("setweight(to_tsvector('simple', r.ta), 'A') || "
         "setweight(to_tsvector('simple', r.tr), 'B')")
_REPREPARE = text(f"""
    UPDATE sanyi_search_doc d SET terms = r.terms,
      facet_ids = ARRAY(SELECT v.id FROM sanyi_search_facet_value v
                        WHERE v.term = ANY(r.facets) ORDER BY v.id),
      state = r.state, capacity = r.capacity, dataset_type = r.dataset_type,
      entity_type = r.entity_type, labels = r.labels, tsv = {_VECTOR}, rank_tsv = {_RANK},
      doc = d.doc || '{{}}', data_dict = d.data_dict || '', validated_data_dict =
      d.validated_data_dict || ''  -- rewritten, so that they are stored as now declared
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
        index_id text, terms text[], facets text[], ta text, tb text, tc text, td text, tr text,
        state text, capacity text, dataset_type text, entity_type text, labels text[])
    WHERE d.index_id = r.index_id
""")


def _reprepare(batch: int = 1000) -> None:
    from ckanext.sanyi.search.backend import prepare
    conn = op.get_bind()
    ids = [r[0] for r in conn.execute(text("SELECT index_id FROM sanyi_search_doc"))]
    for start in range(0, len(ids), batch):
        rows = conn.execute(text("SELECT index_id, doc FROM sanyi_search_doc "
                                 "WHERE index_id = ANY(:ids)"), {"ids": ids[start:start + batch]})
        out = []
        for index_id, doc in rows:
            doc = dict(doc, index_id=index_id)
            if "id" not in doc:
                continue
            p = prepare(doc)
            out.append({"index_id": index_id, "terms": p.terms, "facets": p.facets,
                        "labels": p.columns["permission_labels"], "tr": p.rank_text,
                        **{k: v for k, v in p.columns.items() if k != "permission_labels"},
                        **{"t" + w.lower(): v for w, v in p.weighted_text.items()}})
        if out:
            conn.execute(text("INSERT INTO sanyi_search_facet_value (term) "
                              "SELECT DISTINCT unnest(CAST(:t AS text[])) "
                              "ON CONFLICT (term) DO NOTHING"),
                         {"t": sorted({t for r in out for t in r["facets"]})})
            conn.execute(_REPREPARE, {"rows": json.dumps(out, ensure_ascii=False)})


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_search_facet_value (
            id serial PRIMARY KEY,
            term text NOT NULL UNIQUE
        )
    """)
    op.execute("INSERT INTO sanyi_search_facet_value (term) VALUES ('*')")
    op.execute("""
        ALTER TABLE sanyi_search_doc
          ADD COLUMN state text, ADD COLUMN capacity text, ADD COLUMN dataset_type text,
          ADD COLUMN entity_type text, ADD COLUMN labels text[] NOT NULL DEFAULT '{}',
          ADD COLUMN facet_ids int[] NOT NULL DEFAULT '{}',
          ADD COLUMN rank_tsv tsvector NOT NULL DEFAULT ''::tsvector
    """)
    # what every matching row is read for stays inline and uncompressed; what is only
    # matched through an index, or read for the page, goes out of line
    op.execute("ALTER TABLE sanyi_search_doc ALTER COLUMN facet_ids SET STORAGE MAIN, "
               "ALTER COLUMN rank_tsv SET STORAGE MAIN, ALTER COLUMN labels SET STORAGE MAIN, "
               "ALTER COLUMN terms SET STORAGE EXTERNAL, ALTER COLUMN tsv SET STORAGE EXTERNAL, "
               "ALTER COLUMN doc SET STORAGE EXTERNAL, "
               "ALTER COLUMN data_dict SET STORAGE EXTERNAL, "
               "ALTER COLUMN validated_data_dict SET STORAGE EXTERNAL")
    op.execute("ALTER TABLE sanyi_search_doc SET (toast_tuple_target = 1024)")
    _reprepare()
    op.execute("ALTER TABLE sanyi_search_doc DROP COLUMN facets")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_modified")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_title_trgm")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_terms")
    # GIN "fast update" keeps new entries in a pending list that every search scans in full
    # (and the planner prices in) until a vacuum merges it: keep that list small
    op.execute("ALTER INDEX sanyi_search_doc_tsv SET (gin_pending_list_limit = 256)")
    op.execute("CREATE INDEX sanyi_search_doc_modified ON sanyi_search_doc "
               "(metadata_modified DESC NULLS LAST, index_id)")
    op.execute("CREATE INDEX sanyi_search_doc_created ON sanyi_search_doc "
               "(metadata_created DESC NULLS LAST, index_id)")
    op.execute("CREATE INDEX sanyi_search_doc_title_sort ON sanyi_search_doc "
               "(title_sort, index_id)")
    op.execute("CREATE INDEX sanyi_search_doc_name ON sanyi_search_doc (name)")
    op.execute("CREATE SEQUENCE IF NOT EXISTS sanyi_search_generation")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_search_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM nextval('sanyi_search_generation'); RETURN NULL; END $$
    """)
    op.execute("""
        CREATE TRIGGER sanyi_search_doc_bump
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON sanyi_search_doc
        FOR EACH STATEMENT EXECUTE FUNCTION sanyi_search_bump()
    """)
    op.execute("ANALYZE sanyi_search_doc")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS sanyi_search_doc_bump ON sanyi_search_doc")
    op.execute("DROP FUNCTION IF EXISTS sanyi_search_bump()")
    op.execute("DROP SEQUENCE IF EXISTS sanyi_search_generation")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_name")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_title_sort")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_created")
    op.execute("DROP INDEX IF EXISTS sanyi_search_doc_modified")
    op.execute("CREATE INDEX sanyi_search_doc_modified ON sanyi_search_doc (metadata_modified)")
    op.execute("CREATE INDEX sanyi_search_doc_title_trgm ON sanyi_search_doc "
               "USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX sanyi_search_doc_terms ON sanyi_search_doc USING gin (terms)")
    op.execute("ALTER INDEX sanyi_search_doc_tsv RESET (gin_pending_list_limit)")
    op.execute("ALTER TABLE sanyi_search_doc RESET (toast_tuple_target)")
    op.execute("ALTER TABLE sanyi_search_doc ADD COLUMN facets text[] NOT NULL DEFAULT '{}'")
    op.execute("""
        UPDATE sanyi_search_doc d SET facets = ARRAY(
            SELECT v.term FROM sanyi_search_facet_value v
            WHERE v.id = ANY(d.facet_ids) AND v.term <> '*' ORDER BY v.term)
    """)
    op.execute("ALTER TABLE sanyi_search_doc DROP COLUMN state, DROP COLUMN capacity, "
               "DROP COLUMN dataset_type, DROP COLUMN entity_type, DROP COLUMN labels, "
               "DROP COLUMN facet_ids, DROP COLUMN rank_tsv")
    op.execute("DROP TABLE sanyi_search_facet_value")
