"""The violation lifecycle as one service.

    open → notified → rectifying → submitted → closed
                        ▲              │
                        └── rejected ◄─┘          (any unfinished state) → closed as dismissed

Every transition is a conditional UPDATE (``WHERE status = <expected>``), so two people acting at once
cannot both move the same violation, and writes its ViolationEvent (actor, time, reason) and its notices
in the same transaction. Services take ``now`` so tests and the scheduler control the clock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from backend.db_util import insert_if_absent
from backend.errors import ApiError
from backend.extensions import db
from backend.notices import violation_notices
from backend.permissions import Action, Principal, is_principal_of, require
from backend.schools.models import School
from backend.timeutil import utcnow
from backend.violations.models import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    AlarmReview,
    AlarmVerdict,
    Rectification,
    Resolution,
    Verdict,
    Violation,
    ViolationEvent,
    ViolationSource,
    ViolationStatus,
)

# After a rejection the canteen gets at least this long to fix it again.
REWORK_HOURS = 24
MAX_PHOTOS = 9

# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "notify": (frozenset({ViolationStatus.OPEN}), ViolationStatus.NOTIFIED),
    "start": (frozenset({ViolationStatus.OPEN, ViolationStatus.NOTIFIED, ViolationStatus.REJECTED}),
              ViolationStatus.RECTIFYING),
    "submit": (frozenset({ViolationStatus.RECTIFYING}), ViolationStatus.SUBMITTED),
    "accept": (frozenset({ViolationStatus.SUBMITTED}), ViolationStatus.CLOSED),
    "reject": (frozenset({ViolationStatus.SUBMITTED}), ViolationStatus.REJECTED),
    "dismiss": (frozenset(ACTIVE_STATUSES | {ViolationStatus.SUBMITTED}), ViolationStatus.CLOSED),
}


def _invalid(violation: Violation, action: str) -> ApiError:
    return ApiError(409, "invalid_transition", f"当前状态为“{STATUS_LABELS.get(violation.status, violation.status)}”，"
                    "不能执行该操作", {"status": violation.status, "action": action})


def transition(violation: Violation, action: str, actor_id: int | None, now: datetime, *, reason: str | None = None,
               details: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> ViolationEvent:
    """Move a violation along ``action`` if it is still in a state that allows it; record the event.

    ``values`` are further columns to set in the same UPDATE. Raises 409 when the state changed under us.
    """
    allowed_from, to_status = TRANSITIONS[action]
    if violation.status not in allowed_from:
        raise _invalid(violation, action)
    from_status = violation.status
    result = db.session.execute(
        update(Violation).where(Violation.id == violation.id, Violation.status == from_status)
        .values(status=to_status, **(values or {})).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ApiError(409, "conflict", "该问题刚被其他人处理，请刷新后重试", {"action": action})
    db.session.refresh(violation)
    event = ViolationEvent(violation_id=violation.id, at=now, actor_id=actor_id, action=action,
                           from_status=from_status, to_status=to_status, reason=reason, details=details or {})
    db.session.add(event)
    db.session.flush()
    violation_notices.notify_reporter(violation, event.id, action, actor_id, now)
    return event


def _school(violation: Violation) -> School:
    return db.session.get(School, violation.school_id)


def check_reviewer(actor: Principal, violation: Violation) -> None:
    """The principal reviews, unless the violation is escalated to (or was found by) the regulator."""
    if actor.is_admin:
        return
    school = _school(violation)
    if violation_notices.reviewer_is_regulator(violation):
        if not actor.regulates(school.region.path):
            raise ApiError(403, "reviewer_is_regulator", "该问题由监管部门复核")
    elif not is_principal_of(actor, school):
        raise ApiError(403, "reviewer_is_principal", "该问题由校长复核")


def start_rectification(actor: Principal, violation: Violation, note: str | None = None,
                        now: datetime | None = None) -> Violation:
    """The canteen takes the problem on (受理), or takes it up again after a rejection."""
    require(actor, Action.VIOLATION_RECTIFY, _school(violation))
    transition(violation, "start", actor.user.id, now or utcnow(), reason=note)
    db.session.commit()
    return violation


def submit_rectification(actor: Principal, violation: Violation, measures: str, photos: Collection[str],
                         now: datetime | None = None) -> Rectification:
    """The canteen manager or staff report what they did, with photos; the reviewer is notified."""
    from backend.violations.photos import check_photo_keys

    now = now or utcnow()
    school = _school(violation)
    require(actor, Action.VIOLATION_RECTIFY, school)
    if len(photos) > MAX_PHOTOS:
        message = f"最多上传{MAX_PHOTOS}张照片"
        raise ApiError(422, "too_many_photos", message, {"max": MAX_PHOTOS, "fields": {"photos": [message]}})
    check_photo_keys(actor, school, photos)
    event = transition(violation, "submit", actor.user.id, now, reason=measures,
                       details={"photos": len(photos)})
    rectification = Rectification(violation_id=violation.id, measures=measures, photos=list(photos),
                                  submitted_by_id=actor.user.id, submitted_at=now)
    db.session.add(rectification)
    db.session.flush()
    event.details = {**event.details, "rectification_id": rectification.id}
    violation_notices.notify_submitted(violation, event.id, measures, actor.user.id, now)
    db.session.commit()
    return rectification


def review_rectification(actor: Principal, violation: Violation, approve: bool, reason: str | None,
                         now: datetime | None = None) -> Violation:
    """Accept (close as rectified) or reject (back to the canteen, with a reason) the latest rectification."""
    now = now or utcnow()
    check_reviewer(actor, violation)
    if not approve and not (reason and reason.strip()):
        raise ApiError(422, "reason_required", "驳回时必须填写原因", {"fields": {"reason": ["驳回时必须填写原因"]}})
    pending = next((r for r in reversed(violation.rectifications) if r.verdict is None), None)
    if approve:
        event = transition(violation, "accept", actor.user.id, now, reason=reason,
                           values={"closed_at": now, "resolution": Resolution.RECTIFIED})
    else:
        # A fresh deadline for the rework, never shorter than what was left.
        due = max(violation.due_at, now + timedelta(hours=REWORK_HOURS))
        event = transition(violation, "reject", actor.user.id, now, reason=reason, values={"due_at": due})
    if pending is not None:
        pending.verdict = Verdict.ACCEPTED if approve else Verdict.REJECTED
        pending.reviewed_by_id = actor.user.id
        pending.reviewed_at = now
        pending.review_reason = reason
        event.details = {**event.details, "rectification_id": pending.id}
    violation_notices.notify_reviewed(violation, event.id, approve, reason, actor.user.id, now)
    db.session.commit()
    return violation


def escalate_violation(actor: Principal, violation: Violation, reason: str, now: datetime | None = None) -> Violation:
    """The principal hands a problem the school cannot settle to the region's regulators (上报监管部门): it goes to
    the regulator's level at once, they are told, and from then on they review its rectification."""
    from backend.violations.escalation import raise_level

    now = now or utcnow()
    school = _school(violation)
    if violation.status == ViolationStatus.CLOSED:
        raise ApiError(409, "violation_closed", "该问题已办结，无需上报")
    if violation_notices.reviewer_is_regulator(violation):
        raise ApiError(409, "already_with_regulator", "该问题已由监管部门督办")
    if not (actor.is_admin or is_principal_of(actor, school)):
        raise ApiError(403, "principal_only", "仅校长可将问题上报监管部门")
    if not raise_level(violation, violation_notices.REGULATOR_LEVEL, now, actor.user.id, reason,
                       details={"cause": "principal"}, cause="经校长上报，"):
        db.session.rollback()
        raise ApiError(409, "conflict", "该问题刚被其他人处理，请刷新后重试", {"action": "escalate"})
    db.session.commit()
    return violation


