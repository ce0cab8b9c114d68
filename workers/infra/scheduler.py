"""``python -m workers scheduler``: APScheduler fires every job of the schedule, once per fire time.

Several schedulers may run (a standby, a rolling deploy): only the one holding the database lease
``scheduler`` fires jobs, and each fire is additionally claimed in ``job_run`` (unique job + fire time),
so even two schedulers that both believe they lead cannot run a fire twice. Fire times come from
APScheduler itself (interval triggers are aligned on a fixed epoch), so every process computes the same.
Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from backend.monitoring.services import claim_job_run, hold_lease, release_lease
from backend.timeutil import SHANGHAI, as_utc
from workers.infra.executor import Executor
from workers.infra.job_schedule import Job
from workers.infra.worker_app import app_context

log = logging.getLogger(__name__)
LEASE_NAME = "scheduler"


class _ClaimingExecutor(BaseExecutor):
    """APScheduler executor that hands each due fire (with its exact fire time) to the Scheduler."""

    def __init__(self, owner: Scheduler) -> None:
        super().__init__()
        self.owner = owner
        self._pool = ThreadPoolExecutor(2, thread_name_prefix="kitchen-fire")

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def fire() -> None:
            try:
                # Coalescing leaves one run time per fire; the last one is the fire being made now.
                self.owner.fire(job.id, run_times[-1])
            except BaseException as exc:  # reported to APScheduler like its own executors do
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, [])

        self._pool.submit(fire)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait)


def _noop() -> None:
    """Placeholder callable: the claiming executor never calls the APScheduler job's function."""


class Scheduler:
    """One scheduler process (or thread, in tests)."""

    def __init__(self, jobs: list[Job], executor: Executor, holder: str | None = None,
                 lease_ttl: float = 30.0) -> None:
        """``holder`` names this scheduler in the lease and job runs (host, pid and a random suffix)."""
        names = [job.name for job in jobs]
        if len(names) != len(set(names)):
            raise ValueError(f"duplicate job names in the schedule: {names}")
        self.jobs = {job.name: job for job in jobs}
        self.executor = executor
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_ttl = lease_ttl
        self.fired: list[tuple[str, datetime]] = []
        self._leading = False
        self._lock = threading.Lock()
        self._aps: BackgroundScheduler | None = None
        self._renewer: threading.Thread | None = None
        self._stop = threading.Event()
        self._lease_lock = threading.Lock()

    def is_leader(self) -> bool:
        """Take or renew the lease; whether this scheduler may fire jobs now (never once it is stopping)."""
        with self._lease_lock:
            if self._stop.is_set():
                return False
            with app_context():
                leading = hold_lease(LEASE_NAME, self.holder, self.lease_ttl)
        if leading != self._leading:
            log.info("scheduler %s %s the lease", self.holder, "holds" if leading else "lost")
            self._leading = leading
        return leading

    def fire(self, job_name: str, scheduled_for: datetime) -> bool:
        """Claim this fire of the job and submit it; False when not leading or someone claimed it."""
        if not self.is_leader():
            return False
        with app_context():
            run_id = claim_job_run(job_name, as_utc(scheduled_for), self.holder)
        if run_id is None:
            return False
        with self._lock:
            self.fired.append((job_name, as_utc(scheduled_for)))
        self.executor.submit("job", job_name, run_id)
        return True

    def _renew_loop(self) -> None:
        # A standby notices an expired lease, and a leader keeps it, even when no job is due for long.
        while not self._stop.wait(self.lease_ttl / 3):
            try:
                self.is_leader()
            except Exception:
                log.exception("lease renewal failed")

    def start(self) -> None:
        """Start firing in background threads."""
        self._aps = BackgroundScheduler(
            timezone=SHANGHAI, executors={"default": _ClaimingExecutor(self)},
            job_defaults={"coalesce": True, "max_instances": 4, "misfire_grace_time": 30})
        for job in self.jobs.values():
            self._aps.add_job(_noop, trigger=job.trigger, id=job.name, name=job.name)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew_loop, name="kitchen-lease", daemon=True)
        self._renewer.start()
        self._aps.start()
        log.info("scheduler %s started with %d jobs: %s", self.holder, len(self.jobs), ", ".join(self.jobs))

    def stop(self, release: bool = True) -> None:
        """Stop firing; ``release`` hands the lease over at once instead of letting it expire.

        The lease goes first: a standby may then fire the very next second, and a fire this scheduler is
        still finishing cannot run twice because the fire itself is claimed in ``job_run``.
        """
        with self._lease_lock:  # no renewal in flight can take the lease back after the release
            self._stop.set()
            if release:
                with app_context():
                    release_lease(LEASE_NAME, self.holder)
        if self._aps is not None:
            self._aps.shutdown(wait=True)
            self._aps = None
        self._leading = False
