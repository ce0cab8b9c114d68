"""What users do with live view: get play URLs, see which cameras are live, rotate a camera's publish key."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.integrations import media
from backend.live import sessions
from backend.live.models import CameraStream
from backend.live.policy import check_play, live_window_state
from backend.live.settings import LiveSettings
from backend.live.state import stream_states
from backend.permissions import Principal, live_viewer
from backend.schools.models import Camera, Canteen, KitchenArea

log = logging.getLogger(__name__)


def request_play(principal: Principal, camera: Camera, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """Check who may watch, write the audit row and hand out short-lived signed play URLs."""
    decision = check_play(principal, camera, now)
    if not stream_states([camera.id], now, settings.idle_seconds)[camera.id].live:
        raise ApiError(409, "camera_offline", "摄像头暂未开播，请稍后再试")
    if not decision.viewer.privileged:
        on_camera, in_school = sessions.open_counts(camera.id, decision.school.id, now, settings.idle_seconds)
        if on_camera >= settings.max_per_camera or in_school >= settings.max_per_school:
            raise ApiError(429, "live_viewers_full", "当前观看人数已满，请稍后再试",
                           {"camera_limit": settings.max_per_camera, "school_limit": settings.max_per_school})
    expires = int(now.timestamp()) + settings.token_ttl
    issued = media.issue_token(settings.token_key, media.TokenKind.PLAY, user_id=principal.user_id,
                               camera_id=camera.id, school_id=decision.school.id,
                               privileged=decision.viewer.privileged, expires=expires)
    token_id = issued.token_id
    record_audit(principal.user_id, AuditAction.LIVE_PLAY, school_id=decision.school.id, target=("camera", camera.id),
                 details={"token_id": token_id, "viewer": decision.viewer.role, "area_id": camera.area_id})
    db.session.commit()
    urls = media.play_urls(settings.server_kind, settings.rtmp_base, settings.hls_base, camera.id, issued.token)
    result: dict[str, Any] = {
        "camera_id": camera.id,
        "rtmp_url": urls["rtmp"],
        "hls_url": urls["hls"],
        "expires_at": datetime.fromtimestamp(expires, now.tzinfo),
        "viewer": decision.viewer.role,
        "window_closes_at": decision.window.closes_at if decision.window else None,
    }
    log.info("live play url issued user=%s camera=%s token=%s", principal.user_id, camera.id, token_id)
    return result


def live_lobby(principal: Principal, canteen: Canteen, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """The canteen's cameras the caller may watch, which are live, and whether the live windows are open."""
    viewer = live_viewer(principal, canteen.school)
    privileged = viewer is not None and viewer.privileged
    query = (sa.select(Camera, KitchenArea).join(KitchenArea, Camera.area_id == KitchenArea.id)
             .where(KitchenArea.canteen_id == canteen.id).order_by(KitchenArea.id, Camera.id))
    if not privileged:
        query = query.where(KitchenArea.public.is_(True), Camera.enabled.is_(True))
    rows = db.session.execute(query).all()
    states = stream_states([camera.id for camera, _ in rows], now, settings.idle_seconds)
    state = live_window_state(canteen, now)
    return {
        "canteen_id": canteen.id,
        "any_time": privileged,
        "open_now": privileged or state.open,
        "window_closes_at": None if privileged else state.closes_at,
        "next_open_at": None if privileged or state.open else state.next_open_at,
        "live_windows": canteen.live_windows or [],
        "cameras": [{"id": camera.id, "name": camera.name, "area_id": area.id, "area_name": area.name,
                     "area_public": area.public, "enabled": camera.enabled, "live": states[camera.id].live}
                    for camera, area in rows],
    }


def rotate_publish_key(principal: Principal, camera: Camera, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """Make a new publish key for a camera (shown once); the old key stops working, even mid-stream."""
    key = media.new_publish_key()
    stream = db.session.get(CameraStream, camera.id)
    if stream is None:
        stream = CameraStream(camera_id=camera.id, publishing=False)
        db.session.add(stream)
    stream.publish_key_hash = media.hash_publish_key(key)
    stream.publish_key_set_at = now
    record_audit(principal.user_id, AuditAction.LIVE_PUBLISH_KEY_ROTATED, school_id=camera.area.canteen.school_id,
                 target=("camera", camera.id))
    db.session.commit()
    log.info("publish key rotated camera=%s by user=%s", camera.id, principal.user_id)
    return {"camera_id": camera.id, "stream": media.stream_name(camera.id), "publish_key": key,
            "publish_url": media.publish_url(settings.publish_base, camera.id, key), "created_at": now}


def sample_source(camera_id: int, now: datetime, settings: LiveSettings) -> str:
    """Where a reader inside the platform (a detection worker, a snapshot) plays a camera that pushes its stream
    to the media server: the stream with a sample token, to be used within the token's lifetime (it is checked when
    the reader connects; the connection then lives on). Nobody watches: no view session, no audit."""
    token = media.issue_token(settings.token_key, media.TokenKind.SAMPLE, user_id=0, camera_id=camera_id,
                              school_id=0, privileged=True,
                              expires=int((now + timedelta(seconds=settings.token_ttl)).timestamp())).token
    return media.sample_url(settings.publish_base, camera_id, token)


def relay_token(camera: Camera, now: datetime, settings: LiveSettings) -> str:
    """A short-lived server-signed token with which our own relay publishes a camera's pulled stream."""
    return media.issue_token(settings.token_key, media.TokenKind.RELAY, user_id=0, camera_id=camera.id,
                             school_id=camera.area.canteen.school_id, privileged=True,
                             expires=int((now + timedelta(seconds=settings.token_ttl)).timestamp())).token
