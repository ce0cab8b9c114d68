"""Where jobs and tasks run: an in-process thread pool by default, Celery workers when
``CELERY_BROKER_URL`` is set.

Everything submitted is a named task with JSON arguments (see ``TASKS``), so both executors run exactly
the same code: ``run_task`` opens an app context and calls the task function.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any, Protocol

from backend.monitoring.models import JobRun, JobRunStatus
from backend.monitoring.services import finish_job_run
from workers.infra.job_schedule import SCHEDULE, Job, job_by_name
from workers.infra.worker_app import app_context, get_app

log = logging.getLogger(__name__)

#: Task name -> "module:function". Only these can be run by name (Celery messages carry the name).
TASKS: dict[str, str] = {
    "job": "workers.infra.executor:run_job",
    "detection.sample_camera": "workers.jobs.detection:sample_camera",
}


def resolve(path: str) -> Callable[..., Any]:
    """Import "module:function"."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class Executor(Protocol):
    """Runs named tasks somewhere."""

    def submit(self, task: str, *args: Any) -> None:
        """Queue ``task(*args)``."""

    def shutdown(self, wait: bool = True) -> None:
        """Stop accepting work."""


def run_task(task: str, args: list[Any] | tuple[Any, ...], schedule: list[Job] | None = None) -> Any:
    """Run one named task in an app context; errors are logged, never raised (periodic work retries itself)."""
    if task not in TASKS:
        log.error("refusing unknown task %r", task)
        return None
    func = resolve(TASKS[task])
    with app_context():
        try:
            if task == "job":
                return func(*args, schedule=schedule)
            return func(*args)
        except Exception:
            log.exception("task %s%r failed", task, tuple(args))
            return None


def call_job(job: Job, scheduled_for: datetime) -> Any:
    """Call a job's function as a fire at ``scheduled_for`` does: with ``scheduled_for`` when it takes it."""
    func = resolve(job.func)
    return func(scheduled_for=scheduled_for) if "scheduled_for" in inspect.signature(func).parameters else func()


def run_job(job_name: str, run_id: int, schedule: list[Job] | None = None) -> str:
    """Run one claimed fire of a periodic job and record its outcome in ``job_run``.

    A run already finished (the task was redone after its commit) is not run again.
    """
    from backend.extensions import db

    run = db.session.get(JobRun, run_id)
    if run is None or run.status != JobRunStatus.RUNNING:
        return "already_finished"
    scheduled_for: datetime = run.scheduled_for
    db.session.rollback()
    job = job_by_name(job_name, schedule if schedule is not None else SCHEDULE)
    try:
        result = call_job(job, scheduled_for)
    except Exception as exc:
        db.session.rollback()
        log.exception("job %s failed", job_name)
        finish_job_run(run_id, JobRunStatus.FAILED, error=f"{type(exc).__name__}: {exc}\n"
                       + traceback.format_exc()[-2000:])
        return "failed"
    finish_job_run(run_id, JobRunStatus.SUCCEEDED, result=result if isinstance(result, dict) else {})
    return "succeeded"


class InProcessExecutor:
    """A bounded thread pool in this process (OpenCV and ONNX Runtime release the GIL)."""

    def __init__(self, threads: int | None = None, schedule: list[Job] | None = None) -> None:
        """``threads`` defaults to the CPU count."""
        self.threads = max(1, threads or os.cpu_count() or 2)
        self.schedule = schedule
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="kitchen-job")
        self._pending: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, task: str, *args: Any) -> None:
        """Queue the task on the pool (dropped with a log line once the pool is closed)."""
        try:
            future = self._pool.submit(run_task, task, args, self.schedule)
        except RuntimeError:
            log.warning("pool closed, %s%r not run", task, args)
            return
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    def idle(self) -> bool:
        """Whether nothing is queued or running."""
        with self._lock:
            return not self._pending

    def shutdown(self, wait: bool = True, drain_seconds: float = 30.0) -> None:
        """Finish (or drop, with ``wait=False``) the queued work.

        Running jobs may still submit follow-up tasks (the dispatcher submits samples), so the pool is
        drained first and closed after; whatever is cut off is claimed again once it goes stale.
        """
        if wait:
            deadline = time.monotonic() + drain_seconds
            while not self.idle() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class CeleryExecutor:
    """Sends tasks to the Celery workers through the broker."""

    def __init__(self, broker_url: str) -> None:
        """Configure the Celery app for ``broker_url``."""
        from workers.infra.celery_app import configure

        self.celery = configure(broker_url)

    def submit(self, task: str, *args: Any) -> None:
        """Publish the task message (persistent; acknowledged by the worker only when done)."""
        from workers.infra.celery_app import TASK_NAME

        self.celery.send_task(TASK_NAME, args=[task, list(args)])

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to stop: the broker holds the messages."""


_current: Executor | None = None
_current_lock = threading.Lock()


def build_executor(schedule: list[Job] | None = None) -> Executor:
    """Celery when ``CELERY_BROKER_URL`` is set, else the in-process pool."""
    config = get_app().config
    if config.get("CELERY_BROKER_URL"):
        return CeleryExecutor(config["CELERY_BROKER_URL"])
    threads = config.get("WORKER_THREADS")
    return InProcessExecutor(int(threads) if threads else None, schedule)


def current_executor() -> Executor:
    """The process's executor (built from the settings on first use)."""
    global _current
    with _current_lock:
        if _current is None:
            _current = build_executor()
        return _current


def set_executor(executor: Executor | None) -> None:
    """Install the process's executor (the scheduler and tests do)."""
    global _current
    with _current_lock:
        _current = executor
