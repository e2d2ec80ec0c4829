"""``csrf_token`` of tests/conftest.py, for the delivery tests that post forms.

pytest imports every conftest.py under the name ``conftest``, so the nearer conftest files of
this folder shadow tests/conftest.py; it is loaded here from its path under another name.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "sanyi_tests_conftest", Path(__file__).resolve().parents[2] / "conftest.py")
assert _spec and _spec.loader
_root = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_root)
csrf_token = _root.csrf_token  # the CSRF token a page hands the current session
