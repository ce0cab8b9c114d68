"""Helpers of the alarm-review tests: raise AI alarms as the detection worker does."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice
from backend.schools.models import Camera, Canteen, KitchenArea, School
from backend.timeutil import utcnow
from backend.violations.models import Violation
from backend.violations.services import raise_violation


def cameras_of(school_id: int) -> list[int]:
    """The ids of a school's cameras, in order."""
    return list(db.session.scalars(sa.select(Camera.id).join(KitchenArea).join(Canteen)
                                   .where(Canteen.school_id == school_id).order_by(Camera.id)))


def alarm(school_id: int = 1, *, camera: int = 0, kind: str = "no_mask", at: datetime | None = None,
          key: str | None = None, source: str = "ai") -> int:
    """An AI alarm (committed) on the school's ``camera``-th camera; returns its id."""
    camera_id = cameras_of(school_id)[camera]
    canteen_id = db.session.scalar(sa.select(Canteen.id).where(Canteen.school_id == school_id))
    at = at or utcnow()
    violation = raise_violation(canteen_id=canteen_id, kind=kind, source=source, camera_id=camera_id,
                                idempotency_key=key or f"{camera_id}:{kind}:{at.isoformat()}", occurred_at=at,
                                confidence=0.87, evidence={"annotated": f"evidence/{camera_id}/a.jpg",
                                                           "parent_safe": f"evidence/{camera_id}/p.jpg"}).violation
    return violation.id


def minutes_ago(minutes: float) -> datetime:
    """Now minus some minutes."""
    return utcnow() - timedelta(minutes=minutes)


def region_of(school_id: int) -> int:
    """The region id of a school."""
    return db.session.get(School, school_id).region_id


def notice_recipients(violation_id: int) -> set[str]:
    """The openids of everyone who got any notice about a violation."""
    return set(db.session.scalars(
        sa.select(User.openid).join(Notice, Notice.user_id == User.id)
        .where(Notice.subject_id == violation_id, Notice.subject_type == "violation")))


def status_of(violation_id: int) -> str:
    """A violation's status as stored now."""
    db.session.expire_all()
    return db.session.get(Violation, violation_id).status
