"""Every table of the extension on :data:`.common.model.metadata`, for whoever needs all of them (the
schema test, emptying the tables between tests): importing this module defines them all."""
from __future__ import annotations

import sqlalchemy as sa

from .applications import model as _applications  # noqa: F401  (defines its tables)
from .common import audit as _audit  # noqa: F401
from .common import references as _references  # noqa: F401
from .common.model import metadata
from .delivery import model as _delivery  # noqa: F401
from .delivery import samples_model as _samples  # noqa: F401
from .payments import model as _payments  # noqa: F401
from .pricing import model as _pricing  # noqa: F401
from .search import model as _search  # noqa: F401
from .supervision import checkpoint_model as _chain  # noqa: F401
from .supervision.reports import model as _reports  # noqa: F401

__all__ = ["all_tables"]


def all_tables() -> list[sa.Table]:
    """The extension's tables, parents before children (``MetaData.sorted_tables``)."""
    return list(metadata.sorted_tables)
