"""HTTP routes of the live API under /api/v1/live.

The media server's hooks under /internal/media are answered in front of Flask (backend/live/gateway.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint

from backend.extensions import db
from backend.files import read_upload
from backend.live import clips, playback, recordings, services, snapshots, talk, tree
from backend.live.models import RecordingSegment
from backend.live.schemas import (
    BroadcastIn,
    CameraTreeOut,
    ClipIn,
    ClipOut,
    LobbyOut,
    PlayAtIn,
    PlaybackQuery,
    PlayOut,
    PublishKeyOut,
    RecordingListOut,
    RecordingPlayOut,
    RecordingQuery,
    SnapshotOut,
    TalkIn,
    TalkOut,
    TalkPromptsOut,
    TimelineOut,
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


@bp.get("/live/cameras/<id:camera_id>/playback")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(PlaybackQuery, location="query", arg_name="query")
@bp.output(TimelineOut)
def playback_timeline(camera_id: int, query: dict[str, Any]) -> Any:
    """A camera's day (Asia/Shanghai): recordings, gaps, violation and health marks."""
    return playback.day_timeline(db.session.get(Camera, camera_id), query["day"], utcnow())


@bp.post("/live/cameras/<id:camera_id>/playback/play")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(PlayAtIn, arg_name="body")
@bp.output(RecordingPlayOut)
def play_at(camera_id: int, body: dict[str, Any]) -> Any:
    """The signed URL of the segment covering an instant and the offset to start at (404 without one)."""
    return playback.play_at(current_principal(), db.session.get(Camera, camera_id), body["at"], utcnow())


@bp.post("/live/cameras/<id:camera_id>/clips")
@rule(Action.RECORDING_READ, scope="camera")
@bp.input(ClipIn, arg_name="body")
@bp.output(ClipOut, status_code=201)
@bp.doc(responses=[503])  # ffmpeg could not cut the span (backend/live/clips.py)
def make_clip(camera_id: int, body: dict[str, Any]) -> Any:
    """Cut a span (at most 10 minutes) of the camera's recordings into one MP4; a signed download URL (audited)."""
    return clips.make_clip(current_principal(), db.session.get(Camera, camera_id), body["start"], body["end"],
                           utcnow())


@bp.post("/live/cameras/<id:camera_id>/snapshots")
@rule(Action.SNAPSHOT_TAKE, scope="camera")
@bp.output(SnapshotOut, status_code=201)
def take_snapshot(camera_id: int) -> Any:
    """Grab a frame from the camera now (staff)."""
    return snapshots.take_snapshot(current_principal(), db.session.get(Camera, camera_id), utcnow(), live_settings())


# --- talk and broadcast (backend/live/talk.py) -----------------------------------------------------------------

@bp.get("/live/talk-prompts")
@rule(Action.AUTHENTICATED)
@bp.output(TalkPromptsOut)
def talk_prompts() -> Any:
    """The canned prompts a broadcast can speak, one per violation kind."""
    return {"prompts": talk.prompts()}


@bp.post("/live/cameras/<id:camera_id>/talk")
@rule(Action.LIVE_TALK, scope="camera")
@bp.input(TalkIn, location="form_and_files", arg_name="body")
@bp.output(TalkOut, status_code=201)
@bp.doc(responses=[409, 413, 502, 503])  # no back-channel; clip too large; camera unreachable; ffmpeg failed
def talk_to_camera(camera_id: int, body: dict[str, Any]) -> Any:
    """Play a push-to-talk recording on the camera's speaker (ONVIF audio back-channel; audited)."""
    return talk.talk_to_camera(current_principal(), db.session.get(Camera, camera_id), read_upload(body["file"]),
                               utcnow())


@bp.post("/live/broadcasts")
@rule(Action.AUTHENTICATED)  # the target is in the body: the service requires LIVE_TALK on its school
@bp.input(BroadcastIn, arg_name="body")
@bp.output(TalkOut, status_code=201)
@bp.doc(responses=[403, 404, 503])
def broadcast(body: dict[str, Any]) -> Any:
    """Speak a canned prompt or a text on every camera of a canteen or a school (一键喊话; audited)."""
    return talk.broadcast(current_principal(), kind=body.get("kind"), text=body.get("text"),
                          canteen_id=body.get("canteen_id"), school_id=body.get("school_id"), now=utcnow())
