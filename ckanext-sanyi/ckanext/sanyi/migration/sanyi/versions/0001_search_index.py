"""PostgreSQL search index: one row per indexed dataset.

Revision ID: 0001_search_index
Revises:
Create Date: 2026-11-24
"""
from alembic import op

revision = "0001_search_index"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("""
        CREATE TABLE sanyi_search_doc (
            index_id text PRIMARY KEY,
            id text NOT NULL,
            site_id text NOT NULL,
            name text,
            title text,
            title_sort text,
            metadata_created timestamptz,
            metadata_modified timestamptz,
            doc jsonb NOT NULL,
            data_dict text,
            validated_data_dict text,
            terms text[] NOT NULL DEFAULT '{}',
            facets text[] NOT NULL DEFAULT '{}',
            tsv tsvector NOT NULL DEFAULT ''::tsvector
        )
    """)
    op.execute("CREATE INDEX sanyi_search_doc_terms ON sanyi_search_doc USING gin (terms)")
    op.execute("CREATE INDEX sanyi_search_doc_tsv ON sanyi_search_doc USING gin (tsv)")
    op.execute("CREATE INDEX sanyi_search_doc_title_trgm ON sanyi_search_doc "
               "USING gin (title gin_trgm_ops)")
    op.execute("CREATE INDEX sanyi_search_doc_modified ON sanyi_search_doc (metadata_modified)")
    op.execute("CREATE INDEX sanyi_search_doc_id ON sanyi_search_doc (id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_search_doc")
