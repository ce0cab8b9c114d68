"""The common request path skips the cookie session and the rate limiter; limited routes keep their limits."""

from __future__ import annotations

from flask import Flask, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from backend.request_path import NoCookieSession, lighten_request_path


def _app_with_limits(**limiter_options: object) -> tuple[Flask, Limiter, list[str]]:
    app = Flask("lean-test")
    app.config.update(SECRET_KEY="k" * 40, RATELIMIT_STORAGE_URI="memory://", RATELIMIT_HEADERS_ENABLED=True)
    limiter = Limiter(key_func=get_remote_address, **limiter_options)
    limiter.init_app(app)
    ran: list[str] = []

    @app.get("/limited")
    @limiter.limit("2 per minute")
    def limited() -> str:
        ran.append("limited")
        return "ok"

    @app.get("/open")
    def open_route() -> str:
        ran.append("open")
        return "ok"

    @app.get("/writes-session")
    def writes_session() -> str:
        session["user"] = "someone"
        return "ok"

    lighten_request_path(app, limiter)
    return app, limiter, ran


def test_a_route_without_a_limit_runs_none_of_the_limiter():
    app, limiter, ran = _app_with_limits()
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    client = app.test_client()
    for _ in range(5):
        response = client.get("/open")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert ran == ["open"] * 5


def test_a_decorated_route_is_still_limited_and_answers_its_headers():
    app, _, ran = _app_with_limits()
    client = app.test_client()
    responses = [client.get("/limited") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "2"
    assert responses[0].headers["X-RateLimit-Remaining"] == "1"
    assert ran == ["limited", "limited"]
    # The limit state of one request never leaks into the next one's headers.
    assert "X-RateLimit-Limit" not in client.get("/open").headers


def test_request_wide_limits_keep_the_limiter_on_every_request():
    app, limiter, _ = _app_with_limits(default_limits=["1 per minute"])
    assert limiter._check_request_limit in app.before_request_funcs[None]
    client = app.test_client()
    assert [client.get("/open").status_code for _ in range(2)] == [200, 429]


def test_no_cookie_session_is_read_or_written():
    app, _, _ = _app_with_limits()
    assert isinstance(app.session_interface, NoCookieSession)
    client = app.test_client()
    response = client.get("/open", headers={"Cookie": "session=forged.value.here"})
    assert "Set-Cookie" not in response.headers
    # Writing to the null session is a programming error, never a silent cookie.
    app.testing = False
    assert client.get("/writes-session").status_code == 500


def test_the_api_answers_without_a_cookie_and_keeps_the_login_limit(app_config):
    from backend import create_app
    from backend.extensions import limiter

    app = create_app({**app_config, "RATELIMIT_LOGIN": "2 per minute"})
    assert isinstance(app.session_interface, NoCookieSession)
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 200 and "Set-Cookie" not in health.headers
    statuses = [client.post("/api/v1/auth/wechat", json={"code": f"lean-{i}"}).status_code for i in range(3)]
    assert statuses == [200, 200, 429]


def test_authentication_survives_a_database_restart(client, demo, as_user):
    """Pooled connections killed under the api (a PostgreSQL restart) cost one retry, not a failed request."""
    import sqlalchemy as sa

    from backend.extensions import autocommit_engine, db
    from tests.conftest import using_postgresql

    headers = as_user("demo-principal-1")
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    if using_postgresql():
        db.session.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
        db.session.commit()
    else:
        autocommit_engine().dispose()  # SQLite has no server to restart: a fresh pool is the nearest case
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    assert response.json["id"] == client.get("/api/v1/me", headers=headers).json["id"]
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer unknown"}).status_code == 401
