#!/usr/bin/env bash
# The whole suite: lint (ruff), type check (mypy: pure packages and common/), then pytest:
# unit (no CKAN), integration (CKAN fixtures on PostgreSQL + Redis), browser.
# CKAN_TEST_INI picks another test configuration (e.g. a separate database).
# SANYI_SKIP_CHECKS=1 runs pytest alone (e.g. while iterating on one test).
# The fast lane: the unit tests alone (pure code; CKAN's plugin is left out, no database),
# about a minute: `SANYI_SKIP_CHECKS=1 bash tests/run.sh tests/unit` (or `... -m unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${SANYI_SKIP_CHECKS:-}" ]]; then
    .venv/bin/ruff check --quiet .
    .venv/bin/mypy --config-file mypy.ini --no-error-summary
fi
exec .venv/bin/python -m pytest --ckan-ini="${CKAN_TEST_INI:-test.ini}" "$@"
