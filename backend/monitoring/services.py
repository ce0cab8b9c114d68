"""Scheduler lease and job-run bookkeeping, shared by every scheduler and worker process.

Both work on SQLite and PostgreSQL with plain statements: the lease is a conditional UPDATE (or an INSERT
that loses to an existing row), a job run is claimed by an INSERT … ON CONFLICT DO NOTHING on the unique
(job, scheduled time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.db_util import insert_if_absent
from backend.extensions import db
from backend.monitoring.models import CameraHealthEvent, JobRun, JobRunStatus, SchedulerLease
from backend.timeutil import as_utc, utcnow


def hold_lease(name: str, holder: str, ttl_seconds: float, now: datetime | None = None) -> bool:
    """Take or renew the lease ``name`` for ``holder``; False while another holder's lease is unexpired."""
    now = now or utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    renewed = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name,
               or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False))
    if renewed.rowcount == 1:
        db.session.commit()
        return True
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = db.session.execute(
        insert(SchedulerLease).values(name=name, holder=holder, expires_at=expires, acquired_at=now)
        .on_conflict_do_nothing(index_elements=["name"]).returning(SchedulerLease.name)).scalar()
    db.session.commit()
    return inserted is not None


def release_lease(name: str, holder: str) -> None:
    """Give the lease up at shutdown so a standby takes over at once."""
    db.session.execute(delete(SchedulerLease).where(SchedulerLease.name == name, SchedulerLease.holder == holder))
    db.session.commit()


def claim_job_run(job_name: str, scheduled_for: datetime, holder: str) -> int | None:
    """The new run's id, or None when this fire of the job was already claimed (by anyone)."""
    now = utcnow()
    run_id = insert_if_absent(JobRun, dict(job_name=job_name, scheduled_for=as_utc(scheduled_for), claimed_by=holder,
                                           status=JobRunStatus.RUNNING, started_at=now, result={}),
                              ["job_name", "scheduled_for"])
    db.session.commit()
    return run_id


def finish_job_run(run_id: int, status: JobRunStatus, result: dict[str, Any] | None = None,
                   error: str | None = None) -> None:
    """Record how a run ended."""
    db.session.execute(update(JobRun).where(JobRun.id == run_id)
                       .values(status=status, finished_at=utcnow(), result=result or {}, error=error)
                       .execution_options(synchronize_session=False))
    db.session.commit()


def prune_job_runs(keep_days: int = 3) -> int:
    """Delete finished runs older than ``keep_days`` (the dispatcher alone fires every second)."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(delete(JobRun).where(JobRun.scheduled_for < cutoff,
                                                     JobRun.status != JobRunStatus.RUNNING)
                                .execution_options(synchronize_session=False))
    db.session.commit()
    return int(result.rowcount or 0)


def record_health_change(camera_id: int, at: datetime, from_status: str, to_status: str,
                         problems: list[str] | None = None, metrics: dict[str, float] | None = None) -> None:
    """Add one change of a camera's health to its history (in the caller's transaction).

    The history is the intervals the desk computes uptime from (``camera_uptime.py``): the detection worker
    writes it at each change, never per sample.
    """
    db.session.add(CameraHealthEvent(camera_id=camera_id, at=as_utc(at), from_status=from_status,
                                     to_status=to_status, problems=problems or [], metrics=metrics or {}))
