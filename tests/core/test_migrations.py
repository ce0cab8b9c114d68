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


def test_free_text_classes_migrate_to_each_schools_class_list(empty_db_url, tmp_path):
    """Each school's distinct typed classes become its class list; the downgrade writes the names back."""
    from flask_migrate import downgrade, upgrade

    from backend.extensions import db

    app = _app(empty_db_url, tmp_path)
    with app.app_context():
        upgrade(revision="0008_live_open_fast_path")
        engine = db.engine
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO region (id, code, name, level, path) VALUES (1, '330106', '西湖区', "
                                 "'county', '/1/')"))
            for school_id in (1, 2):
                conn.execute(sa.text("INSERT INTO school (id, region_id, name, kind, created_at) VALUES "
                                     "(:id, 1, :name, 'primary', CURRENT_TIMESTAMP)"),
                             {"id": school_id, "name": f"学校{school_id}"})
            rows = [(1, 1, "parent", " 三年级二班 "), (2, 1, "parent", "三年级\u3000 二班"),
                    (3, 1, "parent", "一年级一班"),
                    (4, 2, "parent", "三年级二班"), (5, 1, "parent", "   "), (6, 1, "staff", "行政"),
                    (7, 1, "parent", None)]
            for user_id, school_id, role, text in rows:
                conn.execute(sa.text("INSERT INTO user_account (id, openid, is_admin, created_at) "
                                     "VALUES (:id, :openid, false, CURRENT_TIMESTAMP)"),
                             {"id": user_id, "openid": f"u{user_id}"})
                conn.execute(sa.text("INSERT INTO membership (id, user_id, school_id, role, status, child_class, "
                                     "created_at) VALUES (:id, :id, :school, :role, 'active', :text, "
                                     "CURRENT_TIMESTAMP)"),
                             {"id": user_id, "school": school_id, "role": role, "text": text})
        upgrade()
        with engine.connect() as conn:
            classes = conn.execute(sa.text("SELECT school_id, name, position, id FROM school_class "
                                           "ORDER BY school_id, position")).all()
            assert [(c.school_id, c.name, c.position) for c in classes] == [
                (1, "一年级一班", 1), (1, "三年级 二班", 2), (1, "三年级二班", 3), (2, "三年级二班", 1)]
            ids = {(c.school_id, c.name): c.id for c in classes}
            bound = dict(conn.execute(sa.text("SELECT id, school_class_id FROM membership")).all())
        assert bound == {1: ids[(1, "三年级二班")], 2: ids[(1, "三年级 二班")], 3: ids[(1, "一年级一班")],
                         4: ids[(2, "三年级二班")], 5: None, 6: None, 7: None}
        downgrade(revision="0008_live_open_fast_path")
        with engine.connect() as conn:
            back = dict(conn.execute(sa.text("SELECT id, child_class FROM membership")).all())
        assert back == {1: "三年级二班", 2: "三年级 二班", 3: "一年级一班", 4: "三年级二班", 5: None, 6: None, 7: None}
        engine.dispose()


def test_clips_made_before_their_table_get_rows_from_their_audit_rows(empty_db_url, tmp_path):
    """0028_recording_clips: every clip named by a live.clip_download audit row gets a row (once per key), so the
    clip retention reaches the clips cut before the table existed."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade

    from backend.audit.models import AuditLog
    from backend.extensions import db
    from backend.schools.models import Camera, Canteen, KitchenArea, Region, School

    app = _app(empty_db_url, tmp_path)
    with app.app_context():
        upgrade(revision="0025_alarm_queue_index")
        def added(row):
            db.session.add(row)
            db.session.flush()
            return row

        school = added(School(region_id=added(Region(code="330106", name="西湖区", level="county", path="/")).id,
                              name="学校", kind="primary"))
        area = added(KitchenArea(canteen_id=added(Canteen(school_id=school.id, name="食堂")).id, name="热菜区",
                                 kind="hot_kitchen", public=True))
        camera = added(Camera(area_id=area.id, name="一号", source_kind="rtsp", source_url="rtsp://cam/1"))
        made = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
        key = f"clips/{school.id}/{camera.id}/2026/11/23/abc.mp4"
        details = {"start": "2026-11-23T01:55:02+00:00", "end": "2026-11-23T01:55:07+00:00", "key": key,
                   "segments": [1, 2]}
        for action, row_details in (("live.clip_download", details), ("live.clip_download", details),
                                    ("live.clip_download", {"start": "x"}), ("live.play", {"key": "other"})):
            db.session.add(AuditLog(at=made, action=action, school_id=school.id, target_type="camera",
                                    target_id=camera.id, details=row_details))
        school_id, camera_id = school.id, camera.id
        db.session.commit()
        db.session.remove()  # no session may hold a lock on the tables the migrations alter
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT camera_id, school_id, object_key, started_at, ended_at, created_at, "
                                        "url_expires_at FROM recording_clip")).all()
        assert len(rows) == 1
        row = rows[0]
        assert (row.camera_id, row.school_id, row.object_key) == (camera_id, school_id, key)

        def utc(value):
            value = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

        assert [utc(row.started_at).isoformat(), utc(row.ended_at).isoformat()] == [details["start"], details["end"]]
        assert (utc(row.url_expires_at) - utc(row.created_at)).total_seconds() == 600
        assert utc(row.created_at) == made
        downgrade(revision="0025_alarm_queue_index")
        assert "recording_clip" not in _tables(db.engine)
        db.engine.dispose()
