"""Raising violations: the one entry point used by detection workers, record rules, inspections and reports.

The lifecycle (notify, rectify, review, escalate) builds on this module. Every transition, creation included,
writes its notices by calling :mod:`backend.notices.violation_notices` directly, inside the transaction that
makes the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from backend.db_util import insert_if_absent
from backend.errors import not_found
from backend.extensions import db
from backend.notices import violation_notices
from backend.risk.classes import kind_setting
from backend.schools.models import Canteen, School
from backend.timeutil import as_utc, utcnow
from backend.violations import alarm_signal
from backend.violations.models import (
    KIND_LABELS,
    Violation,
    ViolationEvent,
    ViolationSource,
    ViolationStatus,
)


@dataclass(frozen=True)
class RaisedViolation:
    """The violation for an event, and whether this call created it (False: it already existed)."""

    violation: Violation
    created: bool


def due_at_for(kind: str, occurred_at: datetime, region_path: str) -> tuple[datetime, int]:
    """When a violation of this kind must be rectified, and its risk class, by the region's settings
    (``backend/risk/classes.py``: the region's own, else its parent's, else the shipped default)."""
    setting = kind_setting(region_path, kind)
    return as_utc(occurred_at) + timedelta(hours=setting.deadline_hours), setting.risk_class


def raise_violation(*, canteen_id: int, kind: str, source: str, idempotency_key: str, occurred_at: datetime,
                    camera_id: int | None = None, title: str | None = None, description: str | None = None,
                    evidence: dict[str, Any] | None = None, confidence: float | None = None,
                    details: dict[str, Any] | None = None, actor_id: int | None = None,
                    commit: bool = True, now: datetime | None = None) -> RaisedViolation:
    """Create the violation for an event exactly once.

    ``idempotency_key`` names the event (for detection: camera, kind and event start); a second call with
    the same key, even concurrent or after a crash and retry, returns the existing row and creates nothing.
    ``now`` is when the platform registers it (the demo's history writes past weeks); the current time by default.
    """
    existing = db.session.scalar(select(Violation).where(Violation.idempotency_key == idempotency_key))
    if existing is not None:
        return RaisedViolation(existing, False)
    canteen = db.session.get(Canteen, canteen_id)
    if canteen is None:
        raise not_found("食堂")
    now = now or utcnow()
    due_at, risk_class = due_at_for(kind, occurred_at, db.session.get(School, canteen.school_id).region.path)
    violation_id = insert_if_absent(Violation, dict(
        school_id=canteen.school_id, canteen_id=canteen_id, camera_id=camera_id, kind=kind, source=source,
        status=ViolationStatus.OPEN, title=(title or KIND_LABELS.get(kind, kind))[:100], description=description,
        evidence=evidence or {}, confidence=confidence, details=details or {}, idempotency_key=idempotency_key,
        occurred_at=as_utc(occurred_at), created_at=now, due_at=due_at,
        risk_class=risk_class, escalation_level=0, created_by_id=actor_id), ["idempotency_key"])
    if violation_id is None:
        # Another worker created it between our check and our insert: that one is the violation.
        existing = db.session.scalar(select(Violation).where(Violation.idempotency_key == idempotency_key))
        return RaisedViolation(existing, False)
    violation = db.session.get(Violation, violation_id)
    db.session.add(ViolationEvent(violation_id=violation.id, at=now, actor_id=actor_id, action="open", from_status=None,
                                  to_status=ViolationStatus.OPEN, details={"source": source}))
    violation_notices.notify_created(violation)
    if source == ViolationSource.AI:  # the review queue's cursor moves once this commits
        alarm_signal.signal_after_commit(violation.school_id, violation.id, new=True)
    if commit:
        db.session.commit()
    return RaisedViolation(violation, True)
