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
