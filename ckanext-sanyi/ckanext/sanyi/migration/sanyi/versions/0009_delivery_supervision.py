"""Over-scope supervision and monthly statements of the delivery gateway.

* ``sanyi_alert``: refusals of one kind (out_of_scope, data_items_exceeded, quota_exhausted,
  suspended) for one entitlement, counted with their first and last time while the alert is
  open; at most one open alert per entitlement and kind (partial unique index). The bureau's
  decision (confirm, dismiss, revoke) resolves it; resolved alerts stay.
* ``sanyi_alert_watch``: per entitlement, what the suspension rule remembers (the times of
  the latest over-scope refusals, when the merchant was first told its quota is exhausted,
  the rule's suspension pending verification); each refusal locks the row.
* ``sanyi_statement``: an entitlement's monthly statement (``YYYY-MM``, Beijing months) of
  granted calls and its amount in fen, at most one per entitlement and month; the counted
  figures never change (trigger), status awaiting_payment → paid, or no_charge.
* ``sanyi_order`` gains ``kind`` (``application``: the fee locked at approval, as before;
  ``statement``: a monthly statement, ``reference`` = the statement id). The one open order
  per application now holds for application fees only; a statement has one open order. The
  order guard keeps kind and reference unchanged too.

Revision ID: 0009_delivery_supervision
Revises: 0008_delivery_ledger
Create Date: 2026-12-02
"""
from alembic import op

revision = "0009_delivery_supervision"
down_revision = "0008_delivery_ledger"
branch_labels = None
depends_on = None

