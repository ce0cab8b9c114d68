"""Clips: a span of one camera's recordings cut server-side into one MP4, stored, signed, audited.

The span may cross segments (the pieces are joined by ffmpeg's concat demuxer) and may not be longer than
MAX_CLIP. The video is copied when the span starts on a keyframe of its first segment (every later piece
starts at its segment's beginning, a keyframe) and re-encoded otherwise, so a clip never begins with frames
that cannot be decoded. The cut runs synchronously with a timeout, in a temporary folder; only a finished,
probed file reaches the object store, whose writes are atomic: a killed process leaves nothing half-written.

Each clip has a row (:class:`RecordingClip`); :func:`purge_expired` removes the clips older than
LIVE_CLIP_RETENTION_DAYS, file first and row last, each with an audit row ``live.clip_purge``, and never one whose
download URL still runs.
"""

from __future__ import annotations

import subprocess
import tempfile
import uuid
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
from backend.live import recordings
from backend.live.models import RecordingClip, RecordingSegment
from backend.live.settings import live_settings
from backend.permissions import Principal
from backend.schools.models import Camera
from backend.timeutil import as_utc, to_shanghai

MAX_CLIP = timedelta(minutes=10)
CLIP_TIMEOUT = 120
URL_SECONDS = 600
# How far from a keyframe a cut may start and still be copied (a frame at 25 fps lasts 0.04 s).
KEYFRAME_TOLERANCE = 0.02


def _keyframe_times(path: Path) -> list[float]:
    result = run_tool(["ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey", "-show_entries",
                       "frame=pts_time", "-of", "csv=p=0", str(path)], timeout=CLIP_TIMEOUT)
    if result.returncode != 0:
        raise recordings.MediaToolError(f"ffprobe failed: {result.stderr.strip()[:300]}")
    return [float(line.split(",")[0]) for line in result.stdout.split() if line.strip(",")]


def _pieces(folder: Path, segments: list[RecordingSegment], start: datetime,
            end: datetime) -> list[tuple[Path, float, float]]:
    """Each segment fetched into ``folder`` with its in and out point (seconds into the file)."""
    store = object_store()
    pieces = []
    for index, segment in enumerate(segments):
        path = folder / f"piece-{index}.mp4"
        path.write_bytes(store.get(segment.object_key or ""))
        began = as_utc(segment.started_at)
        length = (as_utc(segment.ended_at) - began).total_seconds()
        inpoint = max(0.0, (start - began).total_seconds())
        outpoint = min(length, (end - began).total_seconds())
        pieces.append((path, inpoint, outpoint))
    return pieces


def _concat_script(pieces: list[tuple[Path, float, float]]) -> str:
    lines = ["ffconcat version 1.0"]
    for path, inpoint, outpoint in pieces:
        lines.append(f"file '{path.name}'")
        if inpoint > 0:
            lines.append(f"inpoint {inpoint:.3f}")
        lines.append(f"outpoint {outpoint:.3f}")
    return "\n".join(lines) + "\n"


def cut(pieces: list[tuple[Path, float, float]], target: Path) -> bool:
    """Join the pieces into a fast-start MP4 at ``target``; whether the video was copied (not re-encoded)."""
    first, inpoint, _ = pieces[0]
    copy = inpoint == 0 or any(abs(t - inpoint) <= KEYFRAME_TOLERANCE for t in _keyframe_times(first))
    script = target.with_name("clip.ffconcat")
    if copy:
        script.write_text(_concat_script(pieces))
        video = ["-c:v", "copy"]
    else:
        # The concat demuxer's in point lets frames before it through; decoding from the file's start and
        # dropping what precedes the in point (output -ss) is exact.
        script.write_text(_concat_script([(first, 0.0, pieces[0][2]), *pieces[1:]]))
        video = ["-ss", f"{inpoint:.3f}", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    result = run_tool(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-f", "concat", "-safe", "0",
                       "-i", str(script), "-map", "0:v:0", *video, "-movflags", "+faststart", "-f", "mp4",
                       str(target)], timeout=CLIP_TIMEOUT)
    if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
        raise recordings.MediaToolError(f"ffmpeg failed: {result.stderr.strip()[:300]}")
    return copy


