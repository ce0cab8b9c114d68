"""HTTP routes of camera health: a school's or a region's cameras, their state and 7-day uptime; the false-alarm
share per camera and kind, and reverting a threshold raised because of it."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import current_app

from backend.monitoring import camera_uptime, false_alarms, schemas
from backend.permissions import Action, current_principal, current_school, rule
from backend.timeutil import utcnow

bp = APIBlueprint("monitoring", __name__, tag="摄像头状态")


@bp.get("/schools/<id:school_id>/cameras/health")
@rule(Action.CAMERA_HEALTH_READ, scope="school")
@bp.input(schemas.CameraHealthQuery, location="query", arg_name="query")
@bp.output(schemas.CameraHealthOut)
def school_camera_health(school_id: int, query: dict[str, Any]) -> Any:
    """A school's cameras: health now, last seen, uptime over the last 7 days; offline ones first.

    ``online_rate`` is the cameras online now over the enabled ones. Filter: ``canteen_id``.
    """
    return camera_uptime.camera_health(camera_uptime.school_scope(school_id), utcnow(),
                                       canteen_id=query["canteen_id"])


@bp.get("/regions/<id:region_id>/cameras/health")
@rule(Action.CAMERA_HEALTH_READ, scope="region")
@bp.input(schemas.CameraHealthQuery, location="query", arg_name="query")
@bp.output(schemas.CameraHealthOut)
def region_camera_health(region_id: int, query: dict[str, Any]) -> Any:
    """Every camera of a region's schools, as the school report; filters ``school_id`` and ``canteen_id``."""
    return camera_uptime.camera_health(camera_uptime.region_scope(current_school()), utcnow(),
                                       school_id=query["school_id"], canteen_id=query["canteen_id"])


@bp.get("/schools/<id:school_id>/cameras/false-alarms")
@rule(Action.CAMERA_HEALTH_READ, scope="school")
@bp.output(schemas.FalseAlarmsOut)
def school_false_alarms(school_id: int) -> Any:
    """Per camera and kind: the share of reviewed AI alarms marked false, the confidence threshold now, and each
    raise of it with the share before and after."""
    return false_alarms.false_alarm_view(school_id, false_alarms.Policy.from_config(current_app.config), utcnow())


@bp.post("/cameras/<id:camera_id>/tuning-changes/<id:change_id>/revert")
@rule(Action.CAMERA_MANAGE, scope="camera")
@bp.output(schemas.RevertOut)
def revert_tuning_change(camera_id: int, change_id: int) -> Any:
    """Take back a threshold raise (the latest of its kind): the kind's threshold returns to what it was."""
    return {"change": false_alarms.revert_and_show(current_principal(), camera_id, change_id,
                                                   false_alarms.Policy.from_config(current_app.config), utcnow())}
