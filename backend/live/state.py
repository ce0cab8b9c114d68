"""Each camera's live state as the media server reports it, for the live lobby and for camera health.

Camera health (backend/monitoring, the detection workers) reads :func:`stream_states`: a camera that should
be publishing but is not (``live`` False) is offline from the media server's point of view, whatever its
sampled pictures say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.live.models import CameraStream
from backend.timeutil import as_utc, utcnow

DEFAULT_IDLE_SECONDS = 60


@dataclass(frozen=True)
class StreamState:
    """What the media server last told us about a camera's stream.

    ``live``: publishing and heard from within the idle period. ``stale``: marked publishing but silent for
    longer (the media server or the api lost a notification; treat as offline).
    """

    camera_id: int
    live: bool
    stale: bool
    live_since: datetime | None
    last_event_at: datetime | None
    last_publish_done_at: datetime | None
    has_publish_key: bool


def _idle_seconds() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        return int(current_app.config.get("LIVE_SESSION_IDLE_SECONDS") or DEFAULT_IDLE_SECONDS)
    return DEFAULT_IDLE_SECONDS


def stream_states(camera_ids: Iterable[int], now: datetime | None = None,
                  idle_seconds: int | None = None) -> dict[int, StreamState]:
    """The live state of each camera (cameras never seen by the media server are not live)."""
    ids = sorted(set(camera_ids))
    now = now or utcnow()
    idle = timedelta(seconds=idle_seconds or _idle_seconds())
    rows = {row.camera_id: row for row in db.session.scalars(
        sa.select(CameraStream).where(CameraStream.camera_id.in_(ids)))} if ids else {}
    states: dict[int, StreamState] = {}
    for camera_id in ids:
        row = rows.get(camera_id)
        if row is None:
            states[camera_id] = StreamState(camera_id, False, False, None, None, None, False)
            continue
        fresh = row.last_event_at is not None and now - as_utc(row.last_event_at) <= idle
        states[camera_id] = StreamState(
            camera_id=camera_id, live=bool(row.publishing and fresh), stale=bool(row.publishing and not fresh),
            live_since=row.live_since if row.publishing else None, last_event_at=row.last_event_at,
            last_publish_done_at=row.last_publish_done_at, has_publish_key=row.publish_key_hash is not None)
    return states


def is_live(camera_id: int, now: datetime | None = None) -> bool:
    """Whether the camera is publishing to the media server now."""
    return stream_states([camera_id], now)[camera_id].live
