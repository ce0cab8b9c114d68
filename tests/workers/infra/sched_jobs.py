"""A schedule for the scheduler tests: jobs that append who ran which fire to the file $TICK_LOG."""

from __future__ import annotations

import json
import os
from datetime import datetime

from workers.infra.job_schedule import Job, every


def _record(job: str, scheduled_for: datetime) -> dict[str, str]:
    line = json.dumps({"job": job, "at": scheduled_for.isoformat(), "pid": os.getpid()})
    with open(os.environ["TICK_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")
    return {"recorded": job}


def tick(scheduled_for: datetime) -> dict[str, str]:
    """Every second."""
    return _record("tick", scheduled_for)


def tock(scheduled_for: datetime) -> dict[str, str]:
    """Every two seconds."""
    return _record("tock", scheduled_for)


SCHEDULE = [Job("test.tick", "tests.workers.infra.sched_jobs:tick", every(seconds=1)),
            Job("test.tock", "tests.workers.infra.sched_jobs:tock", every(seconds=2))]
