#!/usr/bin/env bash
# The whole suite: unit (no CKAN), integration (CKAN fixtures on PostgreSQL + Redis), browser.
# CKAN_TEST_INI picks another test configuration (e.g. a separate database).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest --ckan-ini="${CKAN_TEST_INI:-test.ini}" "$@"
