"""The Flask application inside worker processes: settings, database and services, no HTTP.

Workers call the same services as the api. One app per process (a forked child builds its own: database
connections must not cross a fork); tests install theirs with :func:`use_app`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask

_app: Flask | None = None
_app_pid: int | None = None
_lock = threading.Lock()


def get_app() -> Flask:
    """The process's application, created from the environment on first use."""
    global _app, _app_pid
    with _lock:
        if _app is None or _app_pid != os.getpid():
            from backend import create_worker_app

            _app, _app_pid = create_worker_app(), os.getpid()
        return _app


def use_app(app: Flask | None) -> None:
    """Make ``app`` the process's application (tests), or forget it with None."""
    global _app, _app_pid
    with _lock:
        _app, _app_pid = app, (os.getpid() if app is not None else None)


@contextmanager
def app_context() -> Iterator[Flask]:
    """An application context whose database session is removed afterwards (one per task)."""
    from backend.extensions import db

    app = get_app()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


def config_value(name: str, default: Any = None) -> Any:
    """A setting of the process's application."""
    return get_app().config.get(name, default)
