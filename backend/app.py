"""The application factory."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIFlask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.api_docs import DOCS_SETTINGS
from backend.config import load_config
from backend.db_types import configure_field_encryption
from backend.errors import register_error_handlers
from backend.extensions import db, limiter, migrate
from backend.fields import IdConverter
from backend.permissions import AUTHENTICATOR
from backend.request_path import lighten_request_path

API_PREFIX = "/api/v1"


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # Foreign keys are off by default in SQLite; WAL lets the api read while a worker writes.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


def create_app(config: dict[str, Any] | None = None, *, with_routes: bool = True) -> APIFlask:
    """Build the Flask application; ``config`` overrides settings read from the environment.

    ``with_routes=False`` builds the workers' app: settings, extensions, models and services, but no HTTP
    routes, no OpenAPI document, no media-hook gateway and no CLI (see :func:`create_worker_app`).
    """
    settings = load_config(config)
    app = APIFlask("backend", title="明厨亮灶 API", version="1.0", instance_path=settings["INSTANCE_PATH"],
                   instance_relative_config=False, enable_openapi=with_routes)
    app.config.update(DOCS_SETTINGS)  # /docs from the app's own files, not a CDN (settings may override)
    app.config.update(settings)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.url_map.converters["id"] = IdConverter  # every <id:...> in a route: out of the column's range is 404
    logging.basicConfig(level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s")

    configure_field_encryption(app.config["SECRET_KEY"], app.config.get("FIELD_ENCRYPTION_KEY"))
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    limiter.init_app(app)
    if not event.contains(Engine, "connect", _sqlite_pragmas):
        event.listen(Engine, "connect", _sqlite_pragmas)

    from backend import all_models  # noqa: F401  every table in the metadata
    from backend.accounts import services as account_services
    from backend.notices.startup import log_notice_settings

    log_notice_settings(app.config)  # refuses unusable values; warns when WeChat delivery is not configured

    AUTHENTICATOR["token"] = account_services.principal_for_token
    account_services.install_principal_cache(app)
    register_error_handlers(app)
    if not with_routes:
        return app
    _register_blueprints(app)
    from backend import openapi_components, openapi_statuses

    openapi_statuses.install(app)  # every operation's error answers, derived from its declarations
    openapi_components.install(app)  # one component per schema (APIFlask can register one twice)
    from backend.cli import register_cli
    from backend.live import gateway

    register_cli(app)
    gateway.install(app)  # /internal/media: the media server's hooks, answered in front of Flask
    lighten_request_path(app, limiter)  # after the blueprints: their limits decide which hooks stay
    return app


def create_worker_app(config: dict[str, Any] | None = None) -> APIFlask:
    """The application of scheduler and worker processes: the services without the HTTP API."""
    return create_app(config, with_routes=False)


def _migrations_dir() -> Any:
    from backend.config import PROJECT_ROOT

    return PROJECT_ROOT / "migrations"


def _register_blueprints(app: APIFlask) -> None:
    from backend import api_docs, console_routes, files, probe_routes
    from backend.accounts import routes as accounts
    from backend.live import routes as live
    from backend.monitoring import routes as monitoring
    from backend.notices import routes as notices
    from backend.parent_meals import routes as parent_meals
    from backend.patrols import routes as patrols
    from backend.records import routes as records
    from backend.regulators import routes as regulators
    from backend.risk import routes as risk
    from backend.schools import routes as schools
    from backend.violations import alarm_routes
    from backend.violations import routes as violations

    app.register_blueprint(probe_routes.bp)
    app.register_blueprint(api_docs.bp)
    app.register_blueprint(console_routes.bp)  # /console/: the built web console, same origin as the API
    blueprints = [accounts.bp, schools.bp, files.bp, records.bp, live.bp, violations.bp, alarm_routes.bp,
                  notices.bp, regulators.bp, patrols.bp, monitoring.bp, risk.bp,
                  parent_meals.bp]
    if app.config["APP_ENV"] == "development":
        blueprints.append(accounts.dev_bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint, url_prefix=API_PREFIX)
