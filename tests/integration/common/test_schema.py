"""The migrations and the table definitions agree: a scratch database built by migration has
exactly the extension's tables of ``common.model.metadata``, with the same columns, nullability
and (loosely) types."""
from __future__ import annotations

import os
import re
import sys

import pytest
import sqlalchemy as sa
from ckan.plugins import toolkit as tk

from ckanext.sanyi import devtools
from ckanext.sanyi.tables import all_tables

SCRATCH = "ckan_sanyi_schema_check"


def _family(type_: sa.types.TypeEngine) -> str:
    """A type's family: text, integer, timestamptz, jsonb, tsvector, boolean, numeric, ... and
    ``[]`` for arrays."""
    if isinstance(type_, sa.ARRAY):
        return _family(type_.item_type) + "[]"
    name = type(type_).__name__.lower()
    if isinstance(type_, sa.DateTime):
        return "timestamptz" if type_.timezone else "timestamp"
    for family, words in (("text", ("text", "string", "varchar", "unicode")),
                          ("integer", ("integer", "int")), ("numeric", ("numeric", "decimal")),
                          ("boolean", ("bool",)), ("jsonb", ("jsonb", "json")),
                          ("tsvector", ("tsvector",)), ("date", ("date",))):
        if any(w in name for w in words):
            return family
    return name


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    url = sa.engine.make_url(tk.config["sqlalchemy.url"]).set(database=SCRATCH)
    devtools.create_database(SCRATCH, url.username, recreate=True)
    ini = devtools.write_ini(str(tmp_path_factory.mktemp("schema") / "schema.ini"),
                             os.environ.get("CKAN_INI") or tk.config["__file__"],
                             {"sqlalchemy.url": url.render_as_string(hide_password=False)})
    devtools.migrate(os.path.join(os.path.dirname(sys.executable), "ckan"), ini)
    engine = sa.create_engine(url)
    try:
        yield sa.inspect(engine)
    finally:
        engine.dispose()
        devtools.psql_admin(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')


def test_the_migrations_create_exactly_the_defined_tables(migrated):
    in_db = {t for t in migrated.get_table_names()
             if re.match(r"sanyi_", t) and t != "sanyi_alembic_version"}
    assert in_db == {t.name for t in all_tables()}


@pytest.mark.parametrize("table", all_tables(), ids=lambda t: t.name)
def test_columns_agree(migrated, table):
    in_db = {c["name"]: c for c in migrated.get_columns(table.name)}
    assert set(in_db) == {c.name for c in table.columns}
    for column in table.columns:
        db = in_db[column.name]
        assert _family(db["type"]) == _family(column.type), column.name
        assert db["nullable"] == column.nullable, column.name
