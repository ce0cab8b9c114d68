"""HTTP routes of the live API under /api/v1/live.

The media server's hooks under /internal/media are answered in front of Flask (backend/live/gateway.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint

from backend.extensions import db
from backend.live import recordings, services, snapshots, tree
from backend.live.models import RecordingSegment
from backend.live.schemas import (
    CameraTreeOut,
    LobbyOut,
    PlayOut,
    PublishKeyOut,
    RecordingListOut,
    RecordingPlayOut,
    RecordingQuery,
    SnapshotOut,
)
from backend.live.settings import live_settings
from backend.permissions import Action, current_principal, rule
from backend.schools.models import Camera, Canteen
from backend.timeutil import utcnow

log = logging.getLogger(__name__)

bp = APIBlueprint("live", __name__, tag="直播与录像")


# --- live API -----------------------------------------------------------------------------------------------

@bp.post("/live/cameras/<id:camera_id>/play")
@rule(Action.LIVE_PLAY, scope="camera")
@bp.output(PlayOut)
@bp.doc(responses=[429])  # the viewer caps (backend/live/services.py)
def play(camera_id: int) -> Any:
    """Signed RTMP and HLS URLs of a camera (parents: public areas, inside the live windows)."""
    return services.request_play(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


@bp.get("/live/canteens/<id:canteen_id>/cameras")
@rule(Action.CAMERA_READ, scope="canteen")
@bp.output(LobbyOut)
def lobby(canteen_id: int) -> Any:
    """The canteen's watchable cameras, which are live, and when the live windows are open."""
    return services.live_lobby(current_principal(), db.session.get(Canteen, canteen_id), utcnow(), live_settings())


@bp.get("/live/camera-tree")
@rule(Action.AUTHENTICATED)
@bp.output(CameraTreeOut)
def camera_tree() -> Any:
    """The video wall's camera tree: every camera the caller may watch at any time, with its live state."""
    return {"regions": tree.camera_tree(current_principal(), utcnow(), live_settings())}


@bp.post("/live/cameras/<id:camera_id>/publish-key")
@rule(Action.CAMERA_MANAGE, scope="camera")
@bp.output(PublishKeyOut, status_code=201)
def rotate_publish_key(camera_id: int) -> Any:
    """Issue a new publish key for a camera (the previous one stops working at once)."""
    return services.rotate_publish_key(current_principal(), db.session.get(Camera, camera_id), utcnow(),
                                       live_settings())


@bp.get("/live/cameras/<id:camera_id>/recordings")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(RecordingQuery, location="query", arg_name="query")
@bp.output(RecordingListOut)
def list_recordings(camera_id: int, query: dict[str, Any]) -> Any:
    """A camera's recordings overlapping a time range (default: the last 24 hours; at most 7 days)."""
    end = query.get("end") or utcnow()
    start = query.get("start") or end - timedelta(hours=24)
    items = recordings.list_recordings(db.session.get(Camera, camera_id), start, end)
    return {"start": start, "end": end, "recordings": items}


@bp.post("/live/recordings/<id:recording_id>/play")
@rule(Action.RECORDING_READ, scope="recording")
@bp.output(RecordingPlayOut)
def play_recording(recording_id: int) -> Any:
    """A short-lived signed URL of one recording segment."""
    return recordings.recording_play_url(current_principal(), db.session.get(RecordingSegment, recording_id),
                                         utcnow())


@bp.post("/live/cameras/<id:camera_id>/snapshots")
@rule(Action.SNAPSHOT_TAKE, scope="camera")
@bp.output(SnapshotOut, status_code=201)
def take_snapshot(camera_id: int) -> Any:
    """Grab a frame from the camera now (staff)."""
    return snapshots.take_snapshot(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())
