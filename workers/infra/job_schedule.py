"""THE schedule: every periodic job of the platform, in one list.

To add a job, append a ``Job`` to ``SCHEDULE``:

    Job("records.sample_check", "backend.records.compliance_rules:check_samples", cron(hour="14", minute="5"),
        "留样检查: lunch samples logged by 14:05")

- ``func`` is "module:function". It runs in an app context, on the scheduler's pool or a Celery worker,
  takes no argument or a ``scheduled_for`` keyword (the aware UTC fire time), owns its transaction and
  may return a small JSON-able dict (stored in ``job_run.result``).
- It must be safe to run twice for the same fire: a Celery worker killed mid-job has the job redone.
- Triggers: ``every(seconds=…)`` (aligned on a fixed epoch, so every scheduler computes the same fire
  times) or ``cron(…)`` in Asia/Shanghai. Each fire runs once even with two schedulers running: the
  fire is claimed in ``job_run`` (unique job + fire time) by the scheduler holding the lease.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from backend.timeutil import SHANGHAI

#: Interval triggers count from here, so fire times are identical in every scheduler process.
ANCHOR = datetime(2024, 1, 1, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Job:
    """One periodic job: unique name, "module:function", trigger, and what it is for."""

    name: str
    func: str
    trigger: BaseTrigger
    description: str = ""


def every(**interval: Any) -> IntervalTrigger:
    """An interval trigger aligned on :data:`ANCHOR` (e.g. ``every(seconds=2)``, ``every(minutes=10)``)."""
    return IntervalTrigger(**interval, start_date=ANCHOR, timezone=SHANGHAI)


def cron(**fields: Any) -> CronTrigger:
    """A cron trigger in Asia/Shanghai (e.g. ``cron(hour="*/1", minute="5")``)."""
    return CronTrigger(**fields, timezone=SHANGHAI)


SCHEDULE: list[Job] = [
    Job("detection.dispatch", "workers.jobs.detection:dispatch_due_cameras", every(seconds=1),
        "submit one sample task per camera whose sampling interval came round"),
    Job("monitoring.prune_job_runs", "workers.jobs.housekeeping:prune_job_runs", cron(minute="17"),
        "forget job runs older than three days"),
    Job("notices.prune_logs", "workers.jobs.housekeeping:prune_notice_logs", cron(minute="37"),
        "delete WeChat push events and notice send attempts past NOTICE_LOG_RETENTION_DAYS"),
    Job("records.rules", "workers.jobs.platform:record_rules", every(minutes=5),
        "record-compliance rules: sample retention, disinfection, supplier certificates, morning checks "
        "and staff health certificates"),
    Job("records.unreported_summary", "workers.jobs.platform:unreported_summary", cron(hour="21", minute="30"),
        "未报送: each region's canteens missing a required record today, to its regulators' inbox"),
    Job("notices.dispatch", "workers.jobs.platform:dispatch_notices", every(seconds=2),
        "send due notices from the outbox"),
    Job("camera.false_alarms", "workers.jobs.platform:raise_false_alarm_thresholds", every(minutes=10),
        "a camera's kind whose reviewed alarms are mostly false: its confidence threshold rises one step"),
    Job("notices.channels", "workers.jobs.platform:dispatch_channels", every(seconds=2),
        "send due SMS and WeCom group-robot deliveries (backend/notices/channel_dispatcher.py)"),
    Job("violations.escalate", "workers.jobs.platform:escalate_violations", every(minutes=1),
        "escalate violations past their due time"),
    Job("risk.cards", "workers.jobs.platform:issue_risk_cards", every(minutes=5),
        "yellow and red cards for overdue class-1 and class-2 problems"),
    Job("risk.camera_outages", "workers.jobs.platform:raise_camera_outages", every(minutes=1),
        "a kitchen camera offline in meal hours: one class-1 violation per outage"),
    Job("risk.warnings", "workers.jobs.platform:compute_risk_warnings", cron(hour="2", minute="30"),
        "early warnings (预警): raise, refresh and resolve them from the records, certificates, violations and "
        "camera uptime"),
    Job("risk.warnings_summary", "workers.jobs.platform:risk_warnings_summary",
        cron(day_of_week="mon", hour="8", minute="0"),
        "each region's open early warnings, weekly, to its regulators' inbox"),
    Job("risk.index", "workers.jobs.platform:compute_risk_index", cron(hour="2", minute="30"),
        "食安指数: each school's finished days (records completeness, camera seconds), then the month's index and "
        "the changed past months, stored"),
    Job("live.purge_recordings", "workers.jobs.platform:purge_recordings", cron(minute="43"),
        "delete live-view recordings past the retention period"),
    Job("live.purge_clips", "workers.jobs.platform:purge_live_clips", cron(minute="47"),
        "delete the MP4 clips cut from recordings past LIVE_CLIP_RETENTION_DAYS (never one still downloading)"),
    Job("live.ingest_recordings", "workers.jobs.platform:ingest_recordings", every(minutes=1),
        "store finished recording segments and index them per camera"),
    Job("live.close_idle_sessions", "workers.jobs.platform:close_idle_live_sessions", every(minutes=1),
        "close view sessions with no sign of life from the media server"),
]


def job_by_name(name: str, schedule: list[Job] | None = None) -> Job:
    """The job called ``name``; KeyError names the known ones."""
    for job in schedule if schedule is not None else SCHEDULE:
        if job.name == name:
            return job
    raise KeyError(f"unknown job {name!r}")
