"""Data processors (数据加工处理人员) and the record of desensitized-sample views.

* ``sanyi_data_processor``: one per user; identity verified by the operator (document kind, the
  number masked and a keyed digest, unique), filing with the bureau, the confidentiality
  agreement accepted, status pending | active | revoked. An active processor has all three.
* ``sanyi_sample_view``: who viewed which resource's sample, when, with which marker.
  Append-only (``sanyi_refuse_change`` from 0002).

Revision ID: 0006_data_processors
Revises: 0005_payments
Create Date: 2026-12-01
"""
from alembic import op

revision = "0006_data_processors"
down_revision = "0005_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_data_processor (
            id text PRIMARY KEY,
            user_id text NOT NULL UNIQUE,
            status text NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),
            real_name text NOT NULL,
            employer text NOT NULL DEFAULT '',
            document_kind text NOT NULL,
            document_masked text NOT NULL,
            document_digest text NOT NULL UNIQUE,
            verified_by text NOT NULL,
            verified_at timestamptz NOT NULL,
            filing_no text,
            filed_by text,
            filed_at timestamptz,
            agreement_version text,
            agreement_accepted_at timestamptz,
            revoked_by text,
            revoked_at timestamptz,
            revoke_reason text,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            modified timestamptz NOT NULL DEFAULT clock_timestamp(),
            CHECK (status <> 'active' OR (filing_no IS NOT NULL AND filed_at IS NOT NULL
                                          AND agreement_accepted_at IS NOT NULL)),
            CHECK (status <> 'revoked' OR revoked_at IS NOT NULL)
        )
    """)
    op.execute("CREATE INDEX sanyi_data_processor_status ON sanyi_data_processor "
               "(status, created)")
    op.execute("""
        CREATE TABLE sanyi_sample_view (
            id bigserial PRIMARY KEY,
            user_id text NOT NULL,
            user_name text NOT NULL,
            processor_id text NOT NULL,
            package_id text NOT NULL,
            package_name text NOT NULL,
            source_table text NOT NULL,
            marker text NOT NULL,
            view_date date NOT NULL,
            row_count integer NOT NULL,
            viewed_at timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("CREATE INDEX sanyi_sample_view_marker ON sanyi_sample_view (marker)")
    op.execute("CREATE INDEX sanyi_sample_view_user ON sanyi_sample_view (user_id, id)")
    op.execute("CREATE INDEX sanyi_sample_view_package ON sanyi_sample_view (package_id, id)")
    op.execute("CREATE TRIGGER sanyi_sample_view_append_only BEFORE UPDATE OR DELETE "
               "ON sanyi_sample_view FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_sample_view")
    op.execute("DROP TABLE IF EXISTS sanyi_data_processor")
