"""Alembic migrations upgrade and downgrade on this run's database, and match the models exactly."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import using_postgresql

pytestmark = pytest.mark.db


@pytest.fixture
def empty_db_url(tmp_path):
    """A brand-new empty database of this run's kind."""
    if not using_postgresql():
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    import os

    from backend.config import normalise_database_url

    base = sa.make_url(normalise_database_url(os.environ["TEST_DATABASE_URL"]))
    name = f"{base.database}_migrations"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _app(url, tmp_path):
    from backend import create_app

    return create_app({"APP_ENV": "testing", "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "inst")})


def _tables(engine):
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(empty_db_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from backend.extensions import db

    app = _app(empty_db_url, tmp_path)
    with app.app_context():
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)
        db.engine.dispose()


def test_models_and_migrations_do_not_drift(empty_db_url, tmp_path):
    from flask_migrate import upgrade

    from backend.extensions import db

    app = _app(empty_db_url, tmp_path)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], f"models differ from migrations; run `flask db migrate`: {diff}"


def test_migrations_form_one_line():
    """One head: `flask db upgrade` (as make demo and the image run it) needs no merge."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from backend.config import PROJECT_ROOT

    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1
