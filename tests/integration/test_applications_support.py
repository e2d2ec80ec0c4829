"""The application tests' helpers under their former module name, for tests that still import
them from here (tests/integration/delivery/clients_support.py). New code imports
``applications_support`` (tests/integration/applications/) and gets ``world`` from
tests/integration/conftest.py without importing it; this module goes once nothing imports it."""
from __future__ import annotations

import pytest
from applications_support import *  # noqa: F403
from applications_support import __all__ as _helpers


@pytest.fixture
def world(world):
    """The ``world`` of tests/integration/conftest.py, for ``from ... import world``."""
    return world


__all__ = [*_helpers, "world"]
