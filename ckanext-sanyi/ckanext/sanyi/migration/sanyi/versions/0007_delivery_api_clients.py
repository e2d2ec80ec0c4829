"""API clients and access tokens of the delivery gateway: sanyi_api_client, sanyi_api_token.

* ``sanyi_api_client``: an OAuth 2.0 client (client credentials grant) of one entitlement;
  ``client_id`` public and unique, the secret only as a slow hash; status active → revoked
  (never back: a trigger refuses it, and refuses DELETE); one active client of a name per
  entitlement.
* ``sanyi_api_token``: SHA-256 of each access token issued (primary key: the gateway finds a
  token by it), its client, entitlement, scope, issue and expiry times, revocation time.

Revision ID: 0007_delivery_api_clients
Revises: 0006_data_processors
Create Date: 2026-12-01
"""
from alembic import op

revision = "0007_delivery_api_clients"
down_revision = "0006_data_processors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_api_client (
            id text PRIMARY KEY,
            client_id text NOT NULL UNIQUE,
            secret_hash text NOT NULL,
            entitlement_id text NOT NULL,
            merchant_id text NOT NULL,
            name text NOT NULL,
            scope text NOT NULL,
            status text NOT NULL CHECK (status IN ('active', 'revoked')),
            created_by text NOT NULL,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            rotated timestamptz,
            revoked_at timestamptz,
            CHECK ((status = 'revoked') = (revoked_at IS NOT NULL))
        )
    """)
    op.execute("CREATE UNIQUE INDEX sanyi_api_client_active_name ON sanyi_api_client "
               "(entitlement_id, name) WHERE status = 'active'")
    op.execute("CREATE INDEX sanyi_api_client_merchant ON sanyi_api_client (merchant_id, created)")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_api_client_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'sanyi_api_client: clients are revoked, never deleted';
            END IF;
            IF NEW.id <> OLD.id OR NEW.client_id <> OLD.client_id
               OR NEW.entitlement_id <> OLD.entitlement_id OR NEW.merchant_id <> OLD.merchant_id
               OR NEW.created <> OLD.created OR NEW.created_by <> OLD.created_by THEN
                RAISE EXCEPTION 'sanyi_api_client: identity of a client never changes';
            END IF;
            IF OLD.status = 'revoked' AND (NEW.status <> 'revoked'
               OR NEW.secret_hash <> OLD.secret_hash) THEN
                RAISE EXCEPTION 'sanyi_api_client: a revoked client stays revoked';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER sanyi_api_client_guard BEFORE UPDATE OR DELETE ON sanyi_api_client "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_api_client_guard()")
    op.execute("""
        CREATE TABLE sanyi_api_token (
            token_hash text PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
            api_client_id text NOT NULL REFERENCES sanyi_api_client (id),
            entitlement_id text NOT NULL,
            scope text NOT NULL,
            issued_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz,
            CHECK (expires_at > issued_at)
        )
    """)
    op.execute("CREATE INDEX sanyi_api_token_client ON sanyi_api_token (api_client_id) "
               "WHERE revoked_at IS NULL")
    op.execute("CREATE INDEX sanyi_api_token_entitlement ON sanyi_api_token (entitlement_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_api_token")
    op.execute("DROP TABLE IF EXISTS sanyi_api_client")
    op.execute("DROP FUNCTION IF EXISTS sanyi_api_client_guard()")
