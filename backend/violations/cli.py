"""CLI command of the violations feature: run the escalation timer by hand.

The scheduler calls the same function: ``backend.violations.escalation.escalate_overdue(now)``.
"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from backend.cli import SHANGHAI_TIME
from backend.timeutil import as_utc, utcnow

commands = AppGroup("violations", help="Escalate overdue violations.")


@commands.command("escalate-violations")
@click.option("--now", type=SHANGHAI_TIME, default=None,
              help="time to act as now, e.g. 2027-01-06T12:32 (Asia/Shanghai; default: the clock)")
def escalate_command(now: datetime | None) -> None:
    """Escalate overdue violations by one level."""
    from backend.violations.escalation import escalate_overdue

    click.echo(f"escalated {escalate_overdue(as_utc(now) if now else utcnow())}")
