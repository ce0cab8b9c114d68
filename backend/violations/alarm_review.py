"""Reviewing an AI alarm: confirm it, mark it a false positive (with a reason) or escalate it.

- confirmed: the alarm stands; parents' side sees it from now on and the committee is told;
- false_positive: the violation closes as dismissed (the lifecycle's own dismissal) and stays hidden from
  parents for good;
- escalated: released like a confirmation and raised to the regulators' level (the escalation service's
  own step): the region's regulators are told and review its rectification.

One verdict per alarm. The same verdict again (a double click, a retry, a second reviewer agreeing) answers
the existing review and changes nothing; a different verdict is refused with 409 ``alarm_already_reviewed``:
nobody silently overwrites another reviewer. Each verdict is an event in the violation's timeline too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from backend.db_util import insert_if_absent
from backend.errors import ApiError
from backend.extensions import db
from backend.notices import violation_notices
from backend.permissions import Action, Principal, require
from backend.schools.models import School
from backend.timeutil import shanghai_iso, utcnow
from backend.violations import alarm_signal, lifecycle
from backend.violations.alarm_queue import review_out
from backend.violations.escalation import raise_level
from backend.violations.models import (
    ACTIVE_STATUSES,
    STATUS_LABELS,
    AlarmReview,
    AlarmVerdict,
    Resolution,
    Violation,
    ViolationEvent,
    ViolationSource,
    ViolationStatus,
)
from backend.violations.views import user_names

REASON_REQUIRED = "标记误报时必须填写原因"
NO_BOXES_ON_FALSE = "误报的画面里没有要框出的目标，不能标注框"


def _current(violation_id: int) -> AlarmReview | None:
    return db.session.scalar(select(AlarmReview).where(AlarmReview.violation_id == violation_id))


def _already(review: AlarmReview) -> ApiError:
    label = AlarmVerdict.labels().get(review.verdict, review.verdict)
    return ApiError(409, "alarm_already_reviewed", f"该告警已被审核为“{label}”，不能改判",
                    {"review": {"verdict": review.verdict, "reviewer_id": review.reviewer_id,
                                "reviewed_at": shanghai_iso(review.reviewed_at)}})


def _check(violation: Violation, verdict: str, reason: str | None, boxes: list[dict[str, Any]] | None) -> None:
    if violation.source != ViolationSource.AI:
        raise ApiError(409, "not_an_alarm", "该问题不是智能识别告警，无需审核", {"source": violation.source})
    if verdict == AlarmVerdict.FALSE_POSITIVE and boxes:
        raise ApiError(422, "boxes_not_allowed", NO_BOXES_ON_FALSE, {"fields": {"boxes": [NO_BOXES_ON_FALSE]}})
    if verdict == AlarmVerdict.FALSE_POSITIVE and not (reason and reason.strip()):
        raise ApiError(422, "reason_required", REASON_REQUIRED, {"fields": {"reason": [REASON_REQUIRED]}})
    # Marking false or escalating needs an unfinished violation; confirming is a record, except of one
    # already withdrawn as a false alarm (that would show parents a dismissal).
    open_statuses = ACTIVE_STATUSES | {ViolationStatus.SUBMITTED}
    if violation.resolution == Resolution.DISMISSED or (verdict != AlarmVerdict.CONFIRMED
                                                        and violation.status not in open_statuses):
        raise ApiError(409, "invalid_transition",
                       f"当前状态为“{STATUS_LABELS.get(violation.status, violation.status)}”，不能执行该操作",
                       {"status": violation.status, "action": verdict})


def review_alarm(actor: Principal, violation: Violation, verdict: str, reason: str | None,
                 now: datetime | None = None, boxes: list[dict[str, Any]] | None = None) -> tuple[AlarmReview, bool]:
    """Record a verdict and apply it; returns the review and whether this call made it (False: same verdict).

    ``boxes`` (a confirmation's corrected boxes, fractions of the picture) are kept with the verdict for the
    training set (``training_set.py``); the same verdict again keeps the first one's boxes."""
    now = now or utcnow()
    require(actor, Action.ALARM_REVIEW, db.session.get(School, violation.school_id))
    existing = _current(violation.id)
    if existing is None:
        _check(violation, verdict, reason, boxes)
        kept = [{key: box[key] for key in ("label", "x1", "y1", "x2", "y2")} for box in boxes] if boxes else None
        review_id = insert_if_absent(AlarmReview, dict(violation_id=violation.id, verdict=verdict,
                                                       reason=(reason or "").strip() or None, boxes=kept,
                                                       reviewer_id=actor.user_id, reviewed_at=now),
                                     ["violation_id"])
        existing = _current(violation.id)
        if review_id is not None:
            _apply(violation, existing, now)
            alarm_signal.signal_after_commit(violation.school_id, violation.id, new=False)
            db.session.commit()
            return existing, True
    if existing.verdict != verdict:
        db.session.rollback()
        raise _already(existing)
    db.session.rollback()
    return _current(violation.id), False


def _apply(violation: Violation, review: AlarmReview, now: datetime) -> None:
    actor_id = review.reviewer_id
    details = {"verdict": review.verdict, "alarm_review_id": review.id}
    if review.verdict == AlarmVerdict.FALSE_POSITIVE:
        lifecycle.close_as_dismissed(violation, actor_id, f"误报：{review.reason}", now, details)
        return
    if review.verdict == AlarmVerdict.CONFIRMED:
        db.session.add(ViolationEvent(violation_id=violation.id, at=now, actor_id=actor_id, action="confirm",
                                      from_status=violation.status, to_status=violation.status,
                                      reason=review.reason, details=details))
    violation_notices.notify_released(violation, now)
    if review.verdict == AlarmVerdict.ESCALATED:
        level = max(violation.escalation_level, violation_notices.REGULATOR_LEVEL)
        if level == violation.escalation_level:  # already with the regulators: the verdict is the record
            db.session.add(ViolationEvent(violation_id=violation.id, at=now, actor_id=actor_id, action="escalate",
                                          from_status=violation.status, to_status=violation.status,
                                          reason=review.reason or "告警审核升级督办", details=details))
        elif not raise_level(violation, level, now, actor_id, review.reason or "告警审核升级督办", reviewed=True,
                             details=details):
            db.session.rollback()
            raise ApiError(409, "conflict", "该问题刚被其他人处理，请刷新后重试", {"action": "escalate"})


def review_detail(review: AlarmReview) -> dict[str, Any]:
    """The review as the route answers it."""
    return review_out(review, user_names({review.reviewer_id}))
