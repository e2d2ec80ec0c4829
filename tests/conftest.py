"""Shared fixtures: CKAN's own (clean_db, app, with_plugins, ...) plus the sanyi tables."""
from __future__ import annotations

import pytest
from sqlalchemy import text


@pytest.fixture
def clean_db(reset_db, migrate_db_for):
    """CKAN's clean_db, then the sanyi migrations, with the sanyi tables emptied."""
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("sanyi")
    from ckan import model
    tables = [r[0] for r in model.Session.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename LIKE 'sanyi\\_%' AND tablename <> 'sanyi_alembic_version'"))]
    if tables:
        model.Session.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
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
