"""Human references of applications and orders: ``SQ-2026-000123``, ``DD-2026-000045``.

``sanyi_application.human_ref`` and ``sanyi_order.human_ref``: assigned by the database when a
row is inserted (a BEFORE INSERT trigger, whoever inserts), a sequence per prefix and year
(the year of the row's ``created`` in Beijing time), kept in ``sanyi_reference_counter``: the
counter row is locked by the upsert that takes the next number, so concurrent inserts never
share one and a year's numbers have no gaps but those of rolled-back inserts. Existing rows
get theirs in the order they were created. Pages show these; ids stay in URLs and the API.

Revision ID: 0014_human_references
Revises: 0013_merchant_licence
Create Date: 2026-12-02
"""
from alembic import op

revision = "0014_human_references"
down_revision = "0013_merchant_licence"
branch_labels = None
depends_on = None

TABLES = (("sanyi_application", "SQ"), ("sanyi_order", "DD"))


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_reference_counter (
            prefix text NOT NULL,
            year integer NOT NULL,
            last integer NOT NULL,
            PRIMARY KEY (prefix, year)
        );
        CREATE OR REPLACE FUNCTION sanyi_next_reference(p_prefix text, p_at timestamptz) RETURNS text
        LANGUAGE plpgsql AS $$
        DECLARE
            y integer := extract(year FROM (p_at AT TIME ZONE 'Asia/Shanghai'))::integer;
            n integer;
        BEGIN
            INSERT INTO sanyi_reference_counter AS c (prefix, year, last) VALUES (p_prefix, y, 1)
            ON CONFLICT (prefix, year) DO UPDATE SET last = c.last + 1
            RETURNING c.last INTO n;
            RETURN p_prefix || '-' || y || '-' || lpad(n::text, 6, '0');
        END $$;
        CREATE OR REPLACE FUNCTION sanyi_assign_reference() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.human_ref IS NULL THEN
                NEW.human_ref := sanyi_next_reference(TG_ARGV[0],
                                                      coalesce(NEW.created, clock_timestamp()));
            END IF;
            RETURN NEW;
        END $$;
    """)
    for table, prefix in TABLES:
        op.execute(f"""
            ALTER TABLE {table} ADD COLUMN human_ref text;
            DO $$
            DECLARE r record;
            BEGIN
                FOR r IN SELECT id, created FROM {table} ORDER BY created, id LOOP
                    UPDATE {table} SET human_ref = sanyi_next_reference('{prefix}', r.created)
                    WHERE id = r.id;
                END LOOP;
            END $$;
            ALTER TABLE {table} ALTER COLUMN human_ref SET NOT NULL;
            ALTER TABLE {table} ADD CONSTRAINT {table}_human_ref_key UNIQUE (human_ref);
            CREATE TRIGGER {table}_human_ref BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION sanyi_assign_reference('{prefix}');
        """)


def downgrade() -> None:
    for table, _prefix in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_human_ref ON {table}; "
                   f"ALTER TABLE {table} DROP COLUMN IF EXISTS human_ref;")
    op.execute("DROP FUNCTION IF EXISTS sanyi_assign_reference(); "
               "DROP FUNCTION IF EXISTS sanyi_next_reference(text, timestamptz); "
               "DROP TABLE IF EXISTS sanyi_reference_counter;")
