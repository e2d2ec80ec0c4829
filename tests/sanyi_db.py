"""The test database between tests: emptied cheaply, and worlds reused while nothing changed.

``Database.clean`` empties every table of CKAN's metadata and of the extension's
(``common.model.metadata``, search index included) at the start of a test, as CKAN's
``clean_db`` does, but truncates only the tables that hold any page (``pg_relation_size``):
one statement reads all the sizes, and a table nobody wrote to since it was last emptied is
left as it is. TRUNCATE, not DELETE: the append-only tables refuse DELETE (a row trigger) but
not TRUNCATE, and a truncated table starts again from an empty file, as before.

``Database.layer`` gives a fixture's world (``sanyi_orgs``, ``world``, ...): built on the
emptied database the first time, then, for the next tests of the same module asking for the
same fixtures with the same marks, the same world again without building it — as long as
the database still holds exactly what it held right after it was built. That is checked,
not assumed: the fingerprint of every table (row count, newest ``xmin``, size) is compared;
a test that wrote anything (or a fixture in between) makes the next one start from an empty
database and build afresh. So tests that only read share one world per module, and tests
that write each get their own.

A world fixture calls ``layer`` with a function building its part; worlds built on another
ask for it as a fixture (``world`` asks for ``sanyi_orgs``), and their parts are kept
together. The values are handed out as deep copies. What a build does outside the database
(files, messages) is not repeated for a test that reuses it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import pytest
import sqlalchemy as sa

Fingerprint = dict[str, tuple[int, int | None, int]]
# Fixtures that cannot change what a world's build writes (a test app, a temporary
# directory, the monkeypatch object itself): two tests differing only by these share worlds.
INERT = frozenset({"app", "make_app", "cli", "tmp_path", "tmp_path_factory", "monkeypatch",
                   "request", "capsys", "capfd", "caplog", "recwarn", "login",
                   "test_request_context", "with_request_context"})


@dataclass
class _World:
    """The parts built for one kind of test, and the database's fingerprint after them."""
    values: dict[str, Any] = field(default_factory=dict)
    fingerprint: Fingerprint | None = None


def _direct_parameters(item: Any) -> set[str]:
    """The names ``@pytest.mark.parametrize`` gives values to directly (not through a
    fixture, ``indirect``): among the test's fixture names, but not fixtures."""
    names: set[str] = set()
    for mark in item.iter_markers("parametrize"):
        argnames = mark.args[0] if mark.args else mark.kwargs.get("argnames", ())
        if isinstance(argnames, str):
            argnames = [n.strip() for n in argnames.split(",") if n.strip()]
        indirect = mark.kwargs.get("indirect", False)
        if indirect is True:
            continue
        names |= {n for n in argnames if not (isinstance(indirect, (list, tuple))
                                              and n in indirect)}
    return names


