"""Merchants, applications (graded approval), review comments, attachments, entitlements and
portal notifications (payments have their own tables).

* ``sanyi_application.version`` is bumped on every change; the service also locks the row
  (``SELECT ... FOR UPDATE``) so two reviewers acting at once cannot both win.
* ``sanyi_application_review`` (review comments) is append-only, like ``sanyi_audit``: the
  trigger function ``sanyi_refuse_change`` of 0002 refuses UPDATE and DELETE.
* Nothing here is ever deleted: attachments are marked ``removed``; entitlements end by status.

Revision ID: 0004_applications
Revises: 0003_search_index_split
Create Date: 2026-11-24
"""
from alembic import op

revision = "0004_applications"
down_revision = "0003_search_index_split"
branch_labels = None
depends_on = None

_NOW = "timestamptz NOT NULL DEFAULT clock_timestamp()"


def upgrade() -> None:
    op.execute(f"""
        CREATE TABLE sanyi_merchant (
            id text PRIMARY KEY,
            user_id text NOT NULL UNIQUE,
            company_name text NOT NULL,
            credit_code text NOT NULL UNIQUE,
            contact_name text NOT NULL,
            contact_phone text NOT NULL,
            contact_email text NOT NULL DEFAULT '',
            enterprise_size text NOT NULL
                CHECK (enterprise_size IN ('micro', 'small', 'medium', 'large')),
            status text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'verified', 'rejected')),
            verify_comment text NOT NULL DEFAULT '',
            verified_by text,
            verified_at timestamptz,
            created {_NOW},
            modified {_NOW}
        )
    """)
    op.execute("CREATE INDEX sanyi_merchant_status ON sanyi_merchant (status, created)")
    op.execute(f"""
        CREATE TABLE sanyi_application (
            id text PRIMARY KEY,
            merchant_id text NOT NULL REFERENCES sanyi_merchant (id),
            applicant_id text NOT NULL,
            product_id text NOT NULL,
            product_name text NOT NULL,
            product_title text NOT NULL DEFAULT '',
            scenario text NOT NULL,
            use text NOT NULL CHECK (use IN ('public_interest', 'industrial')),
            purpose text NOT NULL,
            data_items jsonb NOT NULL DEFAULT '[]',
            period_start date NOT NULL,
            period_end date NOT NULL CHECK (period_end >= period_start),
            expected_volume bigint NOT NULL CHECK (expected_volume > 0),
            billing_unit text NOT NULL,
            quantity bigint NOT NULL CHECK (quantity > 0),
            status text NOT NULL,
            required_units jsonb NOT NULL DEFAULT '[]',
            unit_decisions jsonb NOT NULL DEFAULT '{{}}',
            quote jsonb,
            order_id text,
            payment_ref text,
            version integer NOT NULL DEFAULT 1,
            created {_NOW},
            modified {_NOW},
            submitted timestamptz,
            decided timestamptz
        )
    """)
    op.execute("CREATE INDEX sanyi_application_merchant ON sanyi_application (merchant_id, created)")
    op.execute("CREATE INDEX sanyi_application_status ON sanyi_application (status, modified)")
    op.execute("CREATE INDEX sanyi_application_units ON sanyi_application "
               "USING gin (required_units jsonb_path_ops)")
    op.execute(f"""
        CREATE TABLE sanyi_application_review (
            id bigserial PRIMARY KEY,
            application_id text NOT NULL REFERENCES sanyi_application (id),
            actor text NOT NULL,
            role text NOT NULL,
            unit text NOT NULL DEFAULT '',
            decision text NOT NULL CHECK (decision IN ('approve', 'reject', 'return')),
            comment text NOT NULL DEFAULT '',
            created {_NOW}
        )
    """)
    op.execute("CREATE INDEX sanyi_application_review_app ON sanyi_application_review "
               "(application_id, id)")
    op.execute("CREATE TRIGGER sanyi_application_review_append_only BEFORE UPDATE OR DELETE "
               "ON sanyi_application_review FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")
    op.execute(f"""
        CREATE TABLE sanyi_application_attachment (
            id text PRIMARY KEY,
            application_id text NOT NULL REFERENCES sanyi_application (id),
            kind text NOT NULL CHECK (kind IN ('file', 'url')),
            name text NOT NULL,
            url text NOT NULL DEFAULT '',
            storage_key text NOT NULL DEFAULT '',
            size bigint,
            mimetype text NOT NULL DEFAULT '',
            state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'removed')),
            uploaded_by text NOT NULL,
            created {_NOW}
        )
    """)
    op.execute("CREATE INDEX sanyi_application_attachment_app ON sanyi_application_attachment "
               "(application_id, created)")
    op.execute(f"""
        CREATE TABLE sanyi_entitlement (
            id text PRIMARY KEY,
            application_id text NOT NULL UNIQUE REFERENCES sanyi_application (id),
            merchant_id text NOT NULL REFERENCES sanyi_merchant (id),
            product_id text NOT NULL,
            product_name text NOT NULL,
            purpose text NOT NULL,
            use text NOT NULL,
            data_items jsonb NOT NULL DEFAULT '[]',
            period_start date NOT NULL,
            period_end date NOT NULL,
            quota bigint NOT NULL,
            quota_unit text NOT NULL,
            status text NOT NULL CHECK (status IN ('active', 'suspended', 'expired', 'revoked')),
            created {_NOW},
            modified {_NOW},
            ended timestamptz
        )
    """)
    op.execute("CREATE INDEX sanyi_entitlement_merchant ON sanyi_entitlement (merchant_id)")
    op.execute("CREATE INDEX sanyi_entitlement_due ON sanyi_entitlement (status, period_end)")
    op.execute(f"""
        CREATE TABLE sanyi_notification (
            id bigserial PRIMARY KEY,
            user_id text NOT NULL,
            object_type text NOT NULL,
            object_id text NOT NULL,
            subject_zh text NOT NULL,
            subject_en text NOT NULL,
            link text NOT NULL DEFAULT '',
            created {_NOW},
            read_at timestamptz
        )
    """)
    op.execute("CREATE INDEX sanyi_notification_user ON sanyi_notification (user_id, read_at, id)")


def downgrade() -> None:
    for table in ("sanyi_notification", "sanyi_entitlement", "sanyi_application_attachment",
                  "sanyi_application_review", "sanyi_application", "sanyi_merchant"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
