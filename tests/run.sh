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
# The whole suite runs in SANYI_TEST_LANES lanes (default 2, one per core; pytest-xdist, each
# test file in one lane, each lane with the database, data domain and Redis db of its own that
# deploy/setup.sh prepared); a run of chosen tests runs in one lane unless SANYI_TEST_LANES is set.
lanes=${SANYI_TEST_LANES:-$([[ $# -eq 0 ]] && echo 2 || echo 1)}
parallel=()
if (( lanes > 1 )); then parallel=(-n "$lanes" --dist loadfile); fi
# the whole suite ends with its 25 slowest steps (what to trim to keep it within 30 minutes)
if [[ $# -eq 0 ]]; then parallel+=(--durations=25); fi
exec .venv/bin/python -m pytest --ckan-ini="${CKAN_TEST_INI:-test.ini}" "${parallel[@]}" "$@"
