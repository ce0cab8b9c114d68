"""No Docker engine runs here, so the compose file is checked against the code: every service's command,
environment and health check must match the settings the code reads and the modes the entrypoint knows."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from backend.config import SETTINGS, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker" / "compose.yaml"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
APP_SERVICES = {"api": "api", "scheduler": "scheduler", "worker": "worker"}
# Variables the processes read that are not application settings.
PROCESS_VARIABLES = {"PORT", "WEB_CONCURRENCY"}
SETTING_NAMES = {s.name for s in SETTINGS}
# The secrets an operator must give compose, and what one who wants WeChat subscribe messages adds.
REQUIRED_ENV = {"SECRET_KEY": "k" * 48, "WECHAT_APPID": "wx0123456789", "WECHAT_SECRET": "s" * 32,
                "S3_SECRET_ACCESS_KEY": "minio-secret-123", "MEDIA_HOOK_SECRET": "m" * 32}
NOTICE_ENV = {"WECHAT_SUBSCRIBE_TEMPLATES": "violation=tV1,progress=tP2,escalation=tE3,supervision=tS4,binding=tB5,"
                                            "unreported=tU6,warning=tW7,seal=tSe8",
              "WECHAT_PUSH_TOKEN": "p" * 32}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def _substitute(value: str, env: dict[str, str]) -> str:
    """Resolve ${VAR}, ${VAR:-default} and ${VAR:?message} the way compose does."""
    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and env[name] != "":
            return env[name]
        if op == ":-":
            return arg or ""
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", replace, str(value))


def _entrypoint_modes() -> set[str]:
    return set(re.findall(r"^\s{2}([a-z]+)\)\s*$", ENTRYPOINT.read_text(), flags=re.M))


def test_expected_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "minio", "media", "api", "scheduler", "worker"}


@pytest.mark.parametrize(("service", "mode"), APP_SERVICES.items())
def test_app_services_run_one_image_in_a_known_mode(compose, service, mode):
    spec = compose["services"][service]
    assert spec["build"]["dockerfile"] == "docker/Dockerfile"
    assert spec["image"] == "bright-kitchen:latest"
    assert spec["command"] == [mode]
    assert mode in _entrypoint_modes()


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_is_exactly_settings_the_code_reads(compose, service):
    environment = compose["services"][service]["environment"]
    unknown = set(environment) - SETTING_NAMES - PROCESS_VARIABLES
    assert unknown == set(), f"{service} sets variables the code never reads: {unknown}"
    required = {s.name for s in SETTINGS if s.required_in_production}
    assert required <= set(environment)
    assert environment["APP_ENV"] == "production"
    for setting in SETTINGS:
        if setting.secret and setting.name in environment:
            # Secrets come from the operator's environment, never from this file.
            assert str(environment[setting.name]).startswith("${"), setting.name


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_environment_passes_production_validation(compose, service):
    env = {k: _substitute(v, REQUIRED_ENV) for k, v in compose["services"][service]["environment"].items()}
    config = load_config(environ=env)
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://kitchen:")
    assert "@postgres:5432/" in config["SQLALCHEMY_DATABASE_URI"]
    assert config["REDIS_URL"].startswith("redis://redis:6379")
    assert config["S3_ENDPOINT_URL"] == "http://minio:9000"
    assert config["STORAGE_BACKEND"] == "s3"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_notice_settings_reach_every_app_service(compose, service):
    """The dispatcher (scheduler or worker) and the api get the operator's templates: nothing to warn about."""
    from backend.notices.retention import retention_days
    from backend.notices.startup import check_notice_settings
    from backend.notices.templates import miniprogram_state, template_ids

    environment = compose["services"][service]["environment"]
    env = {k: _substitute(v, {**REQUIRED_ENV, **NOTICE_ENV}) for k, v in environment.items()}
    config = load_config(environ=env)
    assert template_ids(config) == {"violation": "tV1", "progress": "tP2", "escalation": "tE3", "supervision": "tS4",
                                    "binding": "tB5", "unreported": "tU6", "warning": "tW7", "seal": "tSe8"}
    assert check_notice_settings(config) == []
    assert miniprogram_state(config) == "formal"
    assert retention_days(config) == 180
    for name in NOTICE_ENV:
        assert str(environment[name]).startswith("${"), name  # from the operator, never written in the file


def test_without_templates_production_starts_and_says_notices_stay_in_the_inbox(compose, caplog):
    from backend import create_app

    environment = compose["services"]["worker"]["environment"]
    env = {k: _substitute(v, REQUIRED_ENV) for k, v in environment.items()}
    config = load_config(environ=env)
    assert config["WECHAT_SUBSCRIBE_TEMPLATES"] in (None, "")
    overrides = {k: v for k, v in config.items() if k in SETTING_NAMES}
    with caplog.at_level("WARNING", logger="backend.notices.startup"):
        create_app({**overrides, "DATABASE_URL": "sqlite://"})
    logged = [r.getMessage() for r in caplog.records if r.name == "backend.notices.startup"]
    assert any("WECHAT_SUBSCRIBE_TEMPLATES is not set" in m and "in-app inbox only" in m for m in logged), logged
    assert any("WECHAT_PUSH_TOKEN is not set" in m for m in logged), logged


