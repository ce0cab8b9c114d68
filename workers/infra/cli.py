"""The commands of ``python -m workers``: scheduler, worker, jobs, run JOB.

The same pattern as every ``flask`` command module (see backend/cli.py): ``commands`` is the click group.
These commands build the workers' own app (:func:`workers.infra.worker_app.get_app`), not the API's.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click

log = logging.getLogger("workers")

commands = click.Group("workers", help="明厨亮灶 scheduler and workers.")


@commands.command("scheduler")
@click.option("--run-for", type=float, default=None, help="stop after this many seconds")
@click.option("--schedule", "schedule_path", default=None, help="module:attribute of another job list (tests)")
@click.option("--holder", default=None, help="name of this scheduler in the lease")
@click.option("--lease-ttl", type=float, default=30.0, show_default=True, help="seconds a lease lasts unrenewed")
def scheduler_command(run_for: float | None, schedule_path: str | None, holder: str | None,
                      lease_ttl: float) -> None:
    """Fire the periodic jobs (only the lease holder fires) until SIGTERM / Ctrl-C or --run-for seconds."""
    from workers.infra.executor import build_executor, resolve, set_executor
    from workers.infra.job_schedule import SCHEDULE
    from workers.infra.scheduler import Scheduler
    from workers.infra.worker_app import get_app

    get_app()
    jobs = list(resolve(schedule_path)) if schedule_path else SCHEDULE
    executor = build_executor(jobs)
    set_executor(executor)
    scheduler = Scheduler(jobs, executor, holder=holder, lease_ttl=lease_ttl)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    scheduler.start()
    print(f"SCHEDULER {scheduler.holder} READY", flush=True)
    stop.wait(run_for)
    scheduler.stop()
    executor.shutdown(wait=True)
    log.info("scheduler %s stopped after firing %d jobs", scheduler.holder, len(scheduler.fired))


@commands.command("worker", context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker_command(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker on the kitchen queue (needs CELERY_BROKER_URL); arguments go to `celery worker`."""
    from workers.infra.celery_app import QUEUE, configure
    from workers.infra.worker_app import get_app

    config = get_app().config
    if not config.get("CELERY_BROKER_URL"):
        click.echo("CELERY_BROKER_URL is not set: jobs run in the scheduler's own pool, no worker needed", err=True)
        sys.exit(2)
    celery = configure(config["CELERY_BROKER_URL"])
    celery.worker_main(argv=["worker", "--queues", QUEUE, "--loglevel", config.get("LOG_LEVEL", "INFO"),
                             *celery_args])


@commands.command("jobs")
def jobs_command() -> None:
    """List the schedule."""
    from workers.infra.job_schedule import SCHEDULE

    for job in SCHEDULE:
        click.echo(f"{job.name:32} {job.trigger}  {job.description}")


@commands.command("run")
@click.argument("name", metavar="JOB")
def run_command(name: str) -> None:
    """Run one job of the schedule now, in this process, as its scheduler fire at this moment would."""
    from backend.timeutil import utcnow
    from workers.infra.executor import call_job
    from workers.infra.job_schedule import SCHEDULE, job_by_name
    from workers.infra.worker_app import app_context

    try:
        job = job_by_name(name)
    except KeyError:
        raise click.BadParameter(f"unknown job {name!r}; known: {', '.join(j.name for j in SCHEDULE)}",
                                 param_hint="JOB") from None
    with app_context():
        click.echo(call_job(job, utcnow()))


def main(argv: list[str] | None = None) -> None:
    """Run the command line (``python -m workers``)."""
    commands.main(args=argv, prog_name="python -m workers")
