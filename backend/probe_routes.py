"""Liveness and readiness probes (outside /api/v1, for load balancers and compose health checks)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from sqlalchemy import text

from backend.errors import ApiError
from backend.extensions import db
from backend.permissions import Action, rule

bp = APIBlueprint("health", __name__, tag="运维")


@bp.get("/healthz")
@rule(Action.PUBLIC)
def healthz() -> Any:
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
@rule(Action.PUBLIC)
@bp.doc(responses=[200, 503])
def readyz() -> Any:
    """The database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ApiError(503, "database_unavailable", "数据库暂时不可用") from exc
    finally:
        db.session.rollback()
    return {"status": "ready"}
