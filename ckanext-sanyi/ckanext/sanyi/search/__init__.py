"""Search without Solr: CKAN's search layer answered by a pluggable backend.

``install(config)`` is called from the plugin's ``update_config`` (before CKAN checks its
Solr schema). It replaces ``make_connection`` in ``ckan.lib.search`` and its submodules
with a factory for ``SolrCompatConnection`` and turns the Solr health checks into checks of
the chosen backend. Backends: ``postgres`` (default) and ``elasticsearch``.

These patches touch CKAN internals: CKAN is pinned to 2.12.0 and
tests/integration/test_search_paths.py covers every path listed in the project notes.
"""
from __future__ import annotations

import logging
from typing import Any

from .backend import DEFAULT_FACET_FIELDS, SearchBackend
from .connection import SolrCompatConnection
from .connection import batched_writes as _batched_writes

log = logging.getLogger(__name__)

_backend: SearchBackend | None = None
_listening = False
_listeners: list = []
_facet_fields: tuple[str, ...] = DEFAULT_FACET_FIELDS


def make_backend(name: str, config: Any) -> SearchBackend:
    if name == "postgres":
        from ckan import model

        from .postgres import PostgresBackend
        # result cache: entries per process (0: off) and their time limit in seconds
        size, ttl = (config.get(f"ckanext.sanyi.search.cache_{k}") for k in ("size", "ttl"))
        size = 256 if size in (None, "") else int(size)
        ttl = 300.0 if ttl in (None, "") else float(ttl)
        backend = PostgresBackend(lambda: model.Session, cache_size=size, cache_ttl=ttl)
        memory = config.get("ckanext.sanyi.search.memory_index")
        backend.memory_index = str(memory).strip().lower() not in ("false", "0", "no", "off")
        least = config.get("ckanext.sanyi.search.memory_min_hits")
        if least not in (None, ""):
            backend.memory_min_hits = int(least)
        global _listening
        if not _listening:  # install() runs again on every app made in one process (tests)
            _listening = True
            _listeners.append(backend)
            backend.listen(model.Session)
        else:
            _listeners[0].cache = backend.cache  # the listener bumps; the new backend's cache
        return backend
    if name == "elasticsearch":
        from .elastic import ElasticsearchBackend
        return ElasticsearchBackend.from_config(config)
    raise ValueError(f"unknown search backend {name!r} (postgres, elasticsearch)")


def get_backend() -> SearchBackend:
    if _backend is None:
        raise RuntimeError("the sanyi search backend is not installed (plugin not loaded)")
    return _backend


def make_connection(decode_dates: bool = True) -> SolrCompatConnection:
    return SolrCompatConnection(get_backend(), _facet_fields, decode_dates=decode_dates)


def batched_writes():
    """``with batched_writes(): ...``: index writes inside go to the backend as one batch."""
    return _batched_writes(get_backend)


def install(config: Any) -> None:
    global _backend, _facet_fields
    import ckan.lib.search as search
    import ckan.lib.search.common as common
    import ckan.lib.search.index as index
    import ckan.lib.search.query as query

    name = config.get("ckanext.sanyi.search.backend") or "postgres"
    extra = (config.get("ckanext.sanyi.search.facet_fields") or "").split()
    _facet_fields = tuple(dict.fromkeys([*DEFAULT_FACET_FIELDS, *extra]))
    _backend = make_backend(name, config)
    from . import analysis
    analysis.configure_synonyms(config.get("ckanext.sanyi.search.synonyms") or None)
    if hasattr(_backend, "stored_facets"):
        _backend.stored_facets = frozenset(_facet_fields)  # type: ignore[attr-defined]
    for module in (search, common, index, query):
        module.make_connection = make_connection  # type: ignore[attr-defined]
    search.check_solr_schema_version = lambda schema_file=None: True  # type: ignore[assignment]
    search.is_available = common.is_available = lambda: True  # type: ignore[assignment]
    # CKAN refuses to start with an empty solr_url; nothing ever connects to it.
    if not config.get("solr_url"):
        config["solr_url"] = "http://solr.invalid/disabled-by-ckanext-sanyi"
    log.debug("sanyi search backend: %s", name)
