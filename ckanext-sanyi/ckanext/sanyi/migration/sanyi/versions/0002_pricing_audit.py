"""Pricing (price/ceiling versions, bureau settings) and the generic append-only audit log.

All three tables are append-only: a trigger refuses UPDATE and DELETE (TRUNCATE, used by the
test fixtures, and DROP still work). History is read by taking the latest row.

Revision ID: 0002_pricing_audit
Revises: 0001_search_index
Create Date: 2026-11-24
"""
from alembic import op

revision = "0002_pricing_audit"
down_revision = "0001_search_index"
branch_labels = None
depends_on = None

APPEND_ONLY = ("sanyi_audit", "sanyi_price_version", "sanyi_pricing_setting")


def upgrade() -> None:
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_refuse_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
        END
        $$
    """)
    op.execute("""
        CREATE TABLE sanyi_audit (
            id bigserial PRIMARY KEY,
            actor text NOT NULL,
            action text NOT NULL,
            object_type text NOT NULL,
            object_id text NOT NULL DEFAULT '',
            before jsonb,
            after jsonb,
            created timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("CREATE INDEX sanyi_audit_object ON sanyi_audit (object_type, object_id, id)")
    op.execute("CREATE INDEX sanyi_audit_actor ON sanyi_audit (actor, id)")
    op.execute("CREATE INDEX sanyi_audit_created ON sanyi_audit (created)")
    op.execute("""
        CREATE TABLE sanyi_price_version (
            id bigserial PRIMARY KEY,
            product_id text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('price', 'ceiling')),
            unit text NOT NULL,
            effective_from date NOT NULL,
            label text NOT NULL DEFAULT '',
            schedule jsonb NOT NULL,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            created_by text NOT NULL
        )
    """)
    op.execute("CREATE INDEX sanyi_price_version_product ON sanyi_price_version "
               "(product_id, kind, unit, effective_from)")
    op.execute("""
        CREATE TABLE sanyi_pricing_setting (
            id bigserial PRIMARY KEY,
            name text NOT NULL,
            scope text NOT NULL DEFAULT '',
            value jsonb NOT NULL,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            created_by text NOT NULL
        )
    """)
    op.execute("CREATE INDEX sanyi_pricing_setting_name ON sanyi_pricing_setting (name, scope, id)")
    for table in APPEND_ONLY:
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")


def downgrade() -> None:
    for table in APPEND_ONLY:
        op.execute(f"DROP TABLE IF EXISTS {table}")
    op.execute("DROP FUNCTION IF EXISTS sanyi_refuse_change()")
