"""Raising violations: one event, one violation, whatever the retries and races."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.notices.models import Notice
from backend.timeutil import utcnow
from backend.violations.models import Violation, ViolationEvent
from backend.violations.services import raise_violation


def test_same_event_makes_one_violation(demo):
    occurred = utcnow()
    first = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="cam1:no_mask:t0",
                            occurred_at=occurred, camera_id=1, confidence=0.8)
    second = raise_violation(canteen_id=1, kind="no_mask", source="ai", idempotency_key="cam1:no_mask:t0",
                             occurred_at=occurred, camera_id=1, confidence=0.9)
    assert first.created and not second.created
    assert first.violation.id == second.violation.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 1
    violation = first.violation
    assert violation.school_id == 1 and violation.status == "open" and violation.title == "未佩戴口罩"
    assert violation.due_at == occurred + timedelta(hours=48)
    events = db.session.scalars(sa.select(ViolationEvent)).all()
    assert [(e.action, e.to_status) for e in events] == [("open", "open")]


def test_concurrent_raises_of_one_event_make_one_violation(app, demo):
    def attempt(_):
        with app.app_context():
            try:
                return raise_violation(canteen_id=1, kind="rodent", source="ai", idempotency_key="cam2:rodent:t1",
                                       occurred_at=utcnow(), camera_id=2).created
            finally:
                db.session.remove()

    with ThreadPoolExecutor(4) as pool:
        created = list(pool.map(attempt, range(8)))
    assert created.count(True) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 1


def test_notices_of_a_new_violation_are_written_in_its_transaction(demo):
    all_notices = sa.select(sa.func.count()).select_from(Notice)
    before = db.session.scalar(all_notices)
    raised = raise_violation(canteen_id=1, kind="smoking", source="ai", idempotency_key="k-rolled-back",
                             occurred_at=utcnow(), commit=False)
    db.session.flush()
    notices = sa.select(sa.func.count()).select_from(Notice).where(Notice.subject_id == raised.violation.id)
    assert db.session.scalar(notices) > 0
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Violation)) == 0
    assert db.session.scalar(all_notices) == before
