"""`make demo`'s live video: the media stack scripts/run_demo.py starts (backend.live.media_stack.MediaStack:
the real nginx-rtmp with the project's configuration, and `flask live relay` with an ffmpeg per demo camera,
looping the demo video from its cached H.264 copy) serves staff and parents HLS, and its recordings reach the
object store."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa

from backend.extensions import db
from backend.live.media_stack import MediaStack, relay_cameras
from backend.live.models import CameraStream, RecordingSegment, SegmentStatus
from backend.timeutil import utcnow
from tests.support.net import http_get
from tests.support.waiting import wait_for

pytestmark = pytest.mark.slow


def _relayed() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(CameraStream).where(
        CameraStream.publishing.is_(True), CameraStream.publisher_kind == "relay"))


def _children(pid: int) -> list[int]:
    """Child processes of ``pid``, started from any of its threads."""
    children = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie that nobody reaped yet counts as stopped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _camera_of(pid: int) -> int | None:
    """The camera an ffmpeg relays (its publish URL names the stream cam-<id>)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    streams = [a for a in arguments if b"/live/cam-" in a]
    return int(streams[0].split(b"/live/cam-")[1].split(b"?")[0]) if streams else None


def _playable(client, as_user, openid: str, camera_id: int, stack: MediaStack) -> bytes:
    """Ask the play API as ``openid``, then fetch the HLS playlist and one of its segments over HTTP; the
    segment's bytes."""
    headers = as_user(openid)
    # The camera may be between publishers (a relay just restarted): the play API answers once it publishes.
    hls = wait_for(lambda: (response := client.post(f"/api/v1/live/cameras/{camera_id}/play", headers=headers))
                 .status_code == 200 and response.json["hls_url"], 30, f"{openid}'s play URL")
    assert urlsplit(hls).port == stack.http_port

    def playlist() -> list[str] | None:
        status, body = http_get(hls)
        names = [line for line in body.decode(errors="replace").splitlines() if line.endswith(".ts")]
        return names if status == 200 and names else None

    names = wait_for(playlist, 30, f"{openid}'s HLS playlist of camera {camera_id}\n{stack.log_tail()}")
    status, segment = http_get(urljoin(hls, names[0]))
    assert status == 200 and len(segment) > 1000 and segment[0] == 0x47  # MPEG-TS sync byte
    return segment


def test_the_demo_media_stack_serves_live_kitchens_and_records(app, client, as_user, demo, camera_ids, hook_server,
                                                               media_ports):
    cameras = relay_cameras()
    assert len(cameras) == 6 and {c.id for c in cameras} >= set(camera_ids.values())
    stack = MediaStack(api_base=hook_server, rtmp_port=media_ports["rtmp"], http_port=media_ports["http"],
                       record_interval="3s")
    try:
        stack.start()
        assert stack.camera_ids == [c.id for c in cameras]
        # Every demo camera goes live, published by its relay with a relay token.
        wait_for(lambda: _relayed() == len(cameras), 40, f"every demo camera to publish\n{stack.log_tail()}")

        # A camera's ffmpeg that dies is started again by the relay; the relay itself, by the stack.
        ffmpeg = next(pid for pid in _children(stack.relay.pid) if camera_ids["public"] == _camera_of(pid))
        os.kill(ffmpeg, signal.SIGKILL)
        wait_for(lambda: any(_camera_of(pid) == camera_ids["public"] for pid in _children(stack.relay.pid)
                           if pid != ffmpeg), 15, "the camera's ffmpeg to restart")
        # Even a relay killed outright (no cleanup of its own runs) takes its ffmpegs with it: the kernel's
        # parent-death signal, not orphans publishing on.
        dead = stack.relay
        orphans = [pid for pid in _children(dead.pid) if _camera_of(pid) is not None]
        assert len(orphans) == len(cameras)
        dead.kill()
        dead.wait(timeout=20)
        wait_for(lambda: not any(map(_alive, orphans)), 15, "the killed relay's ffmpegs to stop")
        wait_for(lambda: stack.check() and stack.relay is not dead, 15, "the relay's restart")
        wait_for(lambda: sorted(filter(None, map(_camera_of, _children(stack.relay.pid)))) == stack.camera_ids, 40,
               "the restarted relay's ffmpegs")

        # Staff watch any camera at any time; the second demo school's parents inside its all-day live window;
        # from the restarted relay.
        _playable(client, as_user, "demo-staff-1", camera_ids["private"], stack)
        _playable(client, as_user, "demo-parent-2", camera_ids["other"], stack)

        # The media server records into LIVE_RECORD_DIR; on_record_done indexes the file, the ingest job stores it.
        segment = wait_for(lambda: db.session.scalars(sa.select(RecordingSegment).where(
            RecordingSegment.status == SegmentStatus.PENDING.value)).first(), 30, "a finished recording")
        assert os.path.dirname(segment.source_path) == app.config["LIVE_RECORD_DIR"]
        from workers.jobs.platform import ingest_recordings

        report = ingest_recordings(utcnow())
        assert report["stored"] >= 1, report
        db.session.rollback()
        assert db.session.get(RecordingSegment, segment.id).status == SegmentStatus.STORED.value
    finally:
        stack.stop()
    assert stack.nginx is not None and stack.nginx.poll() is not None
    assert stack.relay is not None and stack.relay.poll() is not None
