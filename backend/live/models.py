"""Live view: each camera's stream state and publish key, view sessions, and recorded segments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import CameraOwnedRef, DefaultNow, IntPK, SchoolRef
from backend.extensions import db


class CameraStream(db.Model):
    """A camera's side of the media server: its publish key (hash only) and whether it is publishing now.

    ``publishing`` is set by ``on_publish`` and cleared by ``on_publish_done``; ``last_event_at`` moves with every
    publisher notification (``on_update`` every 18 s), so a media server that died without saying so shows as
    stale. Read it through :func:`backend.live.state.stream_states`.
    """

    __tablename__ = "camera_stream"

    camera_id: Mapped[CameraOwnedRef] = mapped_column(primary_key=True)
    publish_key_hash: Mapped[str | None] = mapped_column(String(64))
    publish_key_set_at: Mapped[datetime | None]
    publishing: Mapped[bool] = mapped_column(Boolean, default=False)
    live_since: Mapped[datetime | None]
    last_event_at: Mapped[datetime | None]
    last_publish_done_at: Mapped[datetime | None]
    # The media server's connection id of the current publisher, so a late "done" of an older or refused
    # publisher cannot mark the live one as stopped.
    publisher_client_id: Mapped[str | None] = mapped_column(String(64))
    publisher_addr: Mapped[str | None] = mapped_column(String(64))
    # "key" (the camera's static key) or "relay" (a server-signed relay token).
    publisher_kind: Mapped[str | None] = mapped_column(String(8))


class Protocol(StrEnum):
    """How a viewer watches."""

    RTMP = "rtmp"
    HLS = "hls"


class CloseReason(StrEnum):
    """Why a view session ended."""

    PLAYER_CLOSED = "player_closed"
    IDLE = "idle"
    POLICY = "policy"


class ViewSession(db.Model):
    """One viewing of one camera by one user through one play token (a token opens at most one session)."""

    __tablename__ = "live_view_session"
    __table_args__ = (
        Index("ix_live_view_session_camera_open", "camera_id", "closed_at"),
        Index("ix_live_view_session_school_open", "school_id", "closed_at"),
    )

    id: Mapped[IntPK]
    token_id: Mapped[str] = mapped_column(String(32), unique=True)
    # Plain ids, no foreign keys and no index on user_id: a row is written on every play, and each foreign key
    # would cost a locking lookup of the user, camera and school rows in that hot insert. The ids come from a
    # play token the api signed after loading those rows, and users, cameras and schools are never deleted.
    user_id: Mapped[int] = mapped_column(Integer)
    camera_id: Mapped[int] = mapped_column(Integer)
    school_id: Mapped[int] = mapped_column(Integer)
    privileged: Mapped[bool] = mapped_column(Boolean, default=False)
    protocol: Mapped[str] = mapped_column(String(8))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    media_client_id: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[DefaultNow]
    last_seen_at: Mapped[DefaultNow]
    policy_checked_at: Mapped[DefaultNow]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(String(16))


class SegmentStatus(StrEnum):
    """Life of a recorded segment: written by the media server, then copied into the object store."""

    PENDING = "pending"
    STORED = "stored"
    EMPTY = "empty"
    FAILED = "failed"


class RecordingSegment(db.Model):
    """A piece of a camera's recording, indexed by time; the file lives in the object store once stored."""

    __tablename__ = "recording_segment"
    __table_args__ = (
        Index("ix_recording_segment_camera_started", "camera_id", "started_at"),
        Index("ix_recording_segment_status", "status", "id"),
    )

    id: Mapped[IntPK]
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    school_id: Mapped[SchoolRef]
    # The file the media server wrote (a path under LIVE_RECORD_DIR); unique so a repeated hook is one row.
    source_path: Mapped[str] = mapped_column(String(500), unique=True)
    # Cleared once the local file has been removed after the copy into the object store.
    local_present: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=SegmentStatus.PENDING)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime] = mapped_column(index=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    object_key: Mapped[str | None] = mapped_column(String(300))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[DefaultNow]
    stored_at: Mapped[datetime | None]


class RecordingClip(db.Model):
    """An MP4 cut from a camera's recordings and stored for download, until the clip retention removes it."""

    __tablename__ = "recording_clip"

    id: Mapped[IntPK]
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    school_id: Mapped[SchoolRef]
    # Who asked for it (their audit row live.clip_download says the same); None for clips found in the store.
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # The signed download URL handed out runs until then: the clip is never removed before (a download may be
    # going on, resuming with Range requests).
    url_expires_at: Mapped[datetime]
