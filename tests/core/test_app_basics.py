"""The app skeleton: probes, OpenAPI, the one error shape and production settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from backend.config import ConfigError, load_config

PRODUCTION_ENV = {
    "APP_ENV": "production",
    "DATABASE_URL": "postgresql://kitchen@db/kitchen",
    "SECRET_KEY": "x" * 40,
    "WECHAT_APPID": "wx1234567890",
    "WECHAT_SECRET": "s" * 32,
}


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_openapi_document_lists_the_api(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/wechat" in spec["paths"]
    assert "/api/v1/schools/{school_id}/invites" in spec["paths"]
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("get", "/api/v1/does-not-exist", 404, "not_found"),
    ("delete", "/healthz", 405, "method_not_allowed"),
    ("get", "/api/v1/me", 401, "unauthenticated"),
])
def test_framework_errors_use_the_one_shape(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert set(response.json["error"]) == {"code", "message", "details"}


def test_validation_error_names_fields_in_chinese(client):
    response = client.post("/api/v1/auth/wechat", json={"code": ""})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert response.json["error"]["details"]["fields"]["code"] == ["长度应在 1 到 128 之间"]


def test_body_over_the_limit_is_413(app_config):
    from backend import create_app

    app = create_app({**app_config, "MAX_UPLOAD_MB": "1"})
    response = app.test_client().post("/api/v1/auth/wechat", data=b"x" * (2 * 1024 * 1024),
                                      content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"


def test_unexpected_exception_is_500_without_a_trace(app_config):
    from backend import create_app

    app = create_app(app_config)

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    assert response.json["error"]["code"] == "internal_error"
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "WECHAT_SECRET", "DATABASE_URL", "WECHAT_APPID"])
def test_production_refuses_missing_settings(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_config(environ=env)


def test_production_refuses_development_secret_values():
    with pytest.raises(ConfigError, match="SECRET_KEY is a development value"):
        load_config(environ={**PRODUCTION_ENV, "SECRET_KEY": "dev-" + "x" * 40})


def test_production_accepts_complete_settings():
    config = load_config(environ=PRODUCTION_ENV)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert config["TESTING"] is False


def test_production_start_without_secret_fails_with_clear_message(tmp_path):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    env.update(PATH=os.environ["PATH"], INSTANCE_PATH=str(tmp_path))
    result = subprocess.run([sys.executable, "-c", "from backend import create_app; create_app()"],
                            env=env, capture_output=True, text=True, cwd=os.getcwd(), timeout=60)
    assert result.returncode != 0
    assert "refusing to start in production: SECRET_KEY is not set" in result.stderr


def test_development_generates_and_keeps_its_own_secret(tmp_path):
    first = load_config(environ={"INSTANCE_PATH": str(tmp_path)})
    second = load_config(environ={"INSTANCE_PATH": str(tmp_path)})
    assert first["SECRET_KEY"].startswith("dev-")
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'kitchen.db'}"


def test_production_refuses_a_short_secret_and_lists_every_problem():
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 characters"):
        load_config(environ={**PRODUCTION_ENV, "SECRET_KEY": "x" * 31})
    env = {**{k: v for k, v in PRODUCTION_ENV.items() if k != "WECHAT_APPID"}, "WECHAT_SECRET": "dev-abc"}
    with pytest.raises(ConfigError, match="WECHAT_APPID is not set; WECHAT_SECRET is a development value"):
        load_config(environ=env)


def test_development_fills_unset_settings_and_overrides_come_last(tmp_path):
    config = load_config({"APP_ENV": "testing", "DEBUG": True, "MEDIA_HOOK_SECRET": "given"},
                         environ={"INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:6379/3",
                                  "WECHAT_APPID": "wx_from_env"})
    assert (config["WECHAT_APPID"], config["WECHAT_SECRET"], config["MEDIA_HOOK_SECRET"]) == (
        "wx_from_env", "dev-wechat-secret", "given")
    assert (config["APP_ENV"], config["TESTING"], config["DEBUG"]) == ("testing", True, True)
    assert config["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/3"
    assert config["STORAGE_LOCAL_PATH"] == str(tmp_path / "storage")
    assert config["MAX_CONTENT_LENGTH"] == 10 * 1024 * 1024 + 64 * 1024
    plain = load_config(environ={"INSTANCE_PATH": str(tmp_path)})
    assert (plain["WECHAT_APPID"], plain["MEDIA_HOOK_SECRET"], plain["RATELIMIT_STORAGE_URI"]) == (
        "wx_dev_appid", "dev-media-hook-secret", "memory://")
    assert (plain["APP_ENV"], plain["TESTING"], plain["DEBUG"]) == ("development", False, False)


def test_dev_login_exists_only_in_development(app_config):
    from backend import create_app

    testing = create_app(app_config).test_client()
    assert testing.post("/api/v1/auth/dev-login", json={"openid": "x"}).status_code == 404
    development = create_app({**app_config, "APP_ENV": "development"}).test_client()
    assert development.post("/api/v1/auth/dev-login", json={"openid": "x"}).status_code == 200
