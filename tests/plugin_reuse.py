"""CKAN's ``with_plugins`` and ``app`` fixtures, doing their work only when it would differ.

CKAN's ``with_plugins`` loads every plugin before each test and unloads them all after it,
and its ``app`` builds a new Flask app whose ``load_environment`` loads the plugins once more.
Each load is a full ``ckan.config.environment.update_config``: the config declarations read
again from YAML, every plugin's ``update_config`` (the template directories found through
``inspect.stack()``) and ``configure``, a new database engine; with the Flask app it is about
0.8 s of CPU per test, most of what a short test costs.

Here a test's plugins are loaded only when the configuration it starts from (after its
``ckan_config`` marks and the ``ckan.plugins`` of its ``with_plugins`` marks) differs from the
one they were last loaded for, or when anything else loaded or unloaded a plugin since
(``ckan.plugins.core.plugins_update`` is counted). Otherwise the configuration the last load
produced is put back (``ckan_config`` restores the one before the load after every test) and
the light part of ``update_config`` is done again: the app globals and every
``IConfigurable.configure``. The same holds for the Flask app: it is built again only when
the plugins were reloaded or the configuration differs; a test always gets a new
``CKANTestApp`` (a client and cookies of its own). A test that provides plugin classes
(``provide_plugin``, ``with_plugins`` marks with a dict) gets CKAN's behaviour unchanged, and
so does every test with ``SANYI_TEST_RELOAD_PLUGINS=1`` (to tell an order-dependent failure
from a real one).
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import os
from typing import Any
from unittest import mock

import ckan.plugins as plugins
import ckan.plugins.core as core
import run_summary
from ckan.common import config

__all__ = ["OFF", "REUSE", "install", "plugin_names"]

OFF = os.environ.get("SANYI_TEST_RELOAD_PLUGINS", "") not in ("", "0")


@dataclasses.dataclass
class _Load:
    generation: int            # plugins_update calls when this state was reached
    before: dict[str, Any]     # the configuration it was made from
    after: dict[str, Any]      # the configuration it left
    flask_app: Any = None


class Reuse:
    def __init__(self) -> None:
        self.updates = 0                 # plugins_update calls seen
        self.plugins: _Load | None = None
        self.app: _Load | None = None
        self.stats = {"plugin_loads": 0, "plugins_reused": 0, "apps_built": 0,
                      "apps_reused": 0}

    # -- state -------------------------------------------------------------------------------
    def counted(self, update: Any) -> Any:
        def plugins_update() -> None:
            self.updates += 1
            update()
        plugins_update.__wrapped__ = update  # type: ignore[attr-defined]
        return plugins_update

    def _current(self, load: _Load | None) -> bool:
        return load is not None and load.generation == self.updates

    def _matches(self, load: _Load | None) -> bool:
        """Is ``load`` still what the plugins hold, and is the configuration where it started
        or where it left off?"""
        if not self._current(load):
            return False
        assert load is not None
        now = dict(config)
        if now == load.after:
            return True
        if now == load.before:
            config.clear()
            config.update(copy.deepcopy(load.after))
            return True
        return False

    @staticmethod
    def _refresh() -> None:
        """What ``update_config`` does that a test may have changed since: the app globals
        and the ``IConfigurable`` plugins' view of the configuration."""
        from ckan.lib.app_globals import app_globals
        app_globals._init()
        for plugin in plugins.PluginImplementations(plugins.IConfigurable):
            plugin.configure(config)

    # -- the fixtures' work ------------------------------------------------------------------
    def load_plugins(self) -> None:
        if self._matches(self.plugins):
            self.stats["plugins_reused"] += 1
            self._refresh()
            return
        before = copy.deepcopy(dict(config))
        plugins.load_all()
        self.plugins = _Load(self.updates, before, copy.deepcopy(dict(config)))
        self.stats["plugin_loads"] += 1

    def test_app(self) -> Any:
        from ckan.tests import helpers
        if self._matches(self.app):
            assert self.app is not None
            self.stats["apps_reused"] += 1
            self._refresh()
            return helpers.CKANTestApp(self.app.flask_app)
        before = copy.deepcopy(dict(config))
        if self._matches(self.plugins):
            # the plugins are loaded for this configuration: build the app on them
            with mock.patch("ckan.config.environment.p.load_all"):
                test_app = helpers._get_test_app()
        else:  # CKAN's way: load_environment loads the plugins for this configuration
            loaded = self.plugins if self._current(self.plugins) else None
            test_app = helpers._get_test_app()
            if loaded is not None and \
                    loaded.after.get("ckan.plugins") == before.get("ckan.plugins"):
                # the same plugins, loaded again for what a fixture changed after
                # with_plugins (as CKAN's app fixture does every time): the next test's
                # with_plugins finds them as it left them, and this app for that change
                loaded.generation = self.updates
        self.app = _Load(self.updates, before, copy.deepcopy(dict(config)), test_app.app)
        self.stats["apps_built"] += 1
        return test_app

    def forget(self) -> None:
        self.plugins = self.app = None


REUSE = Reuse()


@run_summary.source
def _lines() -> list[str]:
    s = REUSE.stats
    if OFF or not (s["plugin_loads"] or s["apps_built"]):
        return []
    return [f"plugins: loaded {s['plugin_loads']} times, reused {s['plugins_reused']}; "
            f"Flask app built {s['apps_built']} times, reused {s['apps_reused']}"]


def install() -> None:
    """Count ``plugins_update`` (every load and unload of a plugin goes through it)."""
    if not hasattr(core.plugins_update, "__wrapped__"):
        core.plugins_update = REUSE.counted(core.plugins_update)


def plugin_names(request: Any) -> list[str] | None:
    """The plugin names of the test's ``with_plugins`` marks, or None when a mark provides
    plugin classes (then CKAN's own behaviour applies)."""
    marks = request.node.iter_markers("with_plugins")
    names: list[str] = []
    for plugin in itertools.chain.from_iterable(mark.args for mark in marks):
        if isinstance(plugin, str):
            names.append(plugin)
        else:
            return None
    return names
