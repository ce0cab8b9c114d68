"""CLI commands of the violations feature: run the escalation timer by hand, raise a demo alarm, export the
reviewed alarms as a YOLO training set.

The scheduler calls the same function: ``backend.violations.escalation.escalate_overdue(now)``.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click
from flask.cli import AppGroup

from backend.cli import SHANGHAI_TIME
from backend.timeutil import as_utc, utcnow

commands = AppGroup("violations", help="Escalate overdue violations; raise a demo AI alarm; export a training set.")


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
    click.echo(f"alarm {raise_demo_alarm(cameras[0], kind, now, 0.9, now.strftime('%Y%m%dT%H%M%S%f')).violation.id}")


@commands.command("export-training-set")
@click.option("--school", "school_id", type=click.IntRange(1), help="the school whose reviewed alarms to export")
@click.option("--region", "region_code", help="the region (by code) whose reviewed alarms to export")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="folder to write images/, labels/, data.yaml and manifest.json into")
def export_training_set_command(school_id: int | None, region_code: str | None, out: Path) -> None:
    """The reviewed AI alarms of a school or region as a YOLO training set (docs/training.md)."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.schools.models import Region, School
    from backend.violations.training_set import export_directory

    if (school_id is None) == (region_code is None):
        raise click.UsageError("give exactly one of --school or --region")
    if school_id is not None:
        if db.session.get(School, school_id) is None:
            raise click.ClickException(f"no school {school_id}")
        summary = export_directory(out, school_id=school_id)
    else:
        region = db.session.scalar(select(Region).where(Region.code == region_code))
        if region is None:
            raise click.ClickException(f"no region with code {region_code!r}")
        summary = export_directory(out, region_path=region.path)
    click.echo(json.dumps(summary.as_dict(), ensure_ascii=False, sort_keys=True))
