"""The data-flow ledger of the delivery gateway: sanyi_ledger.

One row per call, granted or refused. A trigger refuses every UPDATE, and every DELETE of a
row younger than three years (the legal minimum retention; TRUNCATE, used by the test
fixtures, and DROP still work). ``units``: the quota units a granted call consumed, summed by
the partial index ``sanyi_ledger_granted`` when a quota counter is rebuilt. ``resources``: the
catalog resources of ``fields_read`` (GIN index, a data unit's rows). ``seq``, ``prev_hash``
and ``row_hash`` are empty until the ledger becomes a hash chain.

Revision ID: 0008_delivery_ledger
Revises: 0007_delivery_api_clients
Create Date: 2026-12-01
"""
from alembic import op

revision = "0008_delivery_ledger"
down_revision = "0007_delivery_api_clients"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_ledger (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            request_id text NOT NULL,
            merchant_id text,
            client_id text,
            entitlement_id text,
            product text NOT NULL DEFAULT '',
            operation text NOT NULL DEFAULT '',
            outcome text NOT NULL CHECK (outcome IN ('granted', 'refused')),
            error text,
            units integer NOT NULL DEFAULT 0 CHECK (units >= 0),
            input_hash text CHECK (input_hash ~ '^[0-9a-f]{64}$'),
            fields_read jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fields_read) = 'array'),
            resources text[] NOT NULL DEFAULT '{}',
            answer_bytes integer NOT NULL DEFAULT 0 CHECK (answer_bytes >= 0),
            latency_ms numeric(12, 3) NOT NULL DEFAULT 0 CHECK (latency_ms >= 0),
            seq bigint UNIQUE,
            prev_hash text,
            row_hash text,
            CHECK ((outcome = 'refused') = (error IS NOT NULL)),
            CHECK (outcome = 'granted' OR units = 0)
        )
    """)
    op.execute("CREATE INDEX sanyi_ledger_at ON sanyi_ledger (at)")
    op.execute("CREATE INDEX sanyi_ledger_entitlement ON sanyi_ledger (entitlement_id, at)")
    op.execute("CREATE INDEX sanyi_ledger_merchant ON sanyi_ledger (merchant_id, at)")
    op.execute("CREATE INDEX sanyi_ledger_granted ON sanyi_ledger (entitlement_id) "
               "INCLUDE (units) WHERE outcome = 'granted'")
    op.execute("CREATE INDEX sanyi_ledger_resources ON sanyi_ledger USING gin (resources)")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_ledger_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.at < clock_timestamp() - interval '3 years' THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'sanyi_ledger: row % is younger than the 3-year retention, '
                                'DELETE refused', OLD.id;
            END IF;
            RAISE EXCEPTION 'sanyi_ledger is append-only: UPDATE refused';
        END
        $$
    """)
    op.execute("CREATE TRIGGER sanyi_ledger_append_only BEFORE UPDATE OR DELETE ON sanyi_ledger "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_ledger_guard()")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_ledger")
    op.execute("DROP FUNCTION IF EXISTS sanyi_ledger_guard()")
