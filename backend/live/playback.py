"""Playback: one camera's day as a timeline (recordings, gaps, violations, health changes) and play from a time.

A day is an Asia/Shanghai calendar day. The timeline lists the stored segments that overlap it, the gaps
between them up to the end of the day or now (whichever comes first: the future is not a gap), the camera's
violations (by ``occurred_at``) and its health changes (``camera_health_event``, written by the camera
pipeline once per change). Playing from a time answers the segment that covers it and the offset into it,
through :func:`backend.live.recordings.recording_play_url` (signed, audited).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend.errors import ApiError
from backend.extensions import db
from backend.live import recordings
from backend.live.models import RecordingSegment, SegmentStatus
from backend.monitoring.models import HEALTH_LABELS, CameraHealthEvent
from backend.permissions import Principal
from backend.schools.models import Camera
from backend.timeutil import as_utc, shanghai_iso, shanghai_midnight
from backend.violations.models import Violation

# A hole shorter than this between two segments is the media server's cut, not missing video.
GAP_TOLERANCE = timedelta(seconds=2)
MAX_MARKS = 500


def gaps(segments: list[RecordingSegment], start: datetime, end: datetime) -> list[dict[str, datetime]]:
    """The spans of [start, end) that no segment covers (holes under GAP_TOLERANCE are not gaps)."""
    holes = []
    cursor = start
    for segment in segments:
        began, ended = as_utc(segment.started_at), as_utc(segment.ended_at)
        if began - cursor > GAP_TOLERANCE:
            holes.append({"start": cursor, "end": min(began, end)})
        cursor = max(cursor, ended)
    if end - cursor > GAP_TOLERANCE:
        holes.append({"start": cursor, "end": end})
    return holes


def _violation_marks(camera_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Violation.id, Violation.kind, Violation.title, Violation.status, Violation.occurred_at)
        .where(Violation.camera_id == camera_id, Violation.occurred_at >= start, Violation.occurred_at < end)
        .order_by(Violation.occurred_at, Violation.id).limit(MAX_MARKS)).all()
    return [{"id": r.id, "kind": r.kind, "title": r.title, "status": r.status, "at": r.occurred_at} for r in rows]


def _health_marks(camera_id: int, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(CameraHealthEvent)
        .where(CameraHealthEvent.camera_id == camera_id, CameraHealthEvent.at >= start, CameraHealthEvent.at < end)
        .order_by(CameraHealthEvent.at, CameraHealthEvent.id).limit(MAX_MARKS)).all()
    return [{"at": event.at, "status": event.to_status, "label": HEALTH_LABELS.get(event.to_status, event.to_status),
             "from_status": event.from_status} for event in rows]


def day_timeline(camera: Camera, day: date, now: datetime) -> dict[str, Any]:
    """The camera's recordings, gaps, violation and health marks on one Asia/Shanghai day."""
    start = shanghai_midnight(day)
    end = shanghai_midnight(day + timedelta(days=1))
    segments = recordings.stored_segments(camera.id, start, end)
    return {"camera_id": camera.id, "camera_name": camera.name, "day": day, "start": start, "end": end,
            "recordings": segments, "gaps": gaps(segments, start, max(start, min(end, now))),
            "violations": _violation_marks(camera.id, start, end), "health": _health_marks(camera.id, start, end)}


def segment_at(camera_id: int, at: datetime) -> RecordingSegment:
    """The stored segment covering an instant (404 ``recording_not_found`` when none does)."""
    segment = db.session.scalar(
        sa.select(RecordingSegment)
        .where(RecordingSegment.camera_id == camera_id, RecordingSegment.status == SegmentStatus.STORED,
               RecordingSegment.started_at <= at, RecordingSegment.ended_at > at)
        .order_by(RecordingSegment.started_at.desc(), RecordingSegment.id.desc()).limit(1))
    if segment is None:
        raise ApiError(404, "recording_not_found", "该时间没有录像", {"at": shanghai_iso(at)})
    return segment


def play_at(principal: Principal, camera: Camera, at: datetime, now: datetime) -> dict[str, Any]:
    """The signed URL of the segment covering ``at`` and the offset into it, in seconds (audited)."""
    segment = segment_at(camera.id, at)
    return recordings.recording_play_url(principal, segment, now, at=at)
