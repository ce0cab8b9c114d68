"""Entry point: ``python -m workers scheduler | worker | jobs | run JOB``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

log = logging.getLogger("workers")


def _schedule(path: str | None) -> list[Any]:
    from workers.infra.executor import resolve
    from workers.infra.job_schedule import SCHEDULE

    return list(resolve(path)) if path else SCHEDULE


def scheduler_main(args: argparse.Namespace) -> int:
    """Run the scheduler until SIGTERM / Ctrl-C (or ``--run-for`` seconds)."""
    from workers.infra.executor import build_executor, set_executor
    from workers.infra.scheduler import Scheduler
    from workers.infra.worker_app import get_app

    get_app()
    jobs = _schedule(args.schedule)
    executor = build_executor(jobs)
    set_executor(executor)
    scheduler = Scheduler(jobs, executor, holder=args.holder, lease_ttl=args.lease_ttl)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    print(f"SCHEDULER {scheduler.holder} READY", flush=True)
    stop.wait(args.run_for)
    scheduler.stop()
    executor.shutdown(wait=True)
    log.info("scheduler %s stopped after firing %d jobs", scheduler.holder, len(scheduler.fired))
    return 0


def worker_main(extra: list[str]) -> int:
    """Run a Celery worker on the ``kitchen`` queue; extra arguments go to ``celery worker``."""
    from workers.infra.celery_app import QUEUE, configure
    from workers.infra.worker_app import get_app

    config = get_app().config
    if not config.get("CELERY_BROKER_URL"):
        print("CELERY_BROKER_URL is not set: jobs run in the scheduler's own pool, no worker needed",
              file=sys.stderr)
        return 2
    celery = configure(config["CELERY_BROKER_URL"])
    argv = ["worker", "--queues", QUEUE, "--loglevel", config.get("LOG_LEVEL", "INFO"), *extra]
    celery.worker_main(argv=argv)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen process."""
    parser = argparse.ArgumentParser(prog="python -m workers", description="明厨亮灶 scheduler and workers")
    sub = parser.add_subparsers(dest="command", required=True)
    sched = sub.add_parser("scheduler", help="fire the periodic jobs (only the lease holder fires)")
    sched.add_argument("--run-for", type=float, default=None, help="stop after this many seconds")
    sched.add_argument("--schedule", default=None, help="module:attribute of another job list (tests)")
    sched.add_argument("--holder", default=None, help="name of this scheduler in the lease")
    sched.add_argument("--lease-ttl", type=float, default=30.0, help="seconds a lease lasts unrenewed")
    sub.add_parser("worker", help="run a Celery worker (needs CELERY_BROKER_URL)", add_help=False)
    sub.add_parser("jobs", help="list the schedule")
    run = sub.add_parser("run", help="run one job now in this process")
    run.add_argument("job")
    args, extra = parser.parse_known_args(argv)
    if args.command == "worker":
        return worker_main(extra)
    if extra:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    if args.command == "scheduler":
        return scheduler_main(args)
    if args.command == "jobs":
        from workers.infra.job_schedule import SCHEDULE

        for job in SCHEDULE:
            print(f"{job.name:32} {job.trigger}  {job.description}")
        return 0
    from workers.infra.executor import resolve
    from workers.infra.job_schedule import job_by_name
    from workers.infra.worker_app import app_context

    with app_context():
        print(resolve(job_by_name(args.job).func)())
    return 0


if __name__ == "__main__":
    sys.exit(main())
