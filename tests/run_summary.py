"""Lines reported at the end of a run (the test database's reuse, the fuzz requests), from
every lane of a run in lanes too: a pytest-xdist worker hands its lines to the controller in
``workeroutput`` (tests/conftest.py), which prints them per lane."""
from __future__ import annotations

from typing import Callable

_sources: list[Callable[[], list[str]]] = []


def source(fn: Callable[[], list[str]]) -> Callable[[], list[str]]:
    """Register ``fn``, which returns the lines to report (none: nothing to say)."""
    _sources.append(fn)
    return fn


def lines() -> list[str]:
    return [line for fn in _sources for line in fn()]
