"""(Re)index datasets in bulk, using CKAN's own document building.

``index_ids`` is what the catalog importer calls after each committed batch; ``rebuild_all``
is ``ckan sanyi search-index rebuild``. Both build every document exactly as a single
``package_update`` would (``PackageSearchIndex.index_package``: plugins'
``before_dataset_index``, permission labels), but send them to the backend in batches
(``batched_writes``) instead of one statement per dataset.
"""
from __future__ import annotations

import logging
from typing import Iterable

import ckan.logic as logic
import ckan.model as model
from ckan.lib.search import index_for

from . import batched_writes, get_backend
from .syntax import Or, Term

log = logging.getLogger(__name__)


def index_ids(ids: Iterable[str]) -> int:
    """Index the given datasets in the current transaction (the caller commits)."""
    index = index_for(model.Package)
    context = {"ignore_auth": True, "use_cache": False, "validate": True}
    n = 0
    with batched_writes():
        for pkg_id in ids:
            both = logic.package_show_default_and_custom_schemas(dict(context), pkg_id)
            index.update_dict(dict(both[0], with_custom_schema=both[1]), defer_commit=True)
            n += 1
    return n


def indexed_ids(site_id: str) -> set[str]:
    """The dataset ids the index holds for this site (any state)."""
    from .backend import SearchRequest
    out: set[str] = set()
    start, page = 0, 5000
    while True:
        res = get_backend().search(SearchRequest(query=Term("site_id", site_id), rows=page,
                                                 start=start, fields=("id",),
                                                 sort=(("id", False),)))
        out.update(d["id"] for d in res.docs)
        start += page
        if start >= res.hits or not res.docs:
            return out


def rebuild_all(batch_size: int = 500, progress: bool = False) -> int:
    """Re-index every dataset, then drop index rows of datasets that no longer exist.

    The index is not emptied first: searches keep answering (with the old document until
    its batch is committed) for the whole rebuild. Commits every batch; shows a progress bar.
    """
    from ckan.common import config
    site_id = config.get("ckan.site_id")
    ids = [r[0] for r in model.Session.query(model.Package.id)
           .filter(model.Package.state != "deleted").order_by(model.Package.id)]
    bar = None
    if progress:
        import click
        bar = click.progressbar(length=len(ids), label="索引 / indexing", show_pos=True,
                                show_percent=True, show_eta=True)
        bar.__enter__()
    done = 0
    try:
        for start in range(0, len(ids), batch_size):
            chunk = ids[start:start + batch_size]
            done += index_ids(chunk)
            model.repo.commit()
            if bar:
                bar.update(len(chunk))
    finally:
        if bar:
            bar.__exit__(None, None, None)
    orphans = sorted(indexed_ids(site_id) - set(ids))
    for start in range(0, len(orphans), 500):
        chunk = orphans[start:start + 500]
        get_backend().delete(Or(tuple(Term("id", i) for i in chunk)) if len(chunk) > 1
                             else Term("id", chunk[0]))
    model.repo.commit()
    log.info("indexed %d datasets, removed %d stale index rows", done, len(orphans))
    return done
