"""Hash chains of the audit log and the data-flow ledger, and their signed checkpoints.

* ``sanyi_chain_head``: one row per log (``audit``, ``ledger``): its length (the ``seq`` of
  the newest row) and the ``row_hash`` of that row (64 zeros for an empty log).
* ``sanyi_audit`` gains ``seq``, ``prev_hash`` and ``row_hash`` (the ledger has them since
  0008). A BEFORE INSERT trigger on each log, whoever inserts (CKAN's session, the gateway's
  own connection, a raw INSERT), locks the log's head row (held until the inserting
  transaction ends, so concurrent writers queue and cannot fork the chain), sets ``seq`` =
  length + 1, ``prev_hash`` = the previous row's hash and ``row_hash`` = SHA-256 of the row's
  canonical serialization (``sanyi_audit_canonical`` / ``sanyi_ledger_canonical``, specified
  and reproduced in Python by ``ckanext.sanyi.domain.chain``); an AFTER INSERT statement
  trigger moves the head. A TRUNCATE of a log (the test fixtures) empties its head as well.
* Existing rows are chained here, in id order.
* ``sanyi_checkpoint``: signed checkpoints (Ed25519) of a log's length and head, each naming
  the hash of the one before (``previous``); ``kind = 'archive'`` records an archived (and
  then deleted) range of whole months. Append-only.
* Retention: the audit table now refuses UPDATE always and DELETE of a row younger than three
  years, as the ledger does (before, it refused every DELETE).

Revision ID: 0010_hash_chains
Revises: 0009_delivery_supervision
Create Date: 2026-12-02
"""
from alembic import op

revision = "0010_hash_chains"
down_revision = "0009_delivery_supervision"
branch_labels = None
depends_on = None

GENESIS = "0" * 64