_ORDER_GUARD = """
    CREATE OR REPLACE FUNCTION sanyi_order_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'sanyi_order: orders are never deleted';
        END IF;
        IF NEW.id <> OLD.id OR NEW.application_id <> OLD.application_id
           OR NEW.merchant <> OLD.merchant OR NEW.amount_fen <> OLD.amount_fen
           OR NEW.currency <> OLD.currency OR NEW.quote <> OLD.quote
           OR NEW.created <> OLD.created OR NEW.created_by <> OLD.created_by
           {extra} THEN
            RAISE EXCEPTION 'sanyi_order: the locked amount and quote never change';
        END IF;
        IF NEW.status <> OLD.status AND NOT (
               (OLD.status = 'awaiting_payment' AND NEW.status IN ('paid', 'cancelled'))
            OR (OLD.status = 'paid' AND NEW.status = 'refunded')) THEN
            RAISE EXCEPTION 'sanyi_order: status % -> % refused', OLD.status, NEW.status;
        END IF;
        IF OLD.status <> 'awaiting_payment' AND (
               NEW.method IS DISTINCT FROM OLD.method
            OR NEW.payment_ref IS DISTINCT FROM OLD.payment_ref
            OR NEW.paid_at IS DISTINCT FROM OLD.paid_at
            OR NEW.stripe_payment_intent_id IS DISTINCT FROM OLD.stripe_payment_intent_id) THEN
            RAISE EXCEPTION 'sanyi_order: payment facts never change once paid or closed';
        END IF;
        RETURN NEW;
    END
    $$
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_alert (
            id bigserial PRIMARY KEY,
            entitlement_id text NOT NULL,
            application_id text NOT NULL,
            merchant_id text NOT NULL,
            product text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('out_of_scope', 'data_items_exceeded',
                                               'quota_exhausted', 'suspended')),
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
            count integer NOT NULL DEFAULT 1 CHECK (count > 0),
            first_at timestamptz NOT NULL,
            last_at timestamptz NOT NULL,
            last_operation text NOT NULL DEFAULT '',
            suspended boolean NOT NULL DEFAULT false,
            decision text CHECK (decision IN ('confirm', 'dismiss', 'revoke')),
            decided_by text,
            decided_at timestamptz,
            comment text,
            CHECK (first_at <= last_at),
            CHECK ((status = 'resolved') = (decision IS NOT NULL AND decided_at IS NOT NULL))
        )
    """)
    op.execute("CREATE UNIQUE INDEX sanyi_alert_open ON sanyi_alert (entitlement_id, kind) "
               "WHERE status = 'open'")
    op.execute("CREATE INDEX sanyi_alert_status ON sanyi_alert (status, last_at)")
    op.execute("CREATE INDEX sanyi_alert_merchant ON sanyi_alert (merchant_id, last_at)")
    op.execute("""
        CREATE TABLE sanyi_alert_watch (
            entitlement_id text PRIMARY KEY,
            recent timestamptz[] NOT NULL DEFAULT '{}',
            quota_told_at timestamptz,
            suspended_at timestamptz,
            suspended_alert_id bigint REFERENCES sanyi_alert (id),
            reason text,
            confirmed_at timestamptz,
            updated timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("""
        CREATE TABLE sanyi_statement (
            id text PRIMARY KEY,
            entitlement_id text NOT NULL,
            application_id text NOT NULL,
            merchant_id text NOT NULL,
            product_id text NOT NULL,
            product_name text NOT NULL,
            month text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
            calls bigint NOT NULL CHECK (calls >= 0),
            amount_fen bigint NOT NULL CHECK (amount_fen >= 0),
            quote jsonb NOT NULL,
            order_id text,
            status text NOT NULL CHECK (status IN ('awaiting_payment', 'paid', 'no_charge')),
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            created_by text NOT NULL,
            paid_at timestamptz,
            UNIQUE (entitlement_id, month),
            CHECK ((status = 'no_charge') = (amount_fen = 0)),
            CHECK (status = 'no_charge' OR order_id IS NOT NULL)
        )
    """)
    op.execute("CREATE INDEX sanyi_statement_merchant ON sanyi_statement (merchant_id, month)")
    op.execute("CREATE INDEX sanyi_statement_month ON sanyi_statement (month)")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_statement_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'sanyi_statement: statements are never deleted';
            END IF;
            IF NEW.id <> OLD.id OR NEW.entitlement_id <> OLD.entitlement_id
               OR NEW.month <> OLD.month OR NEW.calls <> OLD.calls
               OR NEW.amount_fen <> OLD.amount_fen OR NEW.quote <> OLD.quote
               OR NEW.order_id IS DISTINCT FROM OLD.order_id
               OR NEW.created <> OLD.created THEN
                RAISE EXCEPTION 'sanyi_statement: the counted calls and the amount never change';
            END IF;
            IF NEW.status <> OLD.status
               AND NOT (OLD.status = 'awaiting_payment' AND NEW.status = 'paid') THEN
                RAISE EXCEPTION 'sanyi_statement: status % -> % refused', OLD.status, NEW.status;
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER sanyi_statement_guard BEFORE UPDATE OR DELETE ON sanyi_statement "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_statement_guard()")

    op.execute("ALTER TABLE sanyi_order ADD COLUMN kind text NOT NULL DEFAULT 'application' "
               "CHECK (kind IN ('application', 'statement'))")
    op.execute("ALTER TABLE sanyi_order ADD COLUMN reference text")
    op.execute("ALTER TABLE sanyi_order ADD CONSTRAINT sanyi_order_statement_reference "
               "CHECK ((kind = 'statement') = (reference IS NOT NULL))")
    op.execute("DROP INDEX sanyi_order_open_application")
    op.execute("CREATE UNIQUE INDEX sanyi_order_open_application ON sanyi_order (application_id) "
               "WHERE status IN ('awaiting_payment', 'paid') AND kind = 'application'")
    op.execute("CREATE UNIQUE INDEX sanyi_order_open_statement ON sanyi_order (reference) "
               "WHERE status IN ('awaiting_payment', 'paid') AND kind = 'statement'")
    op.execute(_ORDER_GUARD.format(
        extra="OR NEW.kind <> OLD.kind OR NEW.reference IS DISTINCT FROM OLD.reference"))


def downgrade() -> None:
    # Refused by the old unique index while a statement's order is open beside its
    # application's: orders are never deleted, so such a database cannot go back.
    op.execute(_ORDER_GUARD.format(extra=""))
    op.execute("DROP INDEX IF EXISTS sanyi_order_open_statement")
    op.execute("DROP INDEX IF EXISTS sanyi_order_open_application")
    op.execute("CREATE UNIQUE INDEX sanyi_order_open_application ON sanyi_order (application_id) "
               "WHERE status IN ('awaiting_payment', 'paid')")
    op.execute("ALTER TABLE sanyi_order DROP CONSTRAINT IF EXISTS sanyi_order_statement_reference")
    op.execute("ALTER TABLE sanyi_order DROP COLUMN IF EXISTS reference")
    op.execute("ALTER TABLE sanyi_order DROP COLUMN IF EXISTS kind")
    op.execute("DROP TABLE IF EXISTS sanyi_statement")
    op.execute("DROP FUNCTION IF EXISTS sanyi_statement_guard()")
    op.execute("DROP TABLE IF EXISTS sanyi_alert_watch")
    op.execute("DROP TABLE IF EXISTS sanyi_alert")
