"""CLI command of the notices feature: run the notice dispatcher by hand or as a loop.

The scheduler calls the same function: ``backend.notices.dispatcher.dispatch_due(now, limit)``.
"""

from __future__ import annotations

import signal
import threading

import click
from flask.cli import AppGroup

from backend.notices.dispatcher import DEFAULT_BATCH, DispatchReport, dispatch_due
from backend.notices.lease import DEFAULT_LEASE_SECONDS
from backend.timeutil import utcnow


def run_dispatch_loop(stop: threading.Event, batch: int = DEFAULT_BATCH, idle_seconds: float = 2.0,
                      lease_seconds: float = DEFAULT_LEASE_SECONDS, workers: int = 4) -> DispatchReport:
    """Dispatch until ``stop`` is set, sleeping ``idle_seconds`` when nothing is due; returns the totals."""
    totals = DispatchReport()
    while not stop.is_set():
        report = dispatch_due(utcnow(), batch, lease_seconds=lease_seconds, workers=workers)
        for name, value in report.as_dict().items():
            setattr(totals, name, getattr(totals, name) + value)
        if report.claimed == 0:
            stop.wait(idle_seconds)
    return totals


commands = AppGroup("notices", help="Send due notices.")


@commands.command("dispatch-notices")
@click.option("--loop", is_flag=True, help="keep dispatching until SIGTERM/SIGINT")
@click.option("--batch", type=click.IntRange(1, 1000), default=DEFAULT_BATCH, show_default=True)
@click.option("--workers", type=click.IntRange(1, 32), default=4, show_default=True)
@click.option("--lease", "lease_seconds", type=click.FloatRange(1, 3600), default=DEFAULT_LEASE_SECONDS,
              show_default=True, help="seconds a claim lasts before another dispatcher may take it")
def dispatch_command(loop: bool, batch: int, workers: int, lease_seconds: float) -> None:
    """Send due notices as WeChat subscribe messages."""
    if not loop:
        click.echo(dispatch_due(utcnow(), batch, lease_seconds=lease_seconds, workers=workers).as_dict())
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(run_dispatch_loop(stop, batch, lease_seconds=lease_seconds, workers=workers).as_dict())
