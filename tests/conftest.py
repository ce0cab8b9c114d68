"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with KITCHEN_TEST_DB=postgresql),
the fake WeChat server over real HTTP, the demo seed and logged-in clients."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.fakes.wechat_server import FakeWeChat

TEST_APPID = "wx_test_appid"
TEST_SECRET = "test_wechat_secret"
DB_FIXTURES = {"app", "db_url", "client", "demo", "as_user"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that touches the database so the PostgreSQL pass can select them with -m db."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def using_postgresql() -> bool:
    """Whether this run targets PostgreSQL."""
    return os.environ.get("KITCHEN_TEST_DB") == "postgresql"


def _reset_postgresql(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head once per session through Alembic, as in production."""
    if using_postgresql():
        raw = os.environ.get("TEST_DATABASE_URL")
        if not raw:
            pytest.fail("KITCHEN_TEST_DB=postgresql needs TEST_DATABASE_URL")
        from backend.config import normalise_database_url

        url = normalise_database_url(raw)
        _reset_postgresql(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    from flask_migrate import upgrade

    from backend import create_app

    app = create_app({"APP_ENV": "testing", "DATABASE_URL": url,
                      "INSTANCE_PATH": str(tmp_path_factory.mktemp("instance-migrate"))})
    with app.app_context():
        upgrade()
        from backend.extensions import db

        db.engine.dispose()
    return url


@pytest.fixture(scope="session")
def wechat_fake() -> Iterator[FakeWeChat]:
    """The fake WeChat API over real HTTP on loopback, shared by the session and reset per test."""
    with FakeWeChat(appid=TEST_APPID, secret=TEST_SECRET) as fake:
        yield fake


@pytest.fixture
def wechat(wechat_fake: FakeWeChat) -> FakeWeChat:
    """The fake with fresh state for this test."""
    wechat_fake.reset()
    return wechat_fake


# Every sequence of the schema back to its start, in the same round trip as the deletes.
RESTART_SEQUENCES = """DO $$ DECLARE s record; BEGIN
  FOR s IN SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) AS name
           FROM information_schema.sequences WHERE sequence_schema = current_schema() LOOP
    EXECUTE 'ALTER SEQUENCE ' || s.name || ' RESTART';
  END LOOP;
END $$"""


def truncate_all(engine: sa.Engine) -> None:
    """Empty every table and restart every id (faster than re-migrating, and safe with threads and subprocesses).

    On PostgreSQL, DELETE in dependency order and sequences restarted, in one round trip: a test leaves a few
    rows, and TRUNCATE, which gives each table a new file, costs ~135 ms for the 84 tables where this costs ~30.
    """
    from backend.extensions import db

    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("; ".join([*(f'DELETE FROM "{t}"' for t in tables), RESTART_SEQUENCES]))
        else:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))
            if _has_sqlite_sequence(conn):
                conn.execute(sa.text("DELETE FROM sqlite_sequence"))


def _has_sqlite_sequence(conn: sa.Connection) -> bool:
    return conn.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture
def app_config(db_url: str, tmp_path: Path, wechat: FakeWeChat) -> dict[str, Any]:
    """Settings of the app under test; tests may change them before asking for ``app``."""
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": db_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "WECHAT_APPID": TEST_APPID,
        "WECHAT_SECRET": TEST_SECRET,
        "WECHAT_API_BASE": wechat.base_url,
        "WECHAT_TIMEOUT_SECONDS": "2",
        "REDIS_URL": None,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Any]:
    """The application with an empty migrated database and an app context pushed."""
    from backend import create_app
    from backend.extensions import db

    application = create_app(app_config)
    with application.app_context():
        truncate_all(db.engine)
        yield application
        db.session.remove()
        truncate_all(db.engine)
        from backend.extensions import dispose_engines

        dispose_engines()


@pytest.fixture
def client(app: Any) -> Any:
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def demo(app: Any) -> dict[str, int]:
    """The demo seed: two schools in one county with a user of every role in each."""
    from backend.cli import seed_demo

    return seed_demo()


@pytest.fixture
def as_user(app: Any) -> Any:
    """``as_user(openid)`` → Authorization headers of a fresh session for that (existing) user."""
    from sqlalchemy import select

    from backend.accounts.models import User
    from backend.accounts.services import issue_session
    from backend.extensions import db

    def headers(openid: str) -> dict[str, str]:
        user = db.session.scalar(select(User).where(User.openid == openid))
        if user is None:
            user = User(openid=openid)
            db.session.add(user)
        issued = issue_session(user, 24)
        db.session.commit()
        return {"Authorization": f"Bearer {issued.token}"}

    return headers


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis (REDIS_URL, default 127.0.0.1:6379); tests that need it fail loudly without it."""
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is not reachable: {exc}")
    return url


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 protocol endpoint on loopback: moto's server mode, spoken to by boto3."""
    import subprocess
    import sys
    import time
    import urllib.request

    port = _free_port()
    server = Path(sys.executable).parent / "moto_server"
    process = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("moto_server did not start")
            time.sleep(0.2)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def store_config(request: pytest.FixtureRequest, app_config: dict[str, Any]) -> dict[str, Any]:
    """App settings for each object-store backend: the local folder, and S3 on moto_server."""
    if request.param == "local":
        return {**app_config, "STORAGE_BACKEND": "local"}
    import uuid

    endpoint = request.getfixturevalue("s3_endpoint")
    return {**app_config, "STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": endpoint,
            "S3_BUCKET": f"test-{uuid.uuid4().hex[:12]}", "S3_ACCESS_KEY_ID": "testing",
            "S3_SECRET_ACCESS_KEY": "testing"}
