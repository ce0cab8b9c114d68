"""Flask extensions, created unbound and initialised in ``create_app``."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy.orm import DeclarativeBase, registry

from backend.db_types import UTCDateTime

# Named constraints keep Alembic migrations identical on SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every model."""

    # Every date-time column stores UTC and gives back aware datetimes.
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime})


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def autocommit_engine() -> Engine:
    """A small pool of autocommit connections for single-statement reads on hot paths (authentication).

    Reads that need no transaction skip BEGIN/ROLLBACK and the isolation-level reset a shared pool would
    do on every check-in. SQLite has no round trips to save, so it uses the main engine.
    """
    engine = current_app.extensions.get("autocommit_engine")
    if engine is None:
        if db.engine.dialect.name == "sqlite":
            engine = db.engine
        else:
            # Sized for a gthread worker's threads: overflow connections are closed on check-in, and
            # reopening one (and re-preparing its statements) costs more than the query.
            engine = create_engine(db.engine.url, isolation_level="AUTOCOMMIT", pool_size=8, max_overflow=8,
                                   connect_args={"prepare_threshold": 1})
        current_app.extensions["autocommit_engine"] = engine
    return engine


def dispose_engines() -> None:
    """Close every pooled connection of the current app (tests, and workers after fork)."""
    engine = current_app.extensions.pop("autocommit_engine", None)
    if engine is not None and engine is not db.engine:
        engine.dispose()
    db.engine.dispose()
