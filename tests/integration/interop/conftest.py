"""The DCAT and harvest tests' world (``interop_world.build``), built once per module while
the tests only read, and helpers to fetch and parse the RDF endpoints."""
from __future__ import annotations

import pytest


@pytest.fixture
def interop(sanyi_orgs, sanyi_db, request):
    from interop_world import build
    return sanyi_db.layer(request, lambda: build(sanyi_orgs))
