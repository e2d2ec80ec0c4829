"""The fast lane: every test under tests/unit is pure code (no CKAN, no database) and gets the
``unit`` marker here, so ``pytest tests/unit`` and ``pytest -m unit`` run just these; in
either case tests/conftest.py leaves CKAN's pytest plugin out (no configuration, no app)."""
from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.unit)
