"""Escalation of overdue violations, run by the scheduler: ``escalate_overdue(now)``.

Level 1 when a violation the school still owes a fix for passes its due time: the principal (and the
parents' committee) are told. Level 2 a step later if it is still overdue: the region's regulators are told,
and from then on they review its rectification. The step is the violation's risk class's
(``backend/risk/classes.py``): class 1 at once, class 2 a day, class 3 never (routine supervision: it stays
with the principal). Each escalation is its own transaction with its
event and notices, guarded by a conditional UPDATE, so concurrent or repeated runs escalate once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, or_, select, update

from backend.extensions import db
from backend.notices.violation_notices import LEVEL_LABELS, REGULATOR_LEVEL, notify_escalated, notify_reporter
from backend.risk.classes import POLICIES, policy_of
from backend.timeutil import utcnow
from backend.violations.models import ACTIVE_STATUSES, Violation, ViolationEvent

# How long the principal has after level 1 before the regulator is brought in (class 2, and violations raised
# before classes existed).
REGULATOR_AFTER = POLICIES[2].regulator_after or timedelta(hours=24)


def _regulator_step_due(now: datetime) -> Any:
    """Level-1 violations whose class's step to the regulator has passed at ``now``."""
    steps = [and_(Violation.risk_class == risk_class, Violation.escalated_at <= now - policy.regulator_after)
             for risk_class, policy in POLICIES.items() if policy.regulator_after is not None]
    steps.append(and_(Violation.risk_class.is_(None), Violation.escalated_at <= now - REGULATOR_AFTER))
    return or_(*steps) if steps else false()


def overdue_query(now: datetime, limit: int):
    """Violations due for their next escalation level at ``now``, oldest deadline first."""
    return (select(Violation.id)
            .where(Violation.status.in_([s.value for s in ACTIVE_STATUSES]), Violation.due_at <= now,
                   or_(Violation.escalation_level == 0,
                       and_(Violation.escalation_level == 1, _regulator_step_due(now))))
            .order_by(Violation.due_at, Violation.id).limit(limit))


def escalate_overdue(now: datetime | None = None, limit: int = 200) -> int:
    """Escalate every overdue violation by one level; returns how many were escalated (needs an app context)."""
    now = now or utcnow()
    ids = list(db.session.scalars(overdue_query(now, limit)))
    db.session.rollback()  # end the read: each escalation below is its own short write transaction
    escalated = 0
    for violation_id in ids:
        escalated += _escalate_one(violation_id, now)
    return escalated


def _escalate_one(violation_id: int, now: datetime) -> int:
    violation = db.session.get(Violation, violation_id)
    if violation is None or violation.status not in ACTIVE_STATUSES or violation.due_at > now:
        db.session.rollback()
        return 0
    level = violation.escalation_level + 1
    reason = f"逾期未整改，升级为{LEVEL_LABELS.get(level, '')}"
    top = REGULATOR_LEVEL if policy_of(violation.risk_class).regulator_after is not None else REGULATOR_LEVEL - 1
    if level > top or not raise_level(violation, level, now, None, reason):
        db.session.rollback()
        return 0
    db.session.commit()
    return 1


def raise_level(violation: Violation, level: int, now: datetime, actor_id: int | None, reason: str, *,
                reviewed: bool = False, details: dict[str, Any] | None = None, cause: str | None = None) -> bool:
    """Move a violation from its current escalation level to ``level`` with its event and notices, uncommitted.

    A conditional UPDATE: False (nothing written) when another run changed the level or status first.
    ``reviewed``: a reviewer escalated an AI alarm (the notices say so instead of "overdue"); ``cause``: the
    notices' own words for why (the principal's hand-over).
    """
    result = db.session.execute(
        update(Violation).where(Violation.id == violation.id, Violation.escalation_level == violation.escalation_level,
                                Violation.status == violation.status)
        .values(escalation_level=level, escalated_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # another scheduler run (or reviewer) got there first
        return False
    db.session.refresh(violation)
    event = ViolationEvent(violation_id=violation.id, at=now, actor_id=actor_id, action="escalate",
                           from_status=violation.status, to_status=violation.status, reason=reason,
                           details={**(details or {}), "level": level})
    db.session.add(event)
    db.session.flush()
    notify_escalated(violation, level, now, reviewed=reviewed, cause=cause)
    notify_reporter(violation, event.id, "escalate", actor_id, now)
    return True
