#!/usr/bin/env bash
# Idempotent set-up for development, CI and a fresh Debian machine (run as root or with sudo).
#   deploy/setup.sh          everything for `make run`  (portal database + demo data)
#   deploy/setup.sh test     everything for `make test` (also the test database, browser)
# Uses PostgreSQL and Redis already answering on 127.0.0.1; otherwise installs (Debian packages)
# and starts them. Safe to run again: each step checks before it acts.
set -euo pipefail
MODE=${1:-run}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${VENV:-$ROOT/.venv}
PY=${PYTHON:-python3}
DB_USER=${SANYI_DB_USER:-ckan_sanyi}
DB_PASS=${SANYI_DB_PASS:-ckan_sanyi}
DB_NAME=${SANYI_DB_NAME:-ckan_sanyi}
TEST_DB=${SANYI_TEST_DB:-ckan_sanyi_test}
INI=$ROOT/deploy/ckan.ini
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
step() { printf '\n==> %s\n' "$*"; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing Debian packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

step "system packages"
if ! { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }; then
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || apt_install postgresql postgresql-contrib
fi
command -v pg_config >/dev/null 2>&1 || apt_install libpq-dev
# uwsgi (the production server, benchmarked by bench/delivery.py) builds from source
apt_install build-essential python3-dev
if ! { command -v redis-cli >/dev/null 2>&1 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; }; then
  apt_install redis-server
fi
# fonts-noto-cjk: the Chinese of the report PDFs (WeasyPrint); poppler-utils: the tests read them
if [ "$MODE" = test ]; then apt_install chromium fonts-noto-cjk poppler-utils; else apt_install fonts-noto-cjk; fi

step "PostgreSQL on 127.0.0.1:5432"
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! pg_lsclusters -h 2>/dev/null | grep -q "^$ver main"; then $SUDO pg_createcluster "$ver" main >/dev/null; fi
  $SUDO pg_ctlcluster "$ver" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -h 127.0.0.1 -p 5432
fi
psql_admin() { if [ "$(id -u)" = 0 ]; then su postgres -c "psql -qAt $*"; else sudo -u postgres psql -qAt "$@"; fi; }
psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"" | grep -q 1 \
  || psql_admin "-c \"CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS'\""
for db in "$DB_NAME" "$TEST_DB"; do
  psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname='$db'\"" | grep -q 1 \
    || psql_admin "-c \"CREATE DATABASE $db OWNER $DB_USER ENCODING 'UTF8' TEMPLATE template0\""
  psql_admin "-d $db -c \"CREATE EXTENSION IF NOT EXISTS pg_trgm\""
done

step "Redis on 127.0.0.1:6379"
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" >/dev/null
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

step "Python virtualenv ($VENV)"
[ -x "$VENV/bin/python" ] || $PY -m venv "$VENV"
stamp=$VENV/.sanyi-deps
want=$(cat "$ROOT/setup.py" "$ROOT/requirements-dev.txt" | sha1sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$VENV/bin/pip" install -q --upgrade pip wheel setuptools
  "$VENV/bin/pip" install -q -r "$ROOT/requirements-dev.txt"
  "$VENV/bin/pip" install -q -e "$ROOT"
  echo "$want" > "$stamp"
fi
CKAN="$VENV/bin/ckan"

step "translations (ckanext-sanyi .po -> .mo)"
"$VENV/bin/pybabel" compile -D ckanext-sanyi -d "$ROOT/ckanext-sanyi/ckanext/sanyi/i18n" 2>/dev/null

step "CKAN configuration (deploy/ckan.ini, test.ini)"
[ -f "$INI" ] || "$CKAN" generate config "$INI" >/dev/null
"$CKAN" config-tool "$INI" -f "$ROOT/deploy/ckan-options.ini" >/dev/null
"$CKAN" config-tool "$INI" \
  "sqlalchemy.url=postgresql://$DB_USER:$DB_PASS@127.0.0.1/$DB_NAME" \
  "ckan.storage_path=$ROOT/deploy/storage" "ckan.redis.url=redis://127.0.0.1:6379/0" >/dev/null
mkdir -p "$ROOT/deploy/storage"

step "checkpoint signing key (ckanext.sanyi.audit.signing_key; a demo/test key when none)"
AUDIT_KEY=$(sed -n 's/^ckanext\.sanyi\.audit\.signing_key *= *//p' "$INI" | tail -n 1)
if [ -z "$AUDIT_KEY" ]; then
  AUDIT_KEY=$ROOT/deploy/audit-signing-key.pem
  "$CKAN" config-tool "$INI" "ckanext.sanyi.audit.signing_key=$AUDIT_KEY" >/dev/null
fi
[ -f "$AUDIT_KEY" ] || "$VENV/bin/python" - "$AUDIT_KEY" <<'PY'
import os, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
pem = Ed25519PrivateKey.generate().private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8,
                                                 s.NoEncryption())
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, pem)
os.close(fd)
PY

