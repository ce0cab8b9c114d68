"""The api with a bench-only hook: every response says how many SQL statements its request ran.

    gunicorn 'bench.query_count:create_app()'

``X-Query-Count`` counts the statements that went through SQLAlchemy while the request was handled
(authentication's prepared statement runs on the driver's own cursor and is kept a second per process, so
it is not among them). Only bench/console.py serves this; production never registers the listener.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, has_request_context
from sqlalchemy import event

from backend.app import create_app as create_api
from backend.extensions import db

HEADER = "X-Query-Count"


def install(app: Flask) -> None:
    """Count statements per request on the app's engine and answer the count in a header."""
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        if has_request_context():
            g.query_count = g.get("query_count", 0) + 1

    @app.after_request
    def _header(response: Any) -> Any:
        response.headers[HEADER] = str(g.get("query_count", 0))
        return response


def create_app() -> Flask:
    """The api as gunicorn serves it, plus the query counter."""
    app = create_api()
    install(app)
    return app
