"""(Re)index datasets in bulk, using CKAN's own document building."""
from __future__ import annotations

import logging
from typing import Iterable

import ckan.logic as logic
import ckan.model as model
from ckan.lib.search import index_for

log = logging.getLogger(__name__)


def index_ids(ids: Iterable[str]) -> int:
    """Index the given datasets in the current transaction (the caller commits)."""
    index = index_for(model.Package)
    context = {"ignore_auth": True, "use_cache": False, "validate": True}
    n = 0
    for pkg_id in ids:
        both = logic.package_show_default_and_custom_schemas(dict(context), pkg_id)
        index.update_dict(dict(both[0], with_custom_schema=both[1]), defer_commit=True)
        n += 1
    return n


def rebuild_all(batch_size: int = 500, progress: bool = False) -> int:
    """Clear and rebuild the whole index; commits every batch, shows a progress bar."""
    from . import get_backend
    from .syntax import Term
    from ckan.common import config
    ids = [r[0] for r in model.Session.query(model.Package.id)
           .filter(model.Package.state != "deleted").order_by(model.Package.id)]
    get_backend().delete(Term("site_id", config.get("ckan.site_id")))
    bar = None
    if progress:
        import click
        bar = click.progressbar(length=len(ids), label="索引 / indexing", show_pos=True,
                                show_percent=True, show_eta=True)
        bar.__enter__()
    done = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        done += index_ids(chunk)
        model.repo.commit()
        if bar:
            bar.update(len(chunk))
    if bar:
        bar.__exit__(None, None, None)
    log.info("indexed %d datasets", done)
    return done
