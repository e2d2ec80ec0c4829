"""Merchants' business licences (营业执照): the file the bureau verifies a merchant against.

``sanyi_merchant_licence``: one row per uploaded file (name, type from the checked extension,
size, SHA-256, where it is stored, who uploaded it when). A new upload marks the one before it
``replaced``; nothing is deleted.

Revision ID: 0013_merchant_licence
Revises: 0012_search_facet_counts
Create Date: 2026-12-02
"""
from alembic import op

revision = "0013_merchant_licence"
down_revision = "0012_search_facet_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_merchant_licence (
            id text PRIMARY KEY,
            merchant_id text NOT NULL REFERENCES sanyi_merchant (id),
            name text NOT NULL,
            mimetype text NOT NULL,
            size bigint NOT NULL CHECK (size > 0),
            sha256 text NOT NULL,
            storage_key text NOT NULL,
            state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'replaced')),
            uploaded_by text NOT NULL,
            created timestamptz NOT NULL DEFAULT clock_timestamp()
        );
        CREATE UNIQUE INDEX sanyi_merchant_licence_active
            ON sanyi_merchant_licence (merchant_id) WHERE state = 'active';
    """)


def downgrade() -> None:
    op.execute("DROP TABLE sanyi_merchant_licence")
