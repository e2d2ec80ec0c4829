"""Shared fixtures: CKAN's own (clean_db, app, with_plugins, ...) plus the sanyi tables."""
from __future__ import annotations

import pytest
from sqlalchemy import text

_migrated = {"done": False}


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    """An empty database with CKAN's and the sanyi tables. The first use in a session resets
    it as CKAN does and applies the migrations; later uses empty every table of CKAN's
    metadata and of the extension's (``MetaData.sorted_tables``) with one TRUNCATE."""
    from ckan import model
    from sqlalchemy.orm import close_all_sessions

    from ckanext.sanyi.tables import all_tables
    if not _migrated["done"]:
        reset_db()
        migrate_db_for("activity")
        migrate_db_for("sanyi")
        _migrated["done"] = True
    close_all_sessions()
    model.Session.remove()
    names = [t.name for t in model.repo.metadata.sorted_tables if t.name != "alembic_version"]
    names += [t.name for t in all_tables()]
    model.Session.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
    model.Session.commit()


@pytest.fixture
def sanyi_orgs(clean_db):
    """The bureau, the operator and two data units, with one editor each."""
    from ckan.tests import factories
    users = {k: factories.User(name=k) for k in
             ("bureau_user", "operator_user", "wj_editor", "yb_editor", "merchant_user")}
    orgs = {
        "bureau": factories.Organization(name="shi-shu-ju-ju", title="市数据局",
                                         users=[{"name": "bureau_user", "capacity": "editor"}]),
        "operator": factories.Organization(name="san-yi-yun-ying", title="三医数据运营有限公司",
                                           users=[{"name": "operator_user", "capacity": "editor"}]),
        "wj": factories.Organization(name="shi-wei-jian-wei", title="市卫健委",
                                     users=[{"name": "wj_editor", "capacity": "editor"}]),
        "yb": factories.Organization(name="shi-yi-bao-ju", title="市医保局",
                                     users=[{"name": "yb_editor", "capacity": "editor"}]),
    }
    return {"users": users, "orgs": orgs}
