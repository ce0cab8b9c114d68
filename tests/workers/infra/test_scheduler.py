"""Two scheduler processes on one database: every fire of every job runs exactly once, and the standby
takes over when the leader stops."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[3]


def _start(app_config: dict[str, Any], tmp_path: Path, holder: str, run_for: float, log: Path
           ) -> subprocess.Popen[str]:
    env = {**os.environ, "APP_ENV": "testing", "DATABASE_URL": app_config["DATABASE_URL"],
           "SECRET_KEY": app_config["SECRET_KEY"], "INSTANCE_PATH": str(tmp_path / holder),
           "TICK_LOG": str(log), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    env.pop("CELERY_BROKER_URL", None)
    return subprocess.Popen([sys.executable, "-m", "workers", "scheduler", "--schedule",
                             "tests.workers.infra.sched_jobs:SCHEDULE", "--holder", holder, "--lease-ttl", "2",
                             "--run-for", str(run_for)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def test_two_schedulers_fire_each_job_once_and_the_standby_takes_over(app: Any, app_config: dict[str, Any],
                                                                      tmp_path: Path) -> None:
    from backend.extensions import db
    from backend.monitoring.models import JobRun, JobRunStatus

    log = tmp_path / "ticks.jsonl"
    log.touch()
    first = _start(app_config, tmp_path, "sched-a", 120.0, log)
    assert first.stdout.readline().startswith("SCHEDULER sched-a READY")
    second = _start(app_config, tmp_path, "sched-b", 120.0, log)
    assert second.stdout.readline().startswith("SCHEDULER sched-b READY")
    time.sleep(2.5)  # both run: a fires, b stands by
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    time.sleep(3.0)  # b has taken over
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0

    calls = [json.loads(line) for line in log.read_text().splitlines()]
    per_fire = Counter((c["job"], c["at"]) for c in calls)
    assert per_fire and max(per_fire.values()) == 1, [k for k, n in per_fire.items() if n > 1]
    db.session.rollback()
    runs = db.session.scalars(select(JobRun).order_by(JobRun.scheduled_for)).all()
    assert {(r.job_name.removeprefix("test."), r.scheduled_for) for r in runs} == {
        (job, datetime.fromisoformat(at)) for job, at in per_fire}
    assert all(r.status == JobRunStatus.SUCCEEDED for r in runs)
    assert {r.claimed_by for r in runs} == {"sched-a", "sched-b"}

    # No second is lost at the hand-over: the leader released its lease on the way out.
    ticks = sorted(datetime.fromisoformat(at) for job, at in per_fire if job == "tick")
    assert len(ticks) >= 5
    assert all(b - a == timedelta(seconds=1) for a, b in itertools.pairwise(ticks))
    tocks = sorted(datetime.fromisoformat(at) for job, at in per_fire if job == "tock")
    assert all(t.second % 2 == 0 for t in tocks) and len(tocks) >= 3


def test_lease_is_exclusive_until_it_expires(app: Any) -> None:
    from backend.monitoring.services import hold_lease, release_lease
    from backend.timeutil import utcnow

    now = utcnow()
    assert hold_lease("scheduler", "a", 30, now=now) is True
    assert hold_lease("scheduler", "b", 30, now=now + timedelta(seconds=29)) is False
    assert hold_lease("scheduler", "a", 30, now=now + timedelta(seconds=29)) is True  # renewed to +59
    assert hold_lease("scheduler", "b", 30, now=now + timedelta(seconds=58)) is False
    assert hold_lease("scheduler", "b", 30, now=now + timedelta(seconds=60)) is True
    release_lease("scheduler", "a")  # not the holder: nothing happens
    assert hold_lease("scheduler", "a", 30, now=now + timedelta(seconds=61)) is False
    release_lease("scheduler", "b")
    assert hold_lease("scheduler", "a", 30, now=now + timedelta(seconds=61)) is True


def test_a_fire_is_claimed_once(app: Any) -> None:
    from backend.monitoring.services import claim_job_run
    from backend.timeutil import utcnow

    at = utcnow().replace(microsecond=0)
    first = claim_job_run("detection.dispatch", at, "a")
    assert isinstance(first, int)
    assert claim_job_run("detection.dispatch", at, "b") is None
    assert isinstance(claim_job_run("detection.dispatch", at + timedelta(seconds=1), "b"), int)
    assert isinstance(claim_job_run("monitoring.prune_job_runs", at, "b"), int)


@pytest.mark.parametrize("name", ["detection.dispatch", "monitoring.prune_job_runs", "records.rules",
                                  "notices.dispatch", "notices.prune_logs", "violations.escalate",
                                  "live.purge_recordings"])
def test_schedule_names_resolve_to_functions(name: str) -> None:
    from workers.infra.executor import resolve
    from workers.infra.job_schedule import job_by_name

    assert callable(resolve(job_by_name(name).func))
    with pytest.raises(KeyError):
        job_by_name("no.such.job")
