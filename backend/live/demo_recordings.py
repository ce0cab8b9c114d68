"""Recorded history for the demo and the console's end-to-end tests: short real recordings of a camera.

Each file is cut with ffmpeg from the demo's video (Debian opencv-doc's vtest.avi, or ffmpeg's test pattern
when it is missing) into an H.264 FLV like the ones nginx-rtmp writes, named as nginx-rtmp names them, indexed
through the same ``on_record_done`` handler and stored by the same ingest as a real recording. One AI
violation and one health change are marked inside the second segment, so the timeline has marks to seek to.
"""

from __future__ import annotations

import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from backend.child_processes import bound_to_parent
from backend.integrations import media
from backend.live import hooks, recordings
from backend.live.settings import live_settings
from backend.schools.models import Camera

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def _write_flv(path: Path, seconds: float, skip: float) -> None:
    source = (["-ss", f"{skip:.1f}", "-i", str(VTEST)] if VTEST.is_file()
              else ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=10"])
    subprocess.run(bound_to_parent(["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *source, "-t",
                                    f"{seconds:g}", "-an", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt",
                                    "yuv420p", "-g", "10", "-f", "flv", str(path)], "KILL"),
                   check=True, timeout=recordings.FFMPEG_TIMEOUT)


def _mark(camera: Camera, at: datetime) -> int:
    from backend.extensions import db
    from backend.monitoring.models import CameraHealthEvent
    from backend.violations.services import raise_violation

    violation = raise_violation(canteen_id=camera.area.canteen_id, kind="no_mask", source="ai",
                                idempotency_key=f"demo-recording:{camera.id}:{int(at.timestamp())}", occurred_at=at,
                                camera_id=camera.id, title="演示：未规范佩戴口罩").violation
    db.session.add(CameraHealthEvent(camera_id=camera.id, at=at + timedelta(seconds=3), from_status="ok",
                                     to_status="blurred", problems=["blurred"], metrics={}))
    db.session.commit()
    return violation.id


def seed_recordings(camera: Camera, end: datetime, count: int = 3, seconds: float = 20.0,
                    gap: float = 10.0) -> dict[str, object]:
    """``count`` recordings of ``seconds`` each ending at ``end`` (a ``gap`` after the first), stored; one mark."""
    settings = live_settings()
    settings.record_dir.mkdir(parents=True, exist_ok=True)
    span = count * seconds + gap
    first = int((end - timedelta(seconds=span)).timestamp())
    starts = [first + int(index * seconds + (gap if index else 0)) for index in range(count)]
    for index, start in enumerate(starts):
        path = settings.record_dir / f"{media.stream_name(camera.id)}-{start}.flv"
        _write_flv(path, seconds, skip=index * seconds)
        event = media.parse_nginx_rtmp({"call": "record_done", "app": hooks.LIVE_APP,
                                        "name": media.stream_name(camera.id), "path": str(path)})
        hooks.record_done(event, end, settings)
    report = recordings.ingest_pending(end, limit=count + 20)
    marked = datetime.fromtimestamp(starts[min(1, count - 1)] + seconds / 2, end.tzinfo)
    return {"stored": report.stored, "starts": starts, "violation_id": _mark(camera, marked), "violation_at": marked}
