"""Samples of a real video through capture, engine, rules and the violations service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.workers.conftest import NO_MASK_BOX, make_camera, set_tuning, yolov8_card_dir

BASE_SLOT = 350_000_000  # 2025-06-19 in 5-second slots
FULL = [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]
CORNER = [[[0.0, 0.0], [0.2, 0.0], [0.2, 0.2], [0.0, 0.2]]]  # the no_mask box is not in here


def _violations() -> list[Any]:
    from backend.extensions import db
    from backend.violations.models import Violation

    return list(db.session.scalars(select(Violation).order_by(Violation.id)))


def _set_roi(camera_id: int, roi: list[Any]) -> None:
    from backend.extensions import db
    from backend.schools.models import Camera

    db.session.get(Camera, camera_id).regions_of_interest = roi
    db.session.commit()


@pytest.fixture
def ppe_app(worker_app: Any, tmp_path: Path) -> Any:
    worker_app.config["MODEL_CARDS_DIR"] = str(yolov8_card_dir(tmp_path / "models"))
    return worker_app


def test_persistence_and_cooldown_make_exactly_one_violation_per_event(ppe_app: Any) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from workers.camera.camera_runtime import get_runtime
    from workers.camera.detection_rules import iso
    from workers.jobs.detection import sample_camera

    camera_id = make_camera(checks=["no_mask"], roi=FULL)
    # The motion gate watches the whole picture whatever the region of interest (real walkers move in it).
    set_tuning(camera_id, {"rules": {"no_mask": {"persistence": 3, "clear_after": 2, "cooldown_seconds": 3600}},
                           "motion": {"roi_polygons": FULL}})
    outcomes = []

    def run(slots: range, roi: list[Any]) -> None:
        _set_roi(camera_id, roi)
        outcomes.extend(sample_camera(camera_id, slot) for slot in slots)

    run(range(BASE_SLOT, BASE_SLOT + 2), FULL)  # seen twice: not yet persistent
    assert _violations() == []
    run(range(BASE_SLOT + 2, BASE_SLOT + 5), FULL)  # third sample completes the event; 4th, 5th continue it
    run(range(BASE_SLOT + 5, BASE_SLOT + 7), CORNER)  # outside the region of interest twice: event over
    run(range(BASE_SLOT + 7, BASE_SLOT + 11), FULL)  # a new event 35 s later: inside the cooldown
    assert outcomes == ["sampled", "sampled", "sampled:1", "sampled", "sampled", "sampled", "sampled",
                        "sampled", "sampled", "sampled", "sampled"]
    violations = _violations()
    assert len(violations) == 1
    first = violations[0]
    start = BASE_SLOT * 5
    assert first.idempotency_key == f"cam{camera_id}:no_mask:{iso(start)}"
    assert first.kind == "no_mask" and first.source == "ai" and first.camera_id == camera_id
    assert first.occurred_at.timestamp() == start
    assert first.confidence == pytest.approx(0.9, abs=1e-3)
    assert first.details["samples"] == 3
    [det] = first.details["detections"]
    assert det["label"] == "no_mask" and det["source"] == "kitchen-ppe@test-1"
    assert det["box"] == pytest.approx(list(NO_MASK_BOX), abs=1.5)
    store = get_runtime(ppe_app.config).store
    assert set(first.evidence) == {"annotated", "parent_safe", "frame"}
    for key in first.evidence.values():
        assert store.get(key)[:3] == b"\xff\xd8\xff"  # JPEG
    # The frame as captured (the training set's picture): nothing drawn on it, unlike the annotated copy.
    assert store.get(first.evidence["frame"]) != store.get(first.evidence["annotated"])
    monitor = db.session.get(CameraMonitor, camera_id)
    kind_state = monitor.rule_state["kinds"]["no_mask"]
    assert kind_state["suppressed"] == 1 and kind_state["event_start"] == (BASE_SLOT + 7) * 5

    # The suppressed event goes on; after it ends and the cooldown passed, the next event is a violation.
    run(range(BASE_SLOT + 11, BASE_SLOT + 13), CORNER)
    later = BASE_SLOT + 800  # 4000 s after the first violation
    run(range(later, later + 3), FULL)
    violations = _violations()
    assert [v.idempotency_key for v in violations] == [
        f"cam{camera_id}:no_mask:{iso(start)}", f"cam{camera_id}:no_mask:{iso(later * 5)}"]


def test_redoing_a_sample_changes_nothing(ppe_app: Any) -> None:
    from backend.extensions import db
    from backend.monitoring.models import CameraMonitor
    from backend.violations.models import Violation
    from workers.jobs.detection import sample_camera

    camera_id = make_camera(checks=["no_mask"])
    set_tuning(camera_id, {"rules": {"no_mask": {"persistence": 1}}})
    assert sample_camera(camera_id, BASE_SLOT) == "sampled:1"
    version = db.session.get(CameraMonitor, camera_id).version
    db.session.rollback()
    assert sample_camera(camera_id, BASE_SLOT) == "already_done"
    assert sample_camera(camera_id, BASE_SLOT - 1) == "already_done"
    assert db.session.get(CameraMonitor, camera_id).version == version
    assert db.session.scalar(select(func.count()).select_from(Violation)) == 1
