"""A database error while recording replies makes the WeChat dispatcher fail, not hang: its sender threads stop
waiting for a commit that will not come (seen as a hung thread on PostgreSQL under load), and nothing is lost:
the unrecorded attempts are reclaimed once the lease ends."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.notices import dispatcher, lease
from backend.notices.models import Notice
from backend.timeutil import utcnow
from backend.violations.services import raise_violation
from tests.violations.conftest import grant, user_id

STAFF = "demo-staff-1"


def test_a_failed_group_commit_raises_instead_of_hanging_and_loses_nothing(app, kitchen, monkeypatch):
    grant(STAFF, "violation", times=6)
    now = utcnow()
    for n in range(6):
        raise_violation(canteen_id=1, kind="camera_offline", source="ai", idempotency_key=f"w-{n}", occurred_at=now,
                        camera_id=1)
    now = utcnow()  # every notice is due
    real = dispatcher._record_group

    def failing(*args, **kwargs):
        raise sa.exc.OperationalError("UPDATE notice", {}, Exception("deadlock detected"))

    monkeypatch.setattr(dispatcher, "_record_group", failing)
    outcome: list[BaseException | None] = []

    def run() -> None:
        with app.app_context():
            try:
                dispatcher.dispatch_due(now, 10, workers=2)
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the dispatcher hung after a failed commit"
    assert isinstance(outcome[0], sa.exc.OperationalError)
    monkeypatch.setattr(dispatcher, "_record_group", real)
    # Once the lease ends, every notice is sent: the attempts nobody recorded are reclaimed as interrupted.
    later = now + timedelta(seconds=lease.DEFAULT_LEASE_SECONDS + 1)
    while dispatcher.dispatch_due(later, 10).claimed:
        later += timedelta(hours=2)
    db.session.expire_all()
    statuses = db.session.scalars(sa.select(Notice.status).where(Notice.user_id == user_id(STAFF))).all()
    assert len(statuses) == 6 and set(statuses) == {"sent"}