step "data domain databases (own role; CKAN's role may not connect)"
DOMAIN_URLS=$("$VENV/bin/python" - "$DB_NAME" "$TEST_DB" "$MODE" <<'PY'
import sys
from ckanext.sanyi import devtools
db, test_db, mode = sys.argv[1:4]
print(devtools.create_domain_database(f"{db}_domain"))
print(devtools.create_domain_database(f"{test_db}_domain") if mode == "test" else "")
if mode == "test":  # a data unit's own database, for the postgres_fdw tests
    devtools.ensure_role("sanyi_unit", "sanyi_unit")
    devtools.create_database("ckan_sanyi_unit_test", "sanyi_unit")
PY
)
DOMAIN_URL=$(sed -n 1p <<<"$DOMAIN_URLS"); TEST_DOMAIN_URL=$(sed -n 2p <<<"$DOMAIN_URLS")
"$CKAN" config-tool "$INI" "ckanext.sanyi.domain.url=$DOMAIN_URL" >/dev/null
"$VENV/bin/python" - "$ROOT" "postgresql://$DB_USER:$DB_PASS@127.0.0.1/$TEST_DB" "$TEST_DOMAIN_URL" <<'PY'
import sys
from ckanext.sanyi import devtools
root, url, domain_url = sys.argv[1:4]
settings = {
    "sqlalchemy.url": url, "ckan.redis.url": "redis://127.0.0.1:6379/1",
    "ckan.site_url": "http://127.0.0.1:5000", "ckan.storage_path": f"{root}/deploy/storage-test",
    "ckanext.sanyi.demo_passwords": "false", "ckanext.sanyi.demo.domain_persons": "0"}
if domain_url:
    settings["ckanext.sanyi.domain.url"] = domain_url
devtools.write_ini(f"{root}/test.ini", f"{root}/deploy/ckan.ini", settings)
PY

step "database schema and migrations"
"$CKAN" -c "$INI" db init >/dev/null
"$CKAN" -c "$INI" db pending-migrations --apply >/dev/null
"$CKAN" -c "$INI" sanyi domain init >/dev/null
if [ "$MODE" = test ]; then
  "$CKAN" -c "$ROOT/test.ini" db init >/dev/null
  "$CKAN" -c "$ROOT/test.ini" db pending-migrations --apply >/dev/null
  "$CKAN" -c "$ROOT/test.ini" sanyi domain init >/dev/null
  step "test lanes (test-lane2.ini ...: a database, data domain and Redis db of their own each)"
  "$VENV/bin/python" - "$ROOT" "$TEST_DB" "$DB_USER" "$DB_PASS" "${SANYI_TEST_LANES:-2}" <<'PY'
import sys
from ckanext.sanyi import devtools
root, test_db, owner, password, lanes = *sys.argv[1:5], int(sys.argv[5])
for lane in range(2, lanes + 1):
    db = f"{test_db}_lane{lane}"
    devtools.create_database(db, owner)
    url = devtools.create_domain_database(f"{db}_domain")
    devtools.write_ini(f"{root}/test-lane{lane}.ini", f"{root}/test.ini", {
        "sqlalchemy.url": f"postgresql://{owner}:{password}@127.0.0.1/{db}",
        "ckan.redis.url": f"redis://127.0.0.1:6379/{lane + 4}",
        "ckan.storage_path": f"{root}/deploy/storage-test-lane{lane}",
        "ckanext.sanyi.domain.url": url})
PY
  for ini in "$ROOT"/test-lane*.ini; do
    [ -f "$ini" ] || continue
    "$CKAN" -c "$ini" db init >/dev/null
    "$CKAN" -c "$ini" db pending-migrations --apply >/dev/null
    "$CKAN" -c "$ini" sanyi domain init >/dev/null
  done
fi

if [ "$MODE" = run ]; then
  step "demo data (first batch: catalog, products, organisations, accounts)"
  "$CKAN" -c "$INI" sanyi load-demo
fi
step "set-up done"
