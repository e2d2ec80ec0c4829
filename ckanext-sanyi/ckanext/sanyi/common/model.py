"""The one SQLAlchemy ``MetaData`` of the extension's tables (``sanyi_*``).

Not CKAN's metadata: CKAN's test reset DELETEs from every table of its own metadata, and some
of these tables are append-only (a trigger refuses UPDATE and DELETE). The tables are created
by the migrations in ``migration/sanyi``; a test checks that they and these definitions agree.
Every feature's ``model.py`` puts its tables on :data:`metadata`.
"""
from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "TIMESTAMP"]

metadata = sa.MetaData()
TIMESTAMP = sa.DateTime(timezone=True)  # stored in UTC, aware
