"""Housekeeping jobs: the scheduler's own tables, and the bookkeeping that features would otherwise keep forever."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.monitoring import services
from backend.timeutil import as_utc


def prune_job_runs() -> dict[str, int]:
    """Delete job runs older than three days."""
    return {"deleted": services.prune_job_runs(keep_days=3)}


def prune_notice_logs(scheduled_for: datetime) -> dict[str, Any]:
    """Delete WeChat push events and notice send attempts past NOTICE_LOG_RETENTION_DAYS (bounded batches)."""
    from backend.notices.retention import purge_notice_logs

    return purge_notice_logs(as_utc(scheduled_for)).as_dict()
