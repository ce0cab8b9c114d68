"""Recordings: segments the media server wrote, copied into the object store, listed by time, purged by age.

The media server records each camera in short files (``record_interval``) and tells the api when one is
finished (``on_record_done``, indexed by :func:`backend.live.hooks.record_done`). The scheduled jobs here:

* :func:`ingest_pending` remuxes each pending file to MP4 (playable by the mini-program's ``<video>``),
  stores it under a key derived from the segment id, then removes the local file. A worker killed at any
  point redoes at most one upload of the same key, so nothing is lost or duplicated.
* :func:`purge_expired` removes segments older than LIVE_RECORDING_RETENTION_DAYS (default 15): the object
  first, then the row, so a killed purge simply deletes again next time.

Staff and regulators list segments by time range and play them through short-lived signed URLs; parents
never see recordings (the permission matrix holds that).
"""

from __future__ import annotations

import json
import logging
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.child_processes import run_tool
from backend.errors import ApiError
from backend.extensions import db
from backend.files import object_store
from backend.live.models import RecordingSegment, SegmentStatus
from backend.live.settings import LiveSettings, live_settings
from backend.permissions import Principal
from backend.schools.models import Camera
from backend.timeutil import as_utc, to_shanghai, utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_LIST_RANGE = timedelta(days=7)
MAX_LIST_ITEMS = 500
PLAY_URL_SECONDS = 600
FFMPEG_TIMEOUT = 300
# Smaller than any second of video: an unreadable file this small is an empty recording, not a broken one.
EMPTY_FILE_BYTES = 16 * 1024


@dataclass
class IngestReport:
    """What one ingest run did."""

    stored: int = 0
    empty: int = 0
    failed: int = 0
    retried: int = 0


class MediaToolError(RuntimeError):
    """ffprobe or ffmpeg could not read or convert a file."""


def inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` (symbolic links resolved) lies inside ``folder``: the media server may name no other file."""
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def probe_video(path: Path) -> dict[str, Any]:
    """Duration and size of a file's first video stream (``{}`` when it holds no video)."""
    result = run_tool(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                       "stream=codec_name,width,height:format=duration", "-of", "json", str(path)], timeout=60)
    if result.returncode != 0:
        raise MediaToolError(f"ffprobe failed: {result.stderr.strip()[:300]}")
    data = json.loads(result.stdout or "{}")
    streams = data.get("streams") or []
    if not streams:
        return {}
    duration = float((data.get("format") or {}).get("duration") or 0)
    return {"codec": streams[0].get("codec_name"), "width": streams[0].get("width"),
            "height": streams[0].get("height"), "duration": duration}


def remux_to_mp4(source: Path, target: Path, codec: str | None) -> None:
    """Copy the video into a fast-start MP4; re-encode only when the codec cannot live in MP4 for browsers."""
    copy = codec in ("h264", "hevc")
    video = ["-c:v", "copy"] if copy else ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    result = run_tool(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-i", str(source),
                       "-map", "0:v:0", *video, "-movflags", "+faststart", "-f", "mp4", str(target)],
                      timeout=FFMPEG_TIMEOUT)
    if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise MediaToolError(f"ffmpeg failed: {result.stderr.strip()[:300]}")


def object_key(segment: RecordingSegment) -> str:
    """Where a segment lives in the object store (derived from its id, so a redone upload overwrites)."""
    day = to_shanghai(segment.started_at)
    return f"recordings/{segment.school_id}/{segment.camera_id}/{day:%Y/%m/%d}/{segment.id}.mp4"


def _remove_local(segment: RecordingSegment, settings: LiveSettings) -> None:
    path = Path(segment.source_path)
    if inside(path, settings.record_dir):
        path.unlink(missing_ok=True)
    segment.local_present = False


def _claim(segment_id: int) -> RecordingSegment | None:
    # SKIP LOCKED lets several workers share the queue on PostgreSQL; SQLite serialises writers anyway.
    return db.session.scalar(sa.select(RecordingSegment)
                             .where(RecordingSegment.id == segment_id,
                                    RecordingSegment.status == SegmentStatus.PENDING)
                             .with_for_update(skip_locked=True))


def _ingest_one(segment: RecordingSegment, now: datetime, settings: LiveSettings, report: IngestReport) -> None:
    path = Path(segment.source_path)
    if not inside(path, settings.record_dir) or not path.is_file():
        segment.status, segment.last_error, segment.local_present = (
            SegmentStatus.FAILED.value, "file missing or outside the record folder", False)
        report.failed += 1
        db.session.commit()
        return
    try:
        info = probe_video(path)
    except MediaToolError:
        # The last file of a stream that stopped right after a cut holds a header and no frame: nothing to
        # keep. A larger unreadable file is retried, then kept as failed for a person to look at.
        if path.stat().st_size >= EMPTY_FILE_BYTES:
            raise
        info = {}
    if not info or info["duration"] <= 0:
        segment.status, segment.duration_seconds = SegmentStatus.EMPTY.value, 0.0
        _remove_local(segment, settings)
        report.empty += 1
        db.session.commit()
        return
    with tempfile.TemporaryDirectory(prefix="segment-") as folder:
        target = Path(folder) / "segment.mp4"
        remux_to_mp4(path, target, info.get("codec"))
        key = object_key(segment)
        object_store().put(key, target.read_bytes(), "video/mp4")
        size = target.stat().st_size
    segment.status = SegmentStatus.STORED.value
    segment.object_key = key
    segment.duration_seconds = round(info["duration"], 3)
    segment.ended_at = as_utc(segment.started_at) + timedelta(seconds=info["duration"])
    segment.size_bytes, segment.width, segment.height = size, info.get("width"), info.get("height")
    segment.stored_at = now
    segment.last_error = None
    db.session.commit()
    # After the commit: a crash here leaves a stored segment whose file the next run removes.
    _remove_local(segment, settings)
    db.session.commit()
    report.stored += 1


def ingest_pending(now: datetime | None = None, limit: int = 20) -> IngestReport:
    """Copy finished recording files into the object store (a scheduled job; safe to run concurrently)."""
    now = now or utcnow()
    settings = live_settings()
    report = IngestReport()
    leftovers = db.session.scalars(sa.select(RecordingSegment).where(
        RecordingSegment.status.in_([SegmentStatus.STORED, SegmentStatus.EMPTY]),
        RecordingSegment.local_present.is_(True)).limit(limit)).all()
    for segment in leftovers:
        _remove_local(segment, settings)
    db.session.commit()
    ids = db.session.scalars(sa.select(RecordingSegment.id).where(RecordingSegment.status == SegmentStatus.PENDING)
                             .order_by(RecordingSegment.id).limit(limit)).all()
    db.session.rollback()
    for segment_id in ids:
        segment = _claim(segment_id)
        if segment is None:
            db.session.rollback()
            continue
        try:
            _ingest_one(segment, now, settings, report)
        except (MediaToolError, OSError, subprocess.TimeoutExpired) as exc:
            db.session.rollback()
            segment = db.session.get(RecordingSegment, segment_id)
            if segment is None:
                continue
            segment.attempts += 1
            segment.last_error = str(exc)[:500]
            if segment.attempts >= MAX_ATTEMPTS:
                segment.status = SegmentStatus.FAILED.value
                report.failed += 1
            else:
                report.retried += 1
            db.session.commit()
            log.warning("recording segment %s not ingested (attempt %s): %s", segment_id, segment.attempts, exc)
    return report


def purge_expired(now: datetime | None = None, batch: int = 200) -> int:
    """Remove segments older than the retention period, object first and row last; the number removed."""
    now = now or utcnow()
    settings = live_settings()
    cutoff = now - timedelta(days=settings.retention_days)
    removed = 0
    store = None
    while True:
        segments = db.session.scalars(sa.select(RecordingSegment).where(RecordingSegment.ended_at < cutoff)
                                      .order_by(RecordingSegment.id).limit(batch)).all()
        if not segments:
            return removed
        for segment in segments:
            if segment.object_key:
                store = store or object_store()
                store.delete(segment.object_key)
            if segment.local_present:
                _remove_local(segment, settings)
            db.session.delete(segment)
        db.session.commit()
        removed += len(segments)


def list_recordings(camera: Camera, start: datetime, end: datetime) -> list[RecordingSegment]:
    """A camera's stored segments overlapping [start, end), oldest first."""
    if end <= start:
        raise ApiError(422, "invalid_time_range", "结束时间必须晚于开始时间")
    if end - start > MAX_LIST_RANGE:
        raise ApiError(422, "time_range_too_long", "查询时间范围不能超过 7 天")
    return stored_segments(camera.id, start, end)


def stored_segments(camera_id: int, start: datetime, end: datetime) -> list[RecordingSegment]:
    """A camera's stored segments overlapping [start, end), oldest first (at most MAX_LIST_ITEMS)."""
    return list(db.session.scalars(
        sa.select(RecordingSegment)
        .where(RecordingSegment.camera_id == camera_id, RecordingSegment.status == SegmentStatus.STORED,
               RecordingSegment.started_at < end, RecordingSegment.ended_at > start)
        .order_by(RecordingSegment.started_at, RecordingSegment.id).limit(MAX_LIST_ITEMS)))


def recording_play_url(principal: Principal, segment: RecordingSegment, now: datetime,
                       at: datetime | None = None) -> dict[str, Any]:
    """A short-lived signed URL of a stored segment and the offset of ``at`` into it; the viewing is audited."""
    if segment.status != SegmentStatus.STORED or not segment.object_key:
        raise ApiError(409, "recording_not_ready", "该录像尚未转存完成，请稍后再试")
    url = object_store().signed_url(segment.object_key, expires_in=PLAY_URL_SECONDS)
    offset = 0.0 if at is None else max(0.0, (as_utc(at) - as_utc(segment.started_at)).total_seconds())
    record_audit(principal.user_id, AuditAction.LIVE_RECORDING_PLAY, school_id=segment.school_id,
                 target=("recording", segment.id), details={"camera_id": segment.camera_id, "offset": offset})
    db.session.commit()
    return {"id": segment.id, "camera_id": segment.camera_id, "url": url,
            "expires_at": now + timedelta(seconds=PLAY_URL_SECONDS),
            "started_at": segment.started_at, "ended_at": segment.ended_at, "offset_seconds": round(offset, 3)}