@pytest.mark.parametrize(("name", "value"), [("WECHAT_SUBSCRIBE_TEMPLATES", "violation:tV1"),
                                             ("WECHAT_SUBSCRIBE_TEMPLATES", "violations=tV1"),
                                             ("WECHAT_MINIPROGRAM_STATE", "release"),
                                             ("NOTICE_LOG_RETENTION_DAYS", "0")])
def test_unusable_notice_settings_refuse_to_start(compose, name, value):
    from backend import create_app

    environment = compose["services"]["api"]["environment"]
    env = {k: _substitute(v, {**REQUIRED_ENV, **NOTICE_ENV, name: value}) for k, v in environment.items()}
    overrides = {k: v for k, v in load_config(environ=env).items() if k in SETTING_NAMES}
    with pytest.raises(ConfigError, match=name):
        create_app({**overrides, "DATABASE_URL": "sqlite://"})


def test_compose_refuses_to_start_without_secrets(compose):
    environment = compose["services"]["api"]["environment"]
    with pytest.raises(KeyError, match="SECRET_KEY"):
        _substitute(environment["SECRET_KEY"], {})
    env = {k: v for k, v in environment.items() if "SECRET_KEY" not in k}
    env = {k: _substitute(v, {"WECHAT_APPID": "wx1", "WECHAT_SECRET": "s" * 32, "S3_SECRET_ACCESS_KEY": "x",
                               "MEDIA_HOOK_SECRET": "m"}) for k, v in env.items()}
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(environ=env)


def test_every_service_has_a_health_check(compose):
    for name, spec in compose["services"].items():
        assert spec.get("healthcheck", {}).get("test"), name


def test_api_health_check_probes_readiness_on_the_port_gunicorn_binds(compose):
    api = compose["services"]["api"]
    probe = " ".join(api["healthcheck"]["test"])
    port = api["environment"]["PORT"]
    assert f"localhost:{port}/readyz" in probe
    assert f"{port}:{port}" in api["ports"]
    assert "${PORT:-8000}" in ENTRYPOINT.read_text()


def test_readyz_is_a_real_route():
    from backend import create_app

    rules = {r.rule for r in create_app({"APP_ENV": "testing", "DATABASE_URL": "sqlite://"}).url_map.iter_rules()}
    assert {"/readyz", "/healthz"} <= rules


@pytest.mark.parametrize("service", ["scheduler", "worker"])
def test_worker_health_checks_use_the_probe_mode(compose, service):
    assert compose["services"][service]["healthcheck"]["test"] == ["CMD", "docker/entrypoint.sh", "probe"]
    assert "probe" in _entrypoint_modes()


def test_app_services_wait_for_healthy_dependencies(compose):
    for service in APP_SERVICES:
        depends = compose["services"][service]["depends_on"]
        assert all(depends[name]["condition"] == "service_healthy" for name in ("postgres", "redis", "minio"))


def test_media_server_hooks_point_at_the_api_workers_hook_listener(compose):
    media = compose["services"]["media"]["environment"]
    api = compose["services"]["api"]["environment"]
    assert api["MEDIA_HOOK_LISTEN"] == "0.0.0.0:8001"
    assert media["API_HOOK_BASE"] == "http://api:8001"
    assert "8001" not in str(compose["services"]["api"]["ports"])  # internal: the media server's only
    # gunicorn starts the listener only with the config module.
    assert "--config python:backend.live.gunicorn_conf" in ENTRYPOINT.read_text()
    assert media["MEDIA_HOOK_SECRET"] == compose["services"]["api"]["environment"]["MEDIA_HOOK_SECRET"]


def test_probe_reports_a_reachable_database(tmp_path):
    from backend.probe import probe

    assert probe({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.db'}", "REDIS_URL": None}) == []
    problems = probe({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none", "REDIS_URL": None})
    assert problems and problems[0].startswith("database:")


def test_entrypoint_refuses_unknown_modes():
    result = subprocess.run(["sh", str(ENTRYPOINT), "dance"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 64
    assert "usage" in result.stderr


def test_the_image_serves_the_same_console_build():
    """docker/ serves the console the API serves: a Node stage runs `npm ci` and `npm run build` on the console's
    sources, and the final image holds only that build, where ``backend.console_routes`` looks for it."""
    from backend.config import PROJECT_ROOT
    from backend.console_routes import CONSOLE_DIST

    text = (ROOT / "docker" / "Dockerfile").read_text(encoding="utf-8")
    stages = re.split(r"^FROM ", text, flags=re.M)[1:]
    builder = next(s for s in stages if re.match(r"\S+ AS console\b", s))
    assert re.search(r"^RUN npm ci\b", builder, re.M) and re.search(r"^RUN npm run build$", builder, re.M)
    assert re.search(r"^COPY console/ \./$", builder, re.M)
    final = stages[-1]
    workdir = re.findall(r"^WORKDIR (\S+)$", final, re.M)[-1]
    copied = re.findall(r"^COPY --from=console (\S+) (\S+)$", final, re.M)
    builder_dir = re.findall(r"^WORKDIR (\S+)$", builder, re.M)[-1]
    assert copied == [(f"{builder_dir}/dist", str(CONSOLE_DIST.relative_to(PROJECT_ROOT)))]
    # The API finds it from its own place: backend/ is copied right under the same working directory.
    assert re.search(r"^COPY backend backend$", final, re.M) and workdir == "/app"
    # The local build and node_modules stay out of the build context (the image builds its own).
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert "console/dist" in ignored and "**/node_modules" in ignored