def _check_span(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ApiError(422, "invalid_time_range", "结束时间必须晚于开始时间")
    if end - start > MAX_CLIP:
        raise ApiError(422, "clip_too_long", "剪辑时长不能超过 10 分钟",
                       {"max_seconds": int(MAX_CLIP.total_seconds())})


def make_clip(principal: Principal, camera: Camera, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Cut [start, end) of the camera's recordings into one MP4 in the object store; a signed download URL."""
    start, end = as_utc(start), as_utc(end)
    _check_span(start, end)
    segments = recordings.stored_segments(camera.id, start, end)
    if not segments:
        raise ApiError(404, "recording_not_found", "所选时段没有录像")
    school_id = segments[0].school_id
    local = to_shanghai(start)
    key = f"clips/{school_id}/{camera.id}/{local:%Y/%m/%d}/{uuid.uuid4().hex}.mp4"
    filename = f"camera-{camera.id}-{local:%Y%m%d-%H%M%S}.mp4"
    with tempfile.TemporaryDirectory(prefix="clip-") as folder:
        target = Path(folder) / "clip.mp4"
        try:
            copied = cut(_pieces(Path(folder), segments, start, end), target)
            info = recordings.probe_video(target)
        except (recordings.MediaToolError, subprocess.TimeoutExpired, OSError) as exc:
            raise ApiError(503, "clip_failed", "录像剪辑失败，请稍后重试") from exc
        object_store().put(key, target.read_bytes(), "video/mp4")
        size = target.stat().st_size
    covered = [(max(start, as_utc(s.started_at)), min(end, as_utc(s.ended_at))) for s in segments]
    db.session.add(RecordingClip(camera_id=camera.id, school_id=school_id, created_by=principal.user_id,
                                 object_key=key, started_at=covered[0][0], ended_at=covered[-1][1], size_bytes=size,
                                 created_at=now, url_expires_at=now + timedelta(seconds=URL_SECONDS)))
    record_audit(principal.user_id, AuditAction.LIVE_CLIP_DOWNLOAD, school_id=school_id, target=("camera", camera.id),
                 details={"start": start.isoformat(), "end": end.isoformat(), "key": key,
                          "segments": [s.id for s in segments]})
    db.session.commit()
    url = object_store().signed_url(key, expires_in=URL_SECONDS, filename=filename)
    return {"camera_id": camera.id, "start": covered[0][0], "end": covered[-1][1], "requested_start": start,
            "requested_end": end, "duration_seconds": round(info.get("duration", 0.0), 3), "size_bytes": size,
            "copied": copied, "url": url, "filename": filename, "expires_at": now + timedelta(seconds=URL_SECONDS)}


def purge_expired(now: datetime, batch: int = 200) -> int:
    """Remove the clips made more than LIVE_CLIP_RETENTION_DAYS ago whose download URL has run out: the file
    first, then the row, with an audit row ``live.clip_purge`` each; the number removed.

    A clip whose URL still runs is left for a later run (its download may be going on). A run stopped midway
    leaves rows whose file may be gone already; the next run deletes the file again (a no-op) and the row.
    """
    cutoff = now - timedelta(days=live_settings().clip_retention_days)
    store, removed = object_store(), 0
    while True:
        clips = db.session.scalars(
            sa.select(RecordingClip).where(RecordingClip.created_at < cutoff, RecordingClip.url_expires_at <= now)
            .order_by(RecordingClip.id).limit(batch)).all()
        if not clips:
            return removed
        for clip in clips:
            store.delete(clip.object_key)
            record_audit(None, AuditAction.LIVE_CLIP_PURGE, school_id=clip.school_id, target=("camera", clip.camera_id),
                         details={"clip_id": clip.id, "key": clip.object_key,
                                  "created_at": as_utc(clip.created_at).isoformat(),
                                  "retention_days": live_settings().clip_retention_days})
            db.session.delete(clip)
        db.session.commit()
        removed += len(clips)
