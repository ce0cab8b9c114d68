"""Every job in the one schedule runs for real against its feature, through the path the scheduler uses."""

from __future__ import annotations

import pytest

from backend.extensions import db
from backend.timeutil import utcnow
from workers.infra.job_schedule import SCHEDULE

# The detection dispatcher submits sampling tasks to the executor; it has its own end-to-end tests.
PLATFORM_JOBS = [job.name for job in SCHEDULE if job.name != "detection.dispatch"]


@pytest.mark.parametrize("name", PLATFORM_JOBS)
def test_scheduled_job_succeeds(app, demo, name):
    from backend.monitoring.models import JobRun
    from workers.infra.executor import run_job
    from workers.infra.scheduler import claim_job_run

    run_id = claim_job_run(name, utcnow().replace(microsecond=0), "test")
    db.session.commit()
    assert run_job(name, run_id) == "succeeded"
    run = db.session.get(JobRun, run_id)
    assert run.status == "succeeded", run.error
    assert isinstance(run.result, dict)


def test_every_feature_job_is_scheduled():
    names = {job.name for job in SCHEDULE}
    assert {"records.rules", "notices.dispatch", "notices.prune_logs", "violations.escalate",
            "live.purge_recordings", "live.purge_clips", "live.ingest_recordings", "live.close_idle_sessions"} <= names
    assert len(names) == len(SCHEDULE)

