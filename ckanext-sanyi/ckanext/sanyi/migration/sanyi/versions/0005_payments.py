"""Orders and payments: sanyi_order, sanyi_payment_event, sanyi_refund.

* ``sanyi_order``: the fee of an approved charged application, locked at approval (amount in
  integer 分 and the quote it came from). At most one open (awaiting_payment or paid) order per
  application. A trigger refuses DELETE, any change to the locked amount or quote, any status
  move other than awaiting_payment → paid | cancelled and paid → refunded (a paid order can
  never be unpaid), and any change to the payment facts once the order has left
  awaiting_payment.
* ``sanyi_payment_event``: every payment event received (Stripe webhooks, bank-transfer
  receipts), unique by event id so a replayed or duplicated event is processed once; the
  outcome says what it did. Append-only (``sanyi_refuse_change`` from 0002).
* ``sanyi_refund``: refunds, at most one per payment (method, payment_ref); never deleted,
  amount fixed, status pending → done | failed.

Revision ID: 0005_payments
Revises: 0004_applications
Create Date: 2026-11-24
"""
from alembic import op

revision = "0005_payments"
down_revision = "0004_applications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_order (
            id text PRIMARY KEY,
            application_id text NOT NULL,
            merchant text NOT NULL,
            amount_fen bigint NOT NULL CHECK (amount_fen > 0),
            currency text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
            quote jsonb NOT NULL,
            status text NOT NULL DEFAULT 'awaiting_payment'
                CHECK (status IN ('awaiting_payment', 'paid', 'refunded', 'cancelled')),
            method text CHECK (method IN ('stripe', 'bank_transfer')),
            stripe_payment_intent_id text UNIQUE,
            payment_ref text,
            paid_at timestamptz,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            created_by text NOT NULL,
            updated timestamptz NOT NULL DEFAULT clock_timestamp(),
            CHECK (status = 'awaiting_payment' OR status = 'cancelled'
                   OR (method IS NOT NULL AND payment_ref IS NOT NULL AND paid_at IS NOT NULL))
        )
    """)
    op.execute("CREATE UNIQUE INDEX sanyi_order_open_application ON sanyi_order (application_id) "
               "WHERE status IN ('awaiting_payment', 'paid')")
    op.execute("CREATE INDEX sanyi_order_application ON sanyi_order (application_id, created)")
    op.execute("CREATE INDEX sanyi_order_merchant ON sanyi_order (merchant, created)")
    op.execute("CREATE INDEX sanyi_order_status ON sanyi_order (status, created)")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_order_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'sanyi_order: orders are never deleted';
            END IF;
            IF NEW.id <> OLD.id OR NEW.application_id <> OLD.application_id
               OR NEW.merchant <> OLD.merchant OR NEW.amount_fen <> OLD.amount_fen
               OR NEW.currency <> OLD.currency OR NEW.quote <> OLD.quote
               OR NEW.created <> OLD.created OR NEW.created_by <> OLD.created_by THEN
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
    """)
    op.execute("CREATE TRIGGER sanyi_order_guard BEFORE UPDATE OR DELETE ON sanyi_order "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_order_guard()")

    op.execute("""
        CREATE TABLE sanyi_payment_event (
            id bigserial PRIMARY KEY,
            event_id text NOT NULL UNIQUE,
            source text NOT NULL CHECK (source IN ('stripe', 'bank_transfer')),
            type text NOT NULL,
            order_id text REFERENCES sanyi_order (id),
            outcome text NOT NULL,
            payload jsonb NOT NULL,
            received timestamptz NOT NULL DEFAULT clock_timestamp()
        )
    """)
    op.execute("CREATE INDEX sanyi_payment_event_order ON sanyi_payment_event (order_id, id)")
    op.execute("CREATE TRIGGER sanyi_payment_event_append_only BEFORE UPDATE OR DELETE "
               "ON sanyi_payment_event FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")

    op.execute("""
        CREATE TABLE sanyi_refund (
            id text PRIMARY KEY,
            order_id text NOT NULL REFERENCES sanyi_order (id),
            application_id text NOT NULL,
            amount_fen bigint NOT NULL CHECK (amount_fen > 0),
            currency text NOT NULL DEFAULT 'CNY' CHECK (currency = 'CNY'),
            method text NOT NULL CHECK (method IN ('stripe', 'bank_transfer')),
            payment_ref text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('revocation', 'surplus')),
            reason text NOT NULL,
            status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
            stripe_refund_id text UNIQUE,
            reference text,
            created timestamptz NOT NULL DEFAULT clock_timestamp(),
            created_by text NOT NULL,
            completed_at timestamptz,
            completed_by text,
            UNIQUE (method, payment_ref)
        )
    """)
    op.execute("CREATE INDEX sanyi_refund_order ON sanyi_refund (order_id)")
    op.execute("CREATE INDEX sanyi_refund_status ON sanyi_refund (status, created)")
    op.execute("""
        CREATE OR REPLACE FUNCTION sanyi_refund_guard() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'sanyi_refund: refunds are never deleted';
            END IF;
            IF NEW.id <> OLD.id OR NEW.order_id <> OLD.order_id
               OR NEW.amount_fen <> OLD.amount_fen OR NEW.method <> OLD.method
               OR NEW.payment_ref <> OLD.payment_ref OR NEW.created <> OLD.created THEN
                RAISE EXCEPTION 'sanyi_refund: the refund''s amount and payment never change';
            END IF;
            IF NEW.status <> OLD.status
               AND NOT (OLD.status = 'pending' AND NEW.status IN ('done', 'failed')) THEN
                RAISE EXCEPTION 'sanyi_refund: status % -> % refused', OLD.status, NEW.status;
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER sanyi_refund_guard BEFORE UPDATE OR DELETE ON sanyi_refund "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_refund_guard()")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_refund")
    op.execute("DROP TABLE IF EXISTS sanyi_payment_event")
    op.execute("DROP TABLE IF EXISTS sanyi_order")
    op.execute("DROP FUNCTION IF EXISTS sanyi_refund_guard()")
    op.execute("DROP FUNCTION IF EXISTS sanyi_order_guard()")