# Keep in step with ckanext.sanyi.domain.chain (FIELDS, canonical_text).
_TS = """
    CREATE OR REPLACE FUNCTION sanyi_chain_ts(ts timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    $$
"""
_WRAP = """
    CREATE OR REPLACE FUNCTION sanyi_chain_wrap(value jsonb) RETURNS jsonb
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT CASE WHEN value IS NULL THEN NULL ELSE jsonb_build_array(value) END
    $$
"""
# ``record``, not the tables' row types: a function depending on a row type would stop a
# DROP TABLE (CKAN's test reset drops the tables).
_AUDIT_CANONICAL = """
    CREATE OR REPLACE FUNCTION sanyi_audit_canonical(r record) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    BEGIN
        RETURN jsonb_build_array(
            'sanyi-chain/1', 'audit', r.seq, r.id, r.actor, r.action, r.object_type,
            r.object_id, sanyi_chain_wrap(r.before), sanyi_chain_wrap(r.after),
            sanyi_chain_ts(r.created), r.prev_hash)::text;
    END
    $$
"""
_LEDGER_CANONICAL = """
    CREATE OR REPLACE FUNCTION sanyi_ledger_canonical(r record) RETURNS text
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
    BEGIN
        RETURN jsonb_build_array(
            'sanyi-chain/1', 'ledger', r.seq, r.id, sanyi_chain_ts(r.at), r.request_id,
            r.merchant_id, r.client_id, r.entitlement_id, r.product, r.operation, r.outcome,
            r.error, r.units, r.input_hash, sanyi_chain_wrap(r.fields_read),
            to_jsonb(r.resources), r.answer_bytes, r.latency_ms, r.prev_hash)::text;
    END
    $$
"""
# The head row is locked (FOR UPDATE, until the transaction ends) for every row but updated
# once per statement (``sanyi_chain_moved``): the previous row is the log's row of highest seq
# (rows inserted earlier by the same statement are visible to a BEFORE ROW trigger), or the
# head when that is further (everything archived, a tail removed). Updating the head row for
# each row would leave one dead version per row inside the transaction, and each lock then
# walks them all: a statement of 10,000 rows would cost quadratic time.
_APPEND = """
    CREATE OR REPLACE FUNCTION sanyi_{log}_chain() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        head record;
        last record;
    BEGIN
        SELECT length, head_hash INTO head FROM sanyi_chain_head
         WHERE log = '{log}' FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO sanyi_chain_head (log, length, head_hash)
            VALUES ('{log}', 0, '{genesis}') ON CONFLICT (log) DO NOTHING;
            SELECT length, head_hash INTO head FROM sanyi_chain_head
             WHERE log = '{log}' FOR UPDATE;
        END IF;
        SELECT seq, row_hash INTO last FROM {table}
         WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
        IF FOUND AND last.seq > head.length THEN
            head.length := last.seq;
            head.head_hash := last.row_hash;
        END IF;
        NEW.seq := head.length + 1;
        NEW.prev_hash := head.head_hash;
        NEW.row_hash := encode(sha256(convert_to(sanyi_{log}_canonical(NEW), 'UTF8')), 'hex');
        RETURN NEW;
    END
    $$
"""
_MOVED = """
    CREATE OR REPLACE FUNCTION sanyi_chain_moved() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE sanyi_chain_head h
           SET length = m.seq, head_hash = m.row_hash, updated = clock_timestamp()
          FROM (SELECT seq, row_hash FROM inserted WHERE seq IS NOT NULL
                 ORDER BY seq DESC LIMIT 1) m
         WHERE h.log = TG_ARGV[0] AND m.seq > h.length;
        RETURN NULL;
    END
    $$
"""
_TRUNCATED = """
    CREATE OR REPLACE FUNCTION sanyi_chain_truncated() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM sanyi_chain_head WHERE log = TG_ARGV[0];
        RETURN NULL;
    END
    $$
"""
_BACKFILL = """
    DO $$
    DECLARE
        r {table};
        prev text := '{genesis}';
        n bigint := 0;
    BEGIN
        FOR r IN SELECT * FROM {table} ORDER BY id LOOP
            n := n + 1;
            r.seq := n;
            r.prev_hash := prev;
            r.row_hash := encode(sha256(convert_to(sanyi_{log}_canonical(r), 'UTF8')), 'hex');
            UPDATE {table} SET seq = r.seq, prev_hash = r.prev_hash, row_hash = r.row_hash
             WHERE id = r.id;
            prev := r.row_hash;
        END LOOP;
        INSERT INTO sanyi_chain_head (log, length, head_hash) VALUES ('{log}', n, prev);
    END
    $$
"""
_AUDIT_GUARD = """
    CREATE OR REPLACE FUNCTION sanyi_audit_guard() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.created < clock_timestamp() - interval '3 years' THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'sanyi_audit: row % is younger than the 3-year retention, '
                            'DELETE refused', OLD.id;
        END IF;
        RAISE EXCEPTION 'sanyi_audit is append-only: UPDATE refused';
    END
    $$
"""
LOGS = (("audit", "sanyi_audit", "sanyi_audit_append_only"),
        ("ledger", "sanyi_ledger", "sanyi_ledger_append_only"))