def dismiss_violation(actor: Principal, violation: Violation, reason: str, now: datetime | None = None) -> Violation:
    """Close a violation that was a false alarm (e.g. a mis-detection), with the reason on record."""
    now = now or utcnow()
    check_reviewer(actor, violation)
    close_as_dismissed(violation, actor.user.id, reason, now)
    if violation.source == ViolationSource.AI:
        _record_false_positive(violation, actor.user_id, reason, now)
    db.session.commit()
    return violation


def _record_false_positive(violation: Violation, actor_id: int, reason: str, now: datetime) -> None:
    """An AI alarm withdrawn from its page is a false positive in the review's counts too (unless judged already)."""
    from backend.violations import alarm_signal

    if insert_if_absent(AlarmReview, dict(violation_id=violation.id, verdict=AlarmVerdict.FALSE_POSITIVE,
                                          reason=reason, reviewer_id=actor_id, reviewed_at=now),
                        ["violation_id"]) is not None:
        alarm_signal.signal_after_commit(violation.school_id, violation.id, new=False)


def close_as_dismissed(violation: Violation, actor_id: int, reason: str, now: datetime,
                       details: dict[str, Any] | None = None) -> ViolationEvent:
    """The dismissal itself, uncommitted, for a caller that checked who may do it (also the alarm review)."""
    event = transition(violation, "dismiss", actor_id, now, reason=reason, details=details,
                       values={"closed_at": now, "resolution": Resolution.DISMISSED})
    violation_notices.notify_dismissed(violation, event.id, reason, actor_id, now)
    return event
