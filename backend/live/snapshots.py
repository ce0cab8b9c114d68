"""Snapshots on request: one frame grabbed from the camera's source, stored, and handed out by signed URL.

The camera's source URL and credentials are used only to open the stream: they are passed to ffmpeg and
never returned, stored elsewhere or logged; ffmpeg's own messages are scrubbed of them before logging.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import cv2
import numpy as np

from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.files import object_store
from backend.live.settings import LiveSettings
from backend.permissions import Principal
from backend.schools.models import Camera, SourceKind
from backend.timeutil import to_shanghai

log = logging.getLogger(__name__)

SNAPSHOT_URL_SECONDS = 600
NETWORK_PROTOCOLS = "tcp,udp,rtp,rtsp,rtmp,rtmps,tls,http,https,hls,crypto,httpproxy"


class SnapshotError(RuntimeError):
    """No frame could be read; the message never contains the source."""


def source_with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The source URL with the camera's credentials in it (network sources that do not already carry any)."""
    if not username:
        return url
    parts = urlsplit(url)
    if not parts.scheme or parts.scheme == "file" or parts.username or not parts.hostname:
        return url
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    netloc = f"{userinfo}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def scrub(text: str, secrets_to_hide: list[str | None]) -> str:
    """Remove every secret (and its URL-encoded form) from a message."""
    for secret in sorted({s for s in secrets_to_hide if s}, key=len, reverse=True):
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


def _input_options(kind: str, timeout: float) -> list[str]:
    microseconds = str(int(timeout * 1_000_000))
    if kind == SourceKind.FILE:
        return ["-protocol_whitelist", "file"]
    if kind == SourceKind.RTSP:
        return ["-rtsp_transport", "tcp", "-timeout", microseconds, "-protocol_whitelist", NETWORK_PROTOCOLS]
    return ["-rw_timeout", microseconds, "-protocol_whitelist", NETWORK_PROTOCOLS]


def grab_frame(camera: Camera, timeout: float) -> bytes:
    """One JPEG frame from the camera's source; raises :class:`SnapshotError` with a source-free message."""
    source = source_with_credentials(camera.source_url, camera.source_username, camera.source_password)
    hidden = [source, camera.source_url, camera.source_username, camera.source_password]
    command = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", *_input_options(camera.source_kind, timeout),
               "-i", source, "-frames:v", "1", "-q:v", "3", "-f", "image2", "-c:v", "mjpeg", "pipe:1"]
    try:
        result = subprocess.run(command, capture_output=True, timeout=timeout + 5, check=False)
    except subprocess.TimeoutExpired as exc:
        log.warning("snapshot of camera %s timed out after %ss", camera.id, timeout)
        raise SnapshotError("timeout") from exc
    if result.returncode != 0 or not result.stdout:
        message = scrub(result.stderr.decode(errors="replace").strip()[-500:], hidden)
        log.warning("snapshot of camera %s failed: %s", camera.id, message)
        raise SnapshotError("unreadable")
    return result.stdout


def take_snapshot(principal: Principal, camera: Camera, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """Grab, check, store and audit a snapshot; the answer carries a signed URL, never the source."""
    if not camera.enabled:
        raise ApiError(409, "camera_disabled", "该摄像头已停用")
    try:
        data = grab_frame(camera, settings.snapshot_timeout)
    except SnapshotError as exc:
        raise ApiError(502, "camera_unreachable", "无法从摄像头获取画面，请检查摄像头是否在线") from exc
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        log.warning("snapshot of camera %s was not a decodable image", camera.id)
        raise ApiError(502, "camera_unreachable", "无法从摄像头获取画面，请检查摄像头是否在线")
    school_id = camera.area.canteen.school_id
    key = (f"snapshots/{school_id}/{camera.id}/{to_shanghai(now):%Y/%m/%d/%H%M%S}-"
           f"{secrets.token_hex(4)}.jpg")
    store = object_store()
    store.put(key, data, "image/jpeg")
    record_audit(principal.user_id, "live.snapshot", school_id=school_id, target=("camera", camera.id),
                 details={"object_key": key})
    db.session.commit()
    height, width = image.shape[:2]
    return {"camera_id": camera.id, "taken_at": now, "width": int(width), "height": int(height),
            "url": store.signed_url(key, expires_in=SNAPSHOT_URL_SECONDS),
            "expires_at": now + timedelta(seconds=SNAPSHOT_URL_SECONDS)}
