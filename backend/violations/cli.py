"""CLI command of the violations feature: run the escalation timer by hand.

The scheduler calls the same function: ``backend.violations.escalation.escalate_overdue(now)``.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from backend.cli import SHANGHAI_TIME
from backend.timeutil import as_utc, utcnow

commands = AppGroup("violations", help="Escalate overdue violations; raise a demo AI alarm.")


@commands.command("escalate-violations")
@click.option("--now", type=SHANGHAI_TIME, default=None,
              help="time to act as now, e.g. 2027-01-06T12:32 (Asia/Shanghai; default: the clock)")
def escalate_command(now: datetime | None) -> None:
    """Escalate overdue violations by one level."""
    from backend.violations.escalation import escalate_overdue

    click.echo(f"escalated {escalate_overdue(as_utc(now) if now else utcnow())}")


@commands.command("demo-alarm")
@click.option("--school-id", type=click.IntRange(1), required=True, help="the school whose first camera alarms")
@click.option("--kind", default="no_mask", show_default=True, help="violation kind, e.g. no_mask, smoking")
def demo_alarm_command(school_id: int, kind: str) -> None:
    """Raise one AI alarm now on a school's first camera, with evidence pictures (demo and tests)."""
    from backend.violations.demo_alarms import raise_demo_alarm, school_cameras

    cameras = school_cameras(school_id)
    if not cameras:
        raise click.ClickException(f"school {school_id} has no camera")
    now = utcnow()
    click.echo(f"alarm {raise_demo_alarm(cameras[0], kind, now, 0.9, now.strftime('%Y%m%dT%H%M%S%f'))}")