class Database:
    """See the module docstring. ``prepare`` runs once (CKAN's reset and the migrations)."""

    def __init__(self, prepare: Callable[[], None]) -> None:
        self._prepare: Callable[[], None] | None = prepare
        self._worlds: dict[tuple, _World] = {}
        self._test: str | None = None  # node id of the test whose start was handled
        self._world: _World | None = None  # the world that test builds or reuses
        self._reused = False
        self._handed = False  # a part of the reused world was handed out in this test
        self._since: set[str] = set()  # fixtures set up since the last known fingerprint
        self.stats = {"cleaned": 0, "built": 0, "reused": 0}

    def setting_up(self, fixture: str) -> None:
        """``fixture`` is being set up (or, as ``"<test>"``, the test runs): it may write."""
        self._since.add(fixture)

    # -- the tables ---------------------------------------------------------------------
    @staticmethod
    def tables() -> list[str]:
        """CKAN's tables and the extension's, parents before children."""
        from ckan import model

        from ckanext.sanyi.tables import all_tables
        names = [t.name for t in model.repo.metadata.sorted_tables if t.name != "alembic_version"]
        return names + [t.name for t in all_tables()]

    @staticmethod
    def fingerprint(names: list[str]) -> Fingerprint:
        """Per table: rows, the newest row version's ``xmin``, size in bytes (one statement).
        Any committed write changes one of them: a new or updated row has a newer ``xmin``,
        a deleted one lowers the count, a truncated table has no size."""
        from ckan import model
        xmin = sa.cast(sa.cast(sa.column("xmin"), sa.Text), sa.BigInteger)
        parts = [sa.select(sa.literal(n).label("name"), sa.func.count().label("n"),
                           sa.func.max(xmin).label("xmin"),
                           sa.func.pg_relation_size(sa.func.to_regclass(sa.literal(f'"{n}"')))
                           .label("size"))
                 .select_from(sa.table(n)) for n in names]
        rows = model.Session.execute(sa.union_all(*parts)).all()
        model.Session.commit()
        return {r.name: (r.n, r.xmin, r.size) for r in rows}

    def _empty(self, state: Fingerprint) -> Fingerprint:
        from ckan import model
        written = [n for n, (_, _, size) in state.items() if size]
        if not written:
            return state
        model.Session.execute(sa.text(
            "TRUNCATE " + ", ".join(f'"{n}"' for n in written) + " CASCADE"))
        model.Session.commit()
        self.stats["cleaned"] += 1
        return {n: (0, None, 0) for n in state}  # as a table without any page reads

    # -- the start of a test ------------------------------------------------------------
    @staticmethod
    def _key(request: pytest.FixtureRequest) -> tuple:
        """What a world may depend on: the module, the test's fixtures (but the inert ones)
        and its marks (``ckan_config`` ...); parameters of the test do not count."""
        item = request.node
        marks = tuple(repr((m.name, m.args, sorted(m.kwargs.items())))
                      for m in item.iter_markers() if m.name != "parametrize")
        fixtures = tuple(sorted(set(item.fixturenames) - INERT - _direct_parameters(item)))
        return (item.module.__name__ if item.module else "", fixtures, marks)

    def clean(self, request: pytest.FixtureRequest) -> None:
        """Start the test on an empty database, or on the world a test like it left unchanged
        (then its ``layer`` calls hand that world out). Once per test: the first of
        ``clean_db`` and the world fixtures does it."""
        from ckan import model
        from sqlalchemy.orm import close_all_sessions
        if self._test == request.node.nodeid:
            return
        self._test = request.node.nodeid
        if self._prepare is not None:
            self._prepare()
            self._prepare = None
        close_all_sessions()
        model.Session.remove()
        key = self._key(request)
        state = self.fingerprint(self.tables())
        world = self._worlds.get(key)
        self._since.clear()
        self._handed = False
        if world is not None and world.fingerprint == state:
            self._world, self._reused = world, True
            self.stats["reused"] += 1
            return
        self._world, self._reused = _World(fingerprint=self._empty(state)), False
        self._worlds[key] = self._world

    def layer(self, request: pytest.FixtureRequest, build: Callable[[], Any]) -> Any:
        """The part of the world of fixture ``request.fixturename``: ``build()`` on the
        database as the fixtures before it left it, or what it built for a test like this
        one when the database is still as it was then (see the module docstring)."""
        self.clean(request)
        world, name = self._world, request.fixturename
        assert world is not None and name is not None
        if self._reused and not self._handed and self._since - {name}:
            # fixtures set up between the start of the test and its first world part: the
            # world is handed over only if they left it as it was
            state = self.fingerprint(self.tables())
            if state != world.fingerprint:
                world = self._world = _World(fingerprint=self._empty(state))
                self._worlds[self._key(request)] = world
                self._reused = False
        if self._reused and name in world.values:
            self._handed = True
            return copy.deepcopy(world.values[name])
        names = self.tables()
        if self._since - {name} and world.fingerprint != self.fingerprint(names):
            world.fingerprint = None  # another fixture wrote since the last part: not reused
        value = build()
        self.stats["built"] += 1
        if world.fingerprint is not None:
            world.values[name] = copy.deepcopy(value)
            world.fingerprint = self.fingerprint(names)
            self._since.clear()
        return value