def upgrade() -> None:
    op.execute("""
        CREATE TABLE sanyi_chain_head (
            log text PRIMARY KEY CHECK (log IN ('audit', 'ledger')),
            length bigint NOT NULL CHECK (length >= 0),
            head_hash text NOT NULL CHECK (head_hash ~ '^[0-9a-f]{64}$'),
            updated timestamptz NOT NULL DEFAULT clock_timestamp()
        ) WITH (fillfactor = 10)
    """)
    op.execute("ALTER TABLE sanyi_audit ADD COLUMN seq bigint UNIQUE, "
               "ADD COLUMN prev_hash text, ADD COLUMN row_hash text")
    for sql in (_TS, _WRAP, _AUDIT_CANONICAL, _LEDGER_CANONICAL, _TRUNCATED, _MOVED):
        op.execute(sql)
    for log, table, guard in LOGS:
        op.execute(_APPEND.format(log=log, table=table, genesis=GENESIS))
        op.execute(f"ALTER TABLE {table} DISABLE TRIGGER {guard}")
        op.execute(_BACKFILL.format(log=log, table=table, genesis=GENESIS))
        op.execute(f"ALTER TABLE {table} ENABLE TRIGGER {guard}")
        op.execute(f"CREATE TRIGGER {table}_chain BEFORE INSERT ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION sanyi_{log}_chain()")
        op.execute(f"CREATE TRIGGER {table}_chain_head AFTER INSERT ON {table} "
                   "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION sanyi_chain_moved('{log}')")
        op.execute(f"CREATE TRIGGER {table}_truncated AFTER TRUNCATE ON {table} "
                   f"FOR EACH STATEMENT EXECUTE FUNCTION sanyi_chain_truncated('{log}')")
    op.execute(_AUDIT_GUARD)
    op.execute("DROP TRIGGER sanyi_audit_append_only ON sanyi_audit")
    op.execute("CREATE TRIGGER sanyi_audit_append_only BEFORE UPDATE OR DELETE ON sanyi_audit "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_audit_guard()")
    op.execute("""
        CREATE TABLE sanyi_checkpoint (
            id bigserial PRIMARY KEY,
            log text NOT NULL CHECK (log IN ('audit', 'ledger')),
            kind text NOT NULL DEFAULT 'checkpoint' CHECK (kind IN ('checkpoint', 'archive')),
            length bigint NOT NULL CHECK (length >= 0),
            head_hash text NOT NULL CHECK (head_hash ~ '^[0-9a-f]{64}$'),
            signed_at timestamptz NOT NULL,
            previous text NOT NULL CHECK (previous ~ '^[0-9a-f]{64}$'),
            archived_from bigint,
            archived_to bigint,
            archived_month text CHECK (archived_month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
            archive_sha256 text CHECK (archive_sha256 ~ '^[0-9a-f]{64}$'),
            statement text NOT NULL,
            statement_hash text NOT NULL UNIQUE CHECK (statement_hash ~ '^[0-9a-f]{64}$'),
            signature text NOT NULL,
            key_id text NOT NULL,
            public_key text NOT NULL,
            created_by text NOT NULL,
            CHECK ((kind = 'archive') = (archived_from IS NOT NULL AND archived_to IS NOT NULL
                                         AND archived_month IS NOT NULL
                                         AND archive_sha256 IS NOT NULL)),
            CHECK (archived_from IS NULL OR archived_from <= archived_to)
        )
    """)
    op.execute("CREATE INDEX sanyi_checkpoint_log ON sanyi_checkpoint (log, id)")
    op.execute("CREATE TRIGGER sanyi_checkpoint_append_only BEFORE UPDATE OR DELETE "
               "ON sanyi_checkpoint FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS sanyi_checkpoint")
    op.execute("DROP TRIGGER IF EXISTS sanyi_audit_append_only ON sanyi_audit")
    op.execute("CREATE TRIGGER sanyi_audit_append_only BEFORE UPDATE OR DELETE ON sanyi_audit "
               "FOR EACH ROW EXECUTE FUNCTION sanyi_refuse_change()")
    op.execute("DROP FUNCTION IF EXISTS sanyi_audit_guard()")
    for log, table, _guard in LOGS:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_chain ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_truncated ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_chain_head ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS sanyi_{log}_chain()")
    op.execute("ALTER TABLE sanyi_ledger DISABLE TRIGGER sanyi_ledger_append_only")
    op.execute("UPDATE sanyi_ledger SET seq = NULL, prev_hash = NULL, row_hash = NULL")
    op.execute("ALTER TABLE sanyi_ledger ENABLE TRIGGER sanyi_ledger_append_only")
    op.execute("ALTER TABLE sanyi_audit DROP COLUMN IF EXISTS seq, "
               "DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS row_hash")
    for name in ("sanyi_audit_canonical(record)", "sanyi_ledger_canonical(record)",
                 "sanyi_chain_wrap(jsonb)", "sanyi_chain_ts(timestamptz)",
                 "sanyi_chain_truncated()", "sanyi_chain_moved()"):
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS sanyi_chain_head")
