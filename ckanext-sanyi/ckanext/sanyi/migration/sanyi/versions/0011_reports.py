"""Submitted reports: the quarterly usage report, the annual operating report and the annual
disclosure, frozen when the operator submits them.

``sanyi_report``: one row per report kind and period (``quarterly`` ``2026Q4``, ``annual``
``2026``, ``disclosure`` ``2026``): the figures as they were at submission (jsonb, and the
SHA-256 of their canonical JSON), the PDF rendered from them (bytea) and its SHA-256, who
submitted it when and the id of the audit record naming both hashes; then who marked it
received (the bureau) and when. A trigger refuses DELETE, and any UPDATE but the one that
marks a submitted report received: the stored report never changes.

Revision ID: 0011_reports
Revises: 0010_hash_chains
Create Date: 2026-12-02
"""
from alembic import op

revision = "0011_reports"
down_revision = "0010_hash_chains"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_report (
            id text PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('quarterly', 'annual', 'disclosure')),
            period text NOT NULL,
            language text NOT NULL,
            figures jsonb NOT NULL,
            figures_sha256 text NOT NULL CHECK (figures_sha256 ~ '^[0-9a-f]{64}$'),
            pdf bytea NOT NULL,
            pdf_sha256 text NOT NULL CHECK (pdf_sha256 ~ '^[0-9a-f]{64}$'),
            status text NOT NULL DEFAULT 'submitted' CHECK (status IN ('submitted', 'received')),
            submitted_by text NOT NULL,
            submitted_at timestamptz NOT NULL,
            audit_id bigint,
            received_by text,
            received_at timestamptz,
            received_comment text,
            UNIQUE (kind, period)
        )
    """)
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_report_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'sanyi_report: a submitted report is never deleted';
            END IF;
            IF NEW.id <> OLD.id OR NEW.kind <> OLD.kind OR NEW.period <> OLD.period
               OR NEW.language <> OLD.language OR NEW.figures <> OLD.figures
               OR NEW.figures_sha256 <> OLD.figures_sha256 OR NEW.pdf <> OLD.pdf
               OR NEW.pdf_sha256 <> OLD.pdf_sha256 OR NEW.submitted_by <> OLD.submitted_by
               OR NEW.submitted_at <> OLD.submitted_at
               OR NEW.audit_id IS DISTINCT FROM OLD.audit_id THEN
                RAISE EXCEPTION 'sanyi_report: a submitted report never changes';
            END IF;
            IF NOT (OLD.status = 'submitted' AND NEW.status = 'received'
                    AND NEW.received_by IS NOT NULL AND NEW.received_at IS NOT NULL) THEN
                RAISE EXCEPTION 'sanyi_report: only a submitted report can be marked received';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("""
        CREATE TRIGGER sanyi_report_guard BEFORE UPDATE OR DELETE ON sanyi_report
        FOR EACH ROW EXECUTE FUNCTION sanyi_report_guard()
    """)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_report")
    op.execute("DROP FUNCTION IF EXISTS sanyi_report_guard()")
