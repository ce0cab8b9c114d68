"""Writing and reading the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from backend.audit.actions import AuditAction
from backend.audit.models import AuditLog
from backend.extensions import db


def record_audit(actor_id: int | None, action: AuditAction, *, school_id: int | None = None,
                 target: tuple[str, int] | None = None, details: dict[str, Any] | None = None) -> AuditLog:
    """Add an audit row to the current transaction, so it commits or rolls back with the change it records.

    ``action`` is one of ``AuditAction`` (a plain string of one too): any other raises ``ValueError``, so no row holds
    an action the log cannot name."""
    entry = AuditLog(actor_id=actor_id, action=AuditAction(action).value, school_id=school_id,
                     target_type=target[0] if target else None, target_id=target[1] if target else None,
                     details=details or {})
    db.session.add(entry)
    return entry


def list_audit(school_id: int, *, before_id: int | None = None, limit: int = 50,
               action: str | None = None, actions: list[AuditAction] | None = None,
               since: datetime | None = None) -> list[AuditLog]:
    """A school's audit rows, newest first, paged by id; ``action`` or ``actions`` keep those actions only."""
    query = select(AuditLog).where(AuditLog.school_id == school_id)
    if before_id is not None:
        query = query.where(AuditLog.id < before_id)
    if action:
        query = query.where(AuditLog.action == action)
    if actions is not None:
        query = query.where(AuditLog.action.in_([a.value for a in actions]))
    if since is not None:
        query = query.where(AuditLog.at >= since)
    return list(db.session.scalars(query.order_by(AuditLog.id.desc()).limit(limit)))
