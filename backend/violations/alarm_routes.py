"""HTTP routes of the AI-alarm review queue: the queue of a school or region, a verdict, verdict counts, and
the cheap cursor the console polls to show new alarms without a reload."""

from __future__ import annotations

import tempfile
from typing import Any

from apiflask import APIBlueprint
from flask import current_app, send_file

from backend.errors import ApiError
from backend.extensions import db
from backend.permissions import Action, current_principal, current_school, rule
from backend.schools.models import School
from backend.timeutil import utcnow
from backend.violations import alarm_queue, alarm_review, alarm_schemas, alarm_signal, stats, training_set
from backend.violations.models import Violation
from backend.violations.stats_cache import app_cache

bp = APIBlueprint("alarms", __name__, tag="告警审核")

ZIP_RESPONSES = {200: {"description": "YOLO 训练集（images/、labels/、data.yaml、manifest.json）的 zip",
                       "content": {"application/zip": {}}}}


def _region_school(region_path: str, school_id: int | None) -> int | None:
    """A ``school_id`` filter of a region's route, refused (404) when the school is not in the region."""
    if school_id is not None and db.session.scalar(
            alarm_queue.region_schools(region_path).where(School.id == school_id)) is None:
        raise ApiError(404, "not_found", "学校不存在", {"fields": {"school_id": ["不在该地区"]}})
    return school_id


@bp.get("/schools/<id:school_id>/alarms")
@rule(Action.ALARM_REVIEW, scope="school")
@bp.input(alarm_schemas.AlarmQuery, location="query", arg_name="query")
@bp.output(alarm_schemas.AlarmPageOut)
def school_alarms(school_id: int, query: dict[str, Any]) -> Any:
    """A school's AI alarms, newest first, grouped per camera and event (default: pending review)."""
    return alarm_queue.list_alarms(school_id=school_id, **query)


@bp.get("/regions/<id:region_id>/alarms")
@rule(Action.INSPECT, scope="region")  # region-wide work is the regulators' (school roles have no region)
@bp.input(alarm_schemas.RegionAlarmQuery, location="query", arg_name="query")
@bp.output(alarm_schemas.AlarmPageOut)
def region_alarms(region_id: int, query: dict[str, Any]) -> Any:
    """A region's AI alarms for its regulators, newest first, grouped per camera and event."""
    path = current_school().path  # for a region-scoped rule, the region it resolved
    school_id = _region_school(path, query.pop("school_id"))
    return alarm_queue.list_alarms(region_path=path, school_id=school_id, **query)


@bp.get("/schools/<id:school_id>/alarms/cursor")
@rule(Action.ALARM_REVIEW, scope="school")
@bp.output(alarm_schemas.CursorOut)
def school_alarm_cursor(school_id: int) -> Any:
    """The newest alarm id and the queue's revision: poll it every few seconds, reload the queue when it moves."""
    return alarm_signal.school_cursor(current_school())


@bp.get("/regions/<id:region_id>/alarms/cursor")
@rule(Action.INSPECT, scope="region")  # region-wide work is the regulators' (school roles have no region)
@bp.output(alarm_schemas.CursorOut)
def region_alarm_cursor(region_id: int) -> Any:
    """The region's newest alarm id and revision (from Redis when configured, else two indexed queries)."""
    return alarm_signal.region_cursor(current_school())


@bp.get("/schools/<id:school_id>/alarms/stats")
@rule(Action.ALARM_REVIEW, scope="school")
@bp.input(alarm_schemas.AlarmStatsQuery, location="query", arg_name="query")
@bp.output(alarm_schemas.AlarmStatsOut)
def school_alarm_stats(school_id: int, query: dict[str, Any]) -> Any:
    """Verdicts of a school's alarms in a period: confirmed / false positive per camera and per kind."""
    first, last = stats.period_bounds(query["date_from"], query["date_to"], utcnow())
    return app_cache(current_app).reused(("alarm_stats", school_id, None, first, last), lambda: alarm_queue.alarm_stats(
        school_id=school_id, date_from=first, date_to=last))


@bp.get("/regions/<id:region_id>/alarms/stats")
@rule(Action.INSPECT, scope="region")  # region-wide work is the regulators' (school roles have no region)
@bp.input(alarm_schemas.RegionAlarmStatsQuery, location="query", arg_name="query")
@bp.output(alarm_schemas.AlarmStatsOut)
def region_alarm_stats(region_id: int, query: dict[str, Any]) -> Any:
    """Verdicts of a region's alarms in a period, per camera (its false-alarm rate) and per kind."""
    path = current_school().path
    first, last = stats.period_bounds(query["date_from"], query["date_to"], utcnow())
    school_id = _region_school(path, query["school_id"])
    # Reused while no violation, verdict, school, region or camera changed (backend/violations/stats_cache.py).
    return app_cache(current_app).reused(("alarm_stats", school_id, path, first, last), lambda: alarm_queue.alarm_stats(
        region_path=path, school_id=school_id, date_from=first, date_to=last))


@bp.post("/alarms/<id:violation_id>/review")
@rule(Action.ALARM_REVIEW, scope="violation")
@bp.input(alarm_schemas.AlarmReviewIn, arg_name="body")
@bp.output(alarm_schemas.AlarmReviewOut, status_code=201)
def review(violation_id: int, body: dict[str, Any]) -> Any:
    """Confirm, mark false positive (reason required) or escalate an AI alarm; the same verdict again is 200.

    A confirmation or escalation may give ``boxes``: what the picture really shows (the training set's labels)."""
    violation = db.session.get(Violation, violation_id)
    review_row, created = alarm_review.review_alarm(current_principal(), violation, body["verdict"], body["reason"],
                                                    boxes=body["boxes"])
    db.session.expire_all()
    row = (db.session.get(Violation, violation_id), review_row)
    return {"created": created, "alarm": alarm_queue.alarm_items([row])[0]}, 201 if created else 200


def _training_zip(name: str, **scope: Any) -> Any:
    # A region's set may be large: it spills to disk; send_file closes it once sent.
    target = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)  # noqa: SIM115
    training_set.export_for(current_principal().user_id, target, **scope)
    target.seek(0)
    response = send_file(target, mimetype="application/zip", as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/schools/<id:school_id>/alarms/training-set")
@rule(Action.TRAINING_EXPORT, scope="school")
@bp.doc(responses=ZIP_RESPONSES)
def school_training_set(school_id: int) -> Any:
    """The school's reviewed AI alarms as a YOLO training set (zip; split by camera; false alarms are negatives)."""
    return _training_zip(f"training-set-school{school_id}.zip", school_id=school_id)


@bp.get("/regions/<id:region_id>/alarms/training-set")
@rule(Action.TRAINING_EXPORT, scope="region")
@bp.doc(responses=ZIP_RESPONSES)
def region_training_set(region_id: int) -> Any:
    """The region's reviewed AI alarms as a YOLO training set (zip), for its regulators."""
    return _training_zip(f"training-set-region{region_id}.zip", region_id=region_id,
                         region_path=current_school().path)
