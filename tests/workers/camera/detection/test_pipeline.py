"""analyse_sample: quality -> motion gate -> detectors, with timings and persisted state."""

from __future__ import annotations

import json

import numpy as np

from tests.workers.camera.detection.detection_testdata import vtest_frame
from workers.camera.detection import (
    CameraState,
    Detection,
    Detector,
    HogPeopleDetector,
    MotionConfig,
    PipelineConfig,
    QualityProblem,
    QualityThresholds,
    analyse_sample,
)


class CountingDetector:
    """Stub detector that records how often it ran."""

    def __init__(self) -> None:
        self.calls = 0
        self.last_timings = {"inference_ms": 1.0}

    @property
    def name(self) -> str:
        return "stub"

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        self.calls += 1
        return [Detection("phone", 0.9, (1.0, 2.0, 3.0, 4.0), self.name)]


class OtherDetector(CountingDetector):
    """A second stub, under another name."""

    @property
    def name(self) -> str:
        return "other"


# The still-scene samples below repeat one frame; a real camera adds noise, here
# the frozen check must be told to wait longer so the motion gate is what decides.
CONFIG = PipelineConfig(
    quality=QualityThresholds(frozen_after=50), motion=MotionConfig(keepalive_seconds=120)
)


def test_stub_satisfies_detector_protocol() -> None:
    assert isinstance(CountingDetector(), Detector)
    assert isinstance(HogPeopleDetector(), Detector)


def test_gate_skips_still_frames_and_runs_on_motion_and_keepalive() -> None:
    state = CameraState.new(CONFIG)
    detector = CountingDetector()
    frame = vtest_frame(0)

    first = analyse_sample(frame, state, CONFIG, [detector], now=0.0)
    assert first.ran_models and first.skip_reason is None
    assert [d.label for d in first.detections] == ["phone"]
    assert set(first.timings_ms) == {"quality", "motion", "model:stub", "total"}
    assert first.model_timings_ms == {"stub": {"inference_ms": 1.0}}

    still = analyse_sample(frame.copy(), state, CONFIG, [detector], now=30.0)
    assert not still.ran_models and still.skip_reason == "no_motion"
    assert still.detections == [] and "model:stub" not in still.timings_ms
    assert detector.calls == 1

    moving = analyse_sample(vtest_frame(5), state, CONFIG, [detector], now=60.0)
    assert moving.ran_models and not moving.keepalive
    assert detector.calls == 2

    analyse_sample(vtest_frame(5), state, CONFIG, [detector], now=90.0)
    assert detector.calls == 2
    # Keep-alive time, but the picture is the one the same detector last ran on: no model, same answer.
    same = analyse_sample(vtest_frame(5), state, CONFIG, [detector], now=180.0)
    assert not same.ran_models and same.skip_reason == "no_motion" and detector.calls == 2
    # Another detector is wanted now (closing time): it runs on that picture.
    other = OtherDetector()
    switched = analyse_sample(vtest_frame(5), state, CONFIG, [other], now=185.0)
    assert switched.ran_models and switched.keepalive and other.calls == 1
    # The light drifted since (no change between two samples counts as motion, the sum of them does).
    drifted = np.clip(vtest_frame(5).astype(np.int16) + 14, 0, 255).astype(np.uint8)
    analyse_sample(drifted, state, CONFIG, [other], now=190.0)
    assert other.calls == 1
    drifted = np.clip(vtest_frame(5).astype(np.int16) + 28, 0, 255).astype(np.uint8)
    keepalive = analyse_sample(drifted, state, CONFIG, [other], now=320.0)
    assert keepalive.ran_models and keepalive.keepalive
    assert other.calls == 2


def test_unusable_pictures_skip_the_models() -> None:
    config = PipelineConfig()
    state = CameraState.new(config)
    detector = CountingDetector()
    offline = analyse_sample(None, state, config, [detector], now=0.0)
    assert offline.quality.problems == {QualityProblem.OFFLINE}
    assert offline.skip_reason == "quality:offline" and offline.motion is None

    frame = vtest_frame(3)
    results = [analyse_sample(frame, state, config, [detector], now=float(t)) for t in range(1, 4)]
    assert results[-1].skip_reason == "quality:frozen"
    assert detector.calls == 1  # only the first sample (no reference yet) ran


def test_a_sample_that_wants_no_detector_is_not_a_model_run() -> None:
    # During work hours the worker plans no face or people detector: the sample is diagnosed and gated, and the
    # first sample that wants a detector again (the kitchen closed) runs it at once, not at the next keep-alive.
    state = CameraState.new(CONFIG)
    detector = CountingDetector()
    frame = vtest_frame(0)
    working = analyse_sample(frame, state, CONFIG, [], now=0.0)
    assert not working.ran_models and working.skip_reason == "no_detectors" and working.detections == []
    assert state.motion.state.last_model_run_at is None
    closed = analyse_sample(frame.copy(), state, CONFIG, [detector], now=30.0)
    assert closed.ran_models and closed.keepalive and detector.calls == 1


def test_without_gate_every_usable_sample_runs() -> None:
    config = PipelineConfig(use_motion_gate=False)
    state = CameraState.new(config)
    detector = CountingDetector()
    for t, index in enumerate((0, 0)):
        analyse_sample(vtest_frame(index), state, config, [detector], now=float(t))
    assert detector.calls == 2


def test_camera_state_survives_json_between_samples() -> None:
    state = CameraState.new(CONFIG)
    detector = CountingDetector()
    analyse_sample(vtest_frame(0), state, CONFIG, [detector], now=0.0)
    restored = CameraState.from_dict(json.loads(json.dumps(state.to_dict())), CONFIG)
    assert restored.motion.config.keepalive_seconds == 120
    result = analyse_sample(vtest_frame(0), restored, CONFIG, [detector], now=10.0)
    assert result.skip_reason == "no_motion"
    assert json.loads(json.dumps(result.to_dict()))["skip_reason"] == "no_motion"
