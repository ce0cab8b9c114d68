"""Celery mode against the machine's Redis (its own DB number, flushed): a real worker process runs the
jobs, and a worker killed mid-task leaves neither a lost nor a duplicated violation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support.net import kill_process
from tests.support.waiting import wait_for as _wait
from tests.workers.conftest import make_camera, set_tuning, yolov8_card_dir

ROOT = Path(__file__).resolve().parents[3]
# Celery's Redis transport owns its whole database (it flushes nothing, but its queues have fixed names), so each
# test run borrows one of these databases under a lock key: runs from several clones on one machine (a developer
# and CI) never take each other's tasks.
BROKER_DATABASES = range(8, 16)
BROKER_LOCK = "kitchen-tests:broker-lock"


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    """A Redis database of its own for the Celery broker, emptied before and after."""
    import redis

    base = redis_url.rsplit("/", 1)[0] if redis_url.count("/") > 2 else redis_url
    owner = f"{os.getpid()}:{time.time_ns()}"
    for number in BROKER_DATABASES:
        client = redis.Redis.from_url(f"{base}/{number}")
        if client.set(BROKER_LOCK, owner, nx=True, ex=900):
            break
        client.close()
    else:
        pytest.fail(f"every Redis database in {BROKER_DATABASES} is in use by another test run")
    client.flushdb()
    client.set(BROKER_LOCK, owner, ex=900)
    yield f"{base}/{number}"
    client.flushdb()
    client.close()


@pytest.fixture
def celery_env(worker_app: Any, broker: str, tmp_path: Path) -> dict[str, str]:
    """The test app in Celery mode, and the environment of worker processes sharing its database and store."""
    models = yolov8_card_dir(tmp_path / "models")
    faults = tmp_path / "faults"
    faults.mkdir()
    worker_app.config.update(CELERY_BROKER_URL=broker, MODEL_CARDS_DIR=str(models), CELERY_VISIBILITY_TIMEOUT="3",
                             WORKER_FAULT_DIR=str(faults))
    return {**os.environ, "APP_ENV": "testing", "DATABASE_URL": worker_app.config["DATABASE_URL"],
            "SECRET_KEY": worker_app.config["SECRET_KEY"], "INSTANCE_PATH": str(tmp_path / "worker-instance"),
            "STORAGE_BACKEND": "local", "STORAGE_LOCAL_PATH": worker_app.config["STORAGE_LOCAL_PATH"],
            "MODEL_CARDS_DIR": str(models), "CELERY_BROKER_URL": broker, "CELERY_VISIBILITY_TIMEOUT": "3",
            "WORKER_FAULT_DIR": str(faults), "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}


@pytest.fixture
def start_worker(celery_env: dict[str, str]) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Start `python -m workers worker` processes (solo pool: the task runs in the process we kill)."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen([sys.executable, "-m", "workers", "worker", "--pool", "solo",
                                    "--without-gossip", "--without-mingle", "--without-heartbeat"],
                                   cwd=ROOT, env=celery_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start
    for process in started:
        kill_process(process)


def _violation_count() -> int:
    from backend.extensions import db
    from backend.violations.models import Violation

    return int(db.session.scalar(select(func.count()).select_from(Violation)))


def _camera() -> int:
    camera_id = make_camera(checks=["no_mask"])
    set_tuning(camera_id, {"rules": {"no_mask": {"persistence": 1}}})
    return camera_id


def test_a_real_celery_worker_runs_the_scheduled_job(celery_env: dict[str, str], start_worker: Any) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor, JobRun, JobRunStatus
    from backend.monitoring.services import claim_job_run
    from backend.timeutil import utcnow
    from workers.infra.executor import CeleryExecutor, current_executor

    camera_id = _camera()
    executor = current_executor()
    assert isinstance(executor, CeleryExecutor)
    run_id = claim_job_run("detection.dispatch", utcnow().replace(microsecond=0), "test-scheduler")
    executor.submit("job", "detection.dispatch", run_id)
    start_worker()
    _wait(lambda: db.session.get(JobRun, run_id).status == JobRunStatus.SUCCEEDED, 60, "the dispatch job")
    assert db.session.get(JobRun, run_id).result == {"submitted": 1}
    monitor = _wait(lambda: (m := db.session.get(CameraMonitor, camera_id)) and m.last_done_slot >= 0 and m,
                    60, "the camera sample")
    assert monitor.last_done_slot == monitor.last_enqueued_slot
    assert monitor.health_status == "ok"
    assert _violation_count() == 1


def test_worker_killed_mid_task_loses_nothing_and_duplicates_nothing(worker_app: Any, celery_env: dict[str, str],
                                                                    start_worker: Any) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from backend.violations.models import Violation
    from workers.camera.camera_runtime import get_runtime
    from workers.infra.executor import current_executor
    from workers.jobs.detection import ensure_monitors

    camera_id = _camera()
    ensure_monitors([camera_id])
    db.session.commit()
    faults = Path(celery_env["WORKER_FAULT_DIR"])
    (faults / "pause").touch()
    slot = 350_000_000
    current_executor().submit("detection.sample_camera", camera_id, slot)
    victim = start_worker()
    marker = _wait(lambda: next(faults.glob("before_commit.*"), None), 60, "the task to reach its commit")
    assert marker.name == f"before_commit.{victim.pid}"
    os.kill(victim.pid, signal.SIGKILL)  # evidence is stored, the transaction is not committed
    victim.wait(timeout=10)
    assert _violation_count() == 0
    assert db.session.get(CameraMonitor, camera_id).last_done_slot == -1
    db.session.rollback()

    (faults / "pause").unlink()
    start_worker()
    _wait(lambda: _violation_count() == 1, 60, "the redelivered task")
    violation = db.session.scalar(select(Violation))
    assert violation.idempotency_key == f"cam{camera_id}:no_mask:2025-06-15T15:06:40Z"
    assert db.session.get(CameraMonitor, camera_id).last_done_slot == slot
    store = get_runtime(worker_app.config).store
    assert all(store.exists(key) for key in violation.evidence.values())

    # The same task delivered once more (a duplicate message) finds its slot done; the next sample, queued
    # behind it on the one solo worker, continues the same event.
    version = db.session.get(CameraMonitor, camera_id).version
    current_executor().submit("detection.sample_camera", camera_id, slot)
    current_executor().submit("detection.sample_camera", camera_id, slot + 1)
    _wait(lambda: db.session.get(CameraMonitor, camera_id).last_done_slot == slot + 1, 60, "the next sample")
    assert db.session.get(CameraMonitor, camera_id).version == version + 1
    assert _violation_count() == 1
