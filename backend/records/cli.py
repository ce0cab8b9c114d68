"""CLI commands of the records feature: verify the chains, run the record-compliance rules for a day."""

from __future__ import annotations

import json
from datetime import date, datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select

from backend.extensions import db
from backend.records.chain import verify_chain
from backend.records.compliance_rules import run_record_rules
from backend.records.meal_windows import shanghai_today
from backend.records.models import RecordChainHead
from backend.schools.models import Canteen
from backend.timeutil import utcnow

commands = AppGroup("records", help="Verify the record chains; run the record-compliance rules; report the records "
                                    "past their keeping time.")


@commands.command("verify-records")
@click.option("--canteen", "canteen_id", type=click.IntRange(1), default=None, help="only this canteen")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object per canteen")
def verify_records_command(canteen_id: int | None, as_json: bool) -> None:
    """Recompute every canteen's record chain; exit 1 at the first broken link."""
    if canteen_id is not None:
        if db.session.get(Canteen, canteen_id) is None:
            raise click.ClickException(f"no canteen {canteen_id}")
        canteen_ids = [canteen_id]
    else:
        canteen_ids = list(db.session.scalars(select(RecordChainHead.canteen_id).order_by(
            RecordChainHead.canteen_id)))
    broken = 0
    for cid in canteen_ids:
        result = verify_chain(cid)
        if as_json:
            click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        elif result.ok:
            click.echo(f"canteen {cid}: ok, {result.checked} records, head {result.head_hash[:16]}")
        else:
            link = result.broken
            click.echo(f"canteen {cid}: BROKEN at seq {link.seq} (entry {link.entry_id}, {link.kind}): "
                       f"{link.problem}", err=True)
        broken += 0 if result.ok else 1
    if broken:
        raise SystemExit(1)


@commands.command("check-records")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="day to check (Asia/Shanghai), default today")
@click.option("--canteen", "canteen_ids", type=click.IntRange(1), multiple=True, help="only these canteens")
def check_records_command(day: datetime | None, canteen_ids: tuple[int, ...]) -> None:
    """Run the record-compliance rules for a day and report the violations raised."""
    now = utcnow()
    wanted: date = day.date() if day else shanghai_today(now)
    raised = run_record_rules(wanted, now, canteen_ids or None)
    for item in raised:
        violation = item.violation
        click.echo(f"{'new' if item.created else 'existing'} violation {violation.id}: canteen "
                   f"{violation.canteen_id} {violation.kind} {violation.description or ''}")
    created = sum(1 for item in raised if item.created)
    click.echo(f"{wanted.isoformat()}: {created} new, {len(raised) - created} already raised")


@commands.command("removable-records")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="day to judge on (Asia/Shanghai), default today")
@click.option("--canteen", "canteen_ids", type=click.IntRange(1), multiple=True, help="only these canteens")
def removable_command(day: datetime | None, canteen_ids: tuple[int, ...]) -> None:
    """Report the records past their required keeping time (records/retention.py); nothing is deleted."""
    from backend.records.retention import removable_records

    on: date = day.date() if day else shanghai_today(utcnow())
    query = select(Canteen).order_by(Canteen.id)
    if canteen_ids:
        query = query.where(Canteen.id.in_(canteen_ids))
    for canteen in db.session.scalars(query):
        found = removable_records(canteen, on)
        click.echo(f"canteen {canteen.id}: {len(found)} records past their keeping time on {on.isoformat()}")
        for item in found:
            row = item.as_dict()
            click.echo(f"  record {row['record_id']} {row['kind']} of {row['record_date']}: "
                       f"removable since {row['removable_on']}")
