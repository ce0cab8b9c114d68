"""Capture from a real video file and from a local HTTP snapshot server; camera health changes recorded
once per change; camera problems raising their violations."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy import select

from backend.source_urls import with_credentials
from tests.workers.camera.detection.detection_testdata import vtest_frame, vtest_path
from tests.workers.conftest import SnapshotServer, jpeg, make_camera, set_tuning
from workers.camera.capture import CaptureCache, CaptureError, FileSource, SnapshotSource, SourceSpec


def test_file_source_plays_the_video_in_a_loop_on_the_clock() -> None:
    source = FileSource(str(vtest_path()))
    assert (source.fps, source.frame_count) == (10.0, 795)
    for at, index in [(0.0, 0), (0.25, 2), (3.0, 30), (79.5, 0), (80.0, 5), (100.0, 205)]:
        assert source.frame_index(at) == index
    expected = cv2.VideoCapture(str(vtest_path()))
    reference = [expected.read()[1] for _ in range(31)]
    expected.release()
    assert np.array_equal(source.read(0.0), reference[0])
    assert np.array_equal(source.read(0.25), reference[2])  # short step: decoded forward
    assert np.array_equal(source.read(3.0), reference[30])
    assert np.array_equal(source.read(79.6), reference[1])  # wrapped round, seeks back
    source.close()
    with pytest.raises(CaptureError, match="not found"):
        FileSource("/nonexistent/video.avi")


def test_snapshot_source_reads_jpeg_with_basic_auth_and_refuses_bad_answers() -> None:
    with SnapshotServer(user="admin", password="p@ss:word") as server:
        frame = vtest_frame(3)
        server.body = jpeg(frame)
        good = SnapshotSource(SourceSpec("http_snapshot", server.url, "admin", "p@ss:word", 2.0))
        got = good.read(0.0)
        assert got.shape == (576, 768, 3)
        assert float(np.mean(cv2.absdiff(got, frame))) < 3.0  # the same picture through JPEG
        with pytest.raises(CaptureError, match="HTTP 401"):
            SnapshotSource(SourceSpec("http_snapshot", server.url, "admin", "wrong", 2.0)).read(0.0)
        server.body = b"<html>login</html>"
        with pytest.raises(CaptureError, match="not a picture"):
            good.read(0.0)
        server.body = jpeg(frame)
        server.delay = 1.5
        spec = SourceSpec("http_snapshot", server.url, "admin", "p@ss:word", 0.5)
        with pytest.raises(CaptureError, match="ReadTimeout"):
            SnapshotSource(spec).read(0.0)
        server.delay = 0.0
        # The per-worker cache reconnects after a failure and gives up after its tries, never raising.
        cache = CaptureCache(tries=2, retry_delay=0.0)
        assert cache.read(spec, 0.0).frame is not None
        server.status = 503
        failed = cache.read(spec, 0.0)
        assert failed.frame is None and failed.tries == 2 and "HTTP 503" in failed.error
        server.status = 200
        assert cache.read(spec, 0.0).tries == 1
        cache.close()
    assert SourceSpec("rtsp", "rtsp://u:secret@10.0.0.2:554/s1").redacted() == "rtsp://10.0.0.2:554/s1"
    assert with_credentials("rtsp://10.0.0.2/s", "ad min", "p@ss") == "rtsp://ad%20min:p%40ss@10.0.0.2/s"
    # The workers used to write file://u:p@/... for a file source with a user set.
    assert with_credentials("file:///data/demo.avi", "u", "p") == "file:///data/demo.avi"


def _blurred(frame: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), 6)


def test_health_changes_once_per_change_and_a_blurred_camera_raises_one_violation(
        worker_app: Any, snapshot_server: SnapshotServer) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraHealthEvent, CameraMonitor
    from backend.violations.models import Violation
    from workers.jobs.detection import sample_camera

    camera_id = make_camera(source_kind="http_snapshot", source_url=snapshot_server.url,
                            checks=["camera_blurred", "camera_offline"])
    set_tuning(camera_id, {"rules": {"camera_blurred": {"persistence": 3}, "camera_offline": {"persistence": 3}}})
    # Offline takes six lost samples in a row (slow to degrade, workers/camera/camera_health.py).
    plan = (["good"] * 3 + ["blurred"] * 5 + ["good"] * 3 + ["offline"] * 6)
    slot = 350_000_000
    for index, kind in enumerate(plan):
        frame = vtest_frame(index * 2)  # a live camera: every sample differs
        snapshot_server.status = 503 if kind == "offline" else 200
        snapshot_server.body = jpeg(_blurred(frame) if kind == "blurred" else frame)
        assert sample_camera(camera_id, slot + index).startswith("sampled")
    events = db.session.scalars(select(CameraHealthEvent).order_by(CameraHealthEvent.id)).all()
    assert [(e.from_status, e.to_status, (e.at.timestamp() - slot * 5) / 5) for e in events] == [
        ("unknown", "ok", 0), ("ok", "blurred", 4), ("blurred", "ok", 9), ("ok", "offline", 16)]
    assert events[1].problems == ["blurred"] and events[1].metrics["sharpness"] < events[1].metrics[
        "baseline_sharpness"] * 0.35
    monitor = db.session.get(CameraMonitor, camera_id)
    assert monitor.health_status == "offline" and monitor.health_since == events[-1].at
    assert monitor.last_result["capture_error"].endswith("HTTP 503")
    violations = db.session.scalars(select(Violation).order_by(Violation.id)).all()
    assert [(v.kind, (v.occurred_at.timestamp() - slot * 5) / 5) for v in violations] == [
        ("camera_blurred", 3), ("camera_offline", 11)]
    assert "摄像头画面模糊" in violations[0].title and "画面模糊" in violations[0].description
    assert set(violations[0].evidence) == {"annotated", "parent_safe", "frame"}
    assert violations[1].evidence == {}  # no picture from an offline camera


def test_dispatch_claims_each_slot_once_and_reclaims_a_stale_one(worker_app: Any) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from workers.jobs.detection import claim_due_samples

    fast = make_camera(interval=5)
    slow = make_camera(interval=60, school_name="第二小学")
    t = 1_750_000_002.0
    assert claim_due_samples(t) == [(fast, 350_000_000), (slow, 29_166_666)]
    assert claim_due_samples(t + 1) == []  # same slots: already claimed
    assert claim_due_samples(t + 5) == []  # next slot of `fast`, but its sample is still running
    monitor = db.session.get(CameraMonitor, fast)
    monitor.last_done_slot = 350_000_000
    db.session.commit()
    assert claim_due_samples(t + 5) == [(fast, 350_000_001)]
    # A claimed sample that never finished is given up after max(60 s, 3 intervals).
    assert claim_due_samples(t + 66) == [(fast, 350_000_013)]
    assert claim_due_samples(t + 181) == [(fast, 350_000_036), (slow, 29_166_669)]
