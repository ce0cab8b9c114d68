"""Snapshots on request: one frame grabbed from the camera's source, stored, and handed out by signed URL.

The camera's source URL and credentials are used only to open the stream: they reach ffmpeg through its standard
input, never its command line (see :mod:`backend.live.sources`), and are never returned, stored elsewhere or
logged; ffmpeg's own messages are scrubbed of them before logging.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from datetime import datetime, timedelta
from typing import Any

import cv2
import numpy as np

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.child_processes import run_tool
from backend.errors import ApiError
from backend.extensions import db
from backend.files import object_store
from backend.live.services import sample_source
from backend.live.settings import LiveSettings
from backend.live.sources import SourceError, ffmpeg_input, scrub, source_secrets
from backend.permissions import Principal
from backend.schools.models import Camera, SourceKind
from backend.timeutil import to_shanghai, utcnow

log = logging.getLogger(__name__)

SNAPSHOT_URL_SECONDS = 600


class SnapshotError(RuntimeError):
    """No frame could be read; the message never contains the source."""


def grab_frame(camera: Camera, timeout: float, pushed: str | None = None) -> bytes:
    """One JPEG frame from the camera's source (``pushed``: the media server's stream of a camera that pushes);
    raises :class:`SnapshotError` with a source-free message."""
    try:
        input_args, script = ffmpeg_input(camera, timeout, pushed=pushed)
    except SourceError as exc:
        log.warning("snapshot of camera %s: its source URL cannot be opened", camera.id)
        raise SnapshotError("unusable source") from exc
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *input_args,
               "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    try:
        result = run_tool(command, input=script, timeout=timeout + 5, text=False)
    except subprocess.TimeoutExpired as exc:
        log.warning("snapshot of camera %s timed out after %ss", camera.id, timeout)
        raise SnapshotError("timeout") from exc
    if result.returncode != 0 or not result.stdout:
        message = scrub(result.stderr.decode(errors="replace").strip()[-500:], [*source_secrets(camera), pushed])
        log.warning("snapshot of camera %s failed: %s", camera.id, message)
        raise SnapshotError("unreadable")
    return result.stdout


def grab_checked_frame(camera: Camera, settings: LiveSettings) -> tuple[bytes, int, int]:
    """A JPEG frame of an enabled camera that decodes, with its width and height; the ApiError a user reads
    otherwise (also used by the patrol's findings, whose evidence is such a frame)."""
    if not camera.enabled:
        raise ApiError(409, "camera_disabled", "该摄像头已停用")
    pushed = None
    if camera.source_kind == SourceKind.PUSH:
        pushed = sample_source(camera.id, utcnow(), settings)
    try:
        data = grab_frame(camera, settings.snapshot_timeout, pushed)
    except SnapshotError as exc:
        raise ApiError(502, "camera_unreachable", "无法从摄像头获取画面，请检查摄像头是否在线") from exc
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        log.warning("snapshot of camera %s was not a decodable image", camera.id)
        raise ApiError(502, "camera_unreachable", "无法从摄像头获取画面，请检查摄像头是否在线")
    height, width = image.shape[:2]
    return data, int(width), int(height)


def take_snapshot(principal: Principal, camera: Camera, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """Grab, check, store and audit a snapshot; the answer carries a signed URL, never the source."""
    data, width, height = grab_checked_frame(camera, settings)
    school_id = camera.area.canteen.school_id
    key = (f"snapshots/{school_id}/{camera.id}/{to_shanghai(now):%Y/%m/%d/%H%M%S}-"
           f"{secrets.token_hex(4)}.jpg")
    store = object_store()
    store.put(key, data, "image/jpeg")
    record_audit(principal.user_id, AuditAction.LIVE_SNAPSHOT, school_id=school_id, target=("camera", camera.id),
                 details={"object_key": key})
    db.session.commit()
    return {"camera_id": camera.id, "taken_at": now, "width": width, "height": height,
            "url": store.signed_url(key, expires_in=SNAPSHOT_URL_SECONDS),
            "expires_at": now + timedelta(seconds=SNAPSHOT_URL_SECONDS)}
