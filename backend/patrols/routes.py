"""HTTP routes of online patrol (视频巡查): regulators start a round over canteens of their region, the wall
reports what it shows, findings take a snapshot as evidence, the round ends and stays listed with its record."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from backend.extensions import db
from backend.live.settings import live_settings
from backend.patrols import schemas, services, views
from backend.patrols.models import PatrolRound
from backend.permissions import Action, current_principal, rule
from backend.schools.models import Region
from backend.timeutil import utcnow

bp = APIBlueprint("patrols", __name__, tag="视频巡查")


def _patrol(patrol_id: int) -> PatrolRound:
    return db.session.get(PatrolRound, patrol_id)


@bp.post("/regions/<id:region_id>/patrols")
@rule(Action.PATROL, scope="region")
@bp.input(schemas.PatrolIn, arg_name="body")
@bp.output(schemas.PatrolOut, status_code=201)
def start_patrol(region_id: int, body: dict[str, Any]) -> Any:
    """Start a patrol round over chosen canteens of the region (none chosen: all of them)."""
    now = utcnow()
    patrol = services.start_patrol(current_principal(), db.session.get(Region, region_id), title=body["title"],
                                   canteen_ids=body["canteen_ids"], now=now)
    return views.detail(patrol, now, live_settings())


@bp.get("/regions/<id:region_id>/patrols")
@rule(Action.PATROL, scope="region")
@bp.output(schemas.PatrolSummaryOut(many=True))
def list_patrols(region_id: int) -> Any:
    """The region's patrol rounds, newest first."""
    return views.list_patrols(region_id)


@bp.get("/patrols/<id:patrol_id>")
@rule(Action.PATROL, scope="patrol")
@bp.output(schemas.PatrolOut)
def get_patrol(patrol_id: int) -> Any:
    """A patrol round with its cameras, what was watched when, and its findings."""
    return views.detail(_patrol(patrol_id), utcnow(), live_settings())


@bp.post("/patrols/<id:patrol_id>/watching")
@rule(Action.PATROL, scope="patrol")
@bp.input(schemas.WatchingIn, arg_name="body")
@bp.output(schemas.WatchingOut)
def watching(patrol_id: int, body: dict[str, Any]) -> Any:
    """The cameras the wall shows now: the record of what was watched from when to when."""
    patrol = _patrol(patrol_id)
    opened = services.record_watching(current_principal(), patrol, body["camera_ids"], utcnow())
    return {"views": views.view_rows(patrol, opened)}


@bp.post("/patrols/<id:patrol_id>/findings")
@rule(Action.PATROL, scope="patrol")
@bp.input(schemas.PatrolFindingIn, arg_name="body")
@bp.output(schemas.PatrolFindingCreatedOut, status_code=201)
@bp.doc(responses=[502])  # the camera gives no frame for the snapshot
def add_finding(patrol_id: int, body: dict[str, Any]) -> Any:
    """File a finding on a camera of the round: a snapshot now is its evidence; it opens a violation or an
    inspection finding in the same step."""
    return views.finding(services.add_finding(current_principal(), _patrol(patrol_id), live_settings(), **body,
                                              now=utcnow()))


@bp.post("/patrols/<id:patrol_id>/end")
@rule(Action.PATROL, scope="patrol")
@bp.input(schemas.PatrolEndIn, arg_name="body")
@bp.output(schemas.PatrolOut)
def end_patrol(patrol_id: int, body: dict[str, Any]) -> Any:
    """End the round with its summary."""
    now = utcnow()
    patrol = services.end_patrol(current_principal(), _patrol(patrol_id), body["summary"], now)
    return views.detail(patrol, now, live_settings())
