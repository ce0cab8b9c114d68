"""Housekeeping jobs of the scheduler's own tables."""

from __future__ import annotations

from backend.monitoring import services


def prune_job_runs() -> dict[str, int]:
    """Delete job runs older than three days."""
    return {"deleted": services.prune_job_runs(keep_days=3)}
