"""Fixtures of the worker tests: cameras in a migrated database, the worker runtime on the test app,
tiny ONNX models, and a local HTTP snapshot camera."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.fakes.http_camera import SnapshotCamera
from tests.workers.camera.detection.detection_testdata import constant_model, vtest_frame, vtest_path

VTEST_SIZE = (768, 576)
# A no_mask box in vtest's 768x576 pixels; the tiny model below reports exactly this box.
NO_MASK_BOX = (288.0, 192.0, 384.0, 288.0)


@pytest.fixture
def worker_app(app: Any, tmp_path: Path) -> Iterator[Any]:
    """The test app installed as the workers' app, with a fresh runtime and object store."""
    from workers.camera.camera_runtime import reset_runtime
    from workers.infra.executor import set_executor
    from workers.infra.worker_app import use_app

    app.config["STORAGE_BACKEND"] = "local"
    app.config["STORAGE_LOCAL_PATH"] = str(tmp_path / "store")
    use_app(app)
    reset_runtime()
    yield app
    set_executor(None)
    reset_runtime()
    use_app(None)


def make_camera(*, source_kind: str = "file", source_url: str | None = None, interval: int = 5,
                checks: list[str] | None = None, work_hours: list[dict[str, Any]] | None = None,
                roi: list[Any] | None = None, school_name: str = "测试小学", username: str | None = None,
                password: str | None = None) -> int:
    """A region, school, canteen, area and one camera; returns the camera id."""
    from sqlalchemy import select

    from backend.extensions import db
    from backend.schools.models import Camera, Canteen, KitchenArea, Region, School

    region = db.session.scalar(select(Region).where(Region.code == "330106"))
    if region is None:
        region = Region(code="330106", name="西湖区", level="county", path="/")
        db.session.add(region)
        db.session.flush()
    school = School(region_id=region.id, name=school_name, kind="primary")
    db.session.add(school)
    db.session.flush()
    canteen = Canteen(school_id=school.id, name="学生食堂", meal_windows=[], live_windows=[])
    db.session.add(canteen)
    db.session.flush()
    area = KitchenArea(canteen_id=canteen.id, name="热菜烹饪区", kind="hot_kitchen", public=True)
    db.session.add(area)
    db.session.flush()
    camera = Camera(area_id=area.id, name="热菜区摄像头", source_kind=source_kind,
                    source_url=source_url or str(vtest_path()), source_username=username,
                    source_password=password, sampling_interval_seconds=interval,
                    work_hours=work_hours or [], enabled_checks=checks or [], regions_of_interest=roi or [])
    db.session.add(camera)
    db.session.commit()
    return camera.id


def set_tuning(camera_id: int, tuning: dict[str, Any]) -> None:
    """Store installer tuning for a camera (creating its monitor row)."""
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from workers.camera.tuning import validate_tuning
    from workers.jobs.detection import ensure_monitors

    ensure_monitors([camera_id])
    db.session.get(CameraMonitor, camera_id).tuning = validate_tuning(tuning)
    db.session.commit()


def yolov8_card_dir(directory: Path, label: str = "no_mask", box: tuple[float, ...] = NO_MASK_BOX,
                    score: float = 0.9) -> Path:
    """A tiny YOLOv8-format ONNX model (constant head) that reports ``label`` at ``box`` in a vtest frame."""
    directory.mkdir(parents=True, exist_ok=True)
    # vtest 768x576 letterboxed into 320x320: scale 5/12, picture 320x240, 40 px bars top and bottom.
    scale, pad_y = 320 / 768, 40.0
    x1, y1, x2, y2 = (v * scale for v in box)
    y1, y2 = y1 + pad_y, y2 + pad_y
    head = np.zeros((1, 6, 16), dtype=np.float32)  # [1, 4 + 2 classes, 16 candidates]
    head[0, :, 0] = [(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, score, 0.0]
    model = constant_model({"output0": head}, [1, 3, 320, 320])
    (directory / "ppe.onnx").write_bytes(model)
    card = {"name": "kitchen-ppe", "version": "test-1", "format": "yolov8", "file": "ppe.onnx",
            "input": {"width": 320, "height": 320}, "classes": {"0": label, "1": "no_hat"},
            "thresholds": {"confidence": 0.25, "iou": 0.45}}
    (directory / "ppe.json").write_text(json.dumps(card), encoding="utf-8")
    return directory


def jpeg(frame: np.ndarray) -> bytes:
    """JPEG bytes of a BGR frame."""
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


class SnapshotServer(SnapshotCamera):
    """The snapshot camera of tests/fakes/http_camera.py, showing a vtest frame until a test changes ``body``."""

    def __init__(self, user: str | None = None, password: str | None = None, auth: str = "basic") -> None:
        super().__init__(user, password, auth, body=jpeg(vtest_frame(0)))


@pytest.fixture
def snapshot_server() -> Iterator[SnapshotServer]:
    """A running snapshot server on an ephemeral loopback port."""
    with SnapshotServer() as server:
        yield server
