"""The scheduler's bookkeeping in the database: one lease holder at a time, each fire of a job claimed once,
finished runs pruned after three days while running ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.monitoring.models import JobRun, JobRunStatus
from backend.monitoring.services import (
    claim_job_run,
    finish_job_run,
    hold_lease,
    prune_job_runs,
    release_lease,
)
from backend.timeutil import utcnow

T0 = datetime(2027, 1, 6, 4, 0, tzinfo=UTC)


def test_one_lease_holder_until_it_expires_or_is_released(app):
    assert hold_lease("scheduler", "a", 30, T0)
    assert not hold_lease("scheduler", "b", 30, T0 + timedelta(seconds=10))
    assert hold_lease("scheduler", "a", 30, T0 + timedelta(seconds=20))  # renewal moves the expiry
    assert not hold_lease("scheduler", "b", 30, T0 + timedelta(seconds=40))
    assert hold_lease("scheduler", "b", 30, T0 + timedelta(seconds=51))  # a's lease ran out at 50 s
    assert not hold_lease("scheduler", "a", 30, T0 + timedelta(seconds=52))
    release_lease("scheduler", "b")
    assert hold_lease("scheduler", "a", 30, T0 + timedelta(seconds=53))


def test_each_fire_is_claimed_once_and_finished_runs_are_pruned(app):
    now = utcnow().replace(microsecond=0)
    first = claim_job_run("records.rules", now, "a")
    assert first is not None
    assert claim_job_run("records.rules", now, "b") is None  # the same fire, another scheduler
    assert claim_job_run("records.rules", now + timedelta(minutes=5), "b") is not None
    finish_job_run(first, JobRunStatus.SUCCEEDED, result={"violations": 0})
    run = db.session.get(JobRun, first)
    assert (run.status, run.result, run.claimed_by) == ("succeeded", {"violations": 0}, "a")

    old_done = claim_job_run("notices.dispatch", now - timedelta(days=4), "a")
    finish_job_run(old_done, JobRunStatus.FAILED, error="boom")
    old_running = claim_job_run("notices.dispatch", now - timedelta(days=4, seconds=2), "a")
    assert prune_job_runs(keep_days=3) == 1
    left = set(db.session.scalars(sa.select(JobRun.id)))
    assert old_done not in left and {first, old_running} <= left
