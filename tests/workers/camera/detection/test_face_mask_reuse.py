"""The mask check keeps each face's verdict in the camera's state while the face barely moves (bounded time).

Real CenterFace and the real classifier on a real face (scikit-image's astronaut); the classifier's calls are
counted per face crop.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import astronaut_bgr
from tests.workers.camera.detection.test_face_mask import cover_lower_face, mask_classifier
from workers.camera.detection import CameraState, PipelineConfig, QualityThresholds, analyse_sample
from workers.camera.detection.two_stage import CropClassifier, VerdictMemory, VerdictReuse

STEP = 5.0  # seconds between samples, as the workers sample
T0 = 1_750_000_000.0


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> tuple[CropClassifier, list[int]]:
    """The bundled mask check with its classifier's face crops counted (one entry per classifier call)."""
    classifier = mask_classifier()
    calls: list[int] = []
    original = classifier.classify

    def classify(tensor: np.ndarray) -> np.ndarray:
        if len(tensor):
            calls.append(len(tensor))
        return original(tensor)

    monkeypatch.setattr(classifier, "classify", classify)
    return classifier, calls


def config(max_age: float = 10.0) -> PipelineConfig:
    # The gate off: every sample runs the models even when the picture is still (the face is what is tested).
    return PipelineConfig(use_motion_gate=False, verdicts=VerdictReuse(max_age_seconds=max_age))


def live(frame: np.ndarray, index: int) -> np.ndarray:
    """``frame`` with a camera's sensor noise (seeded per sample), so that the stream does not look frozen."""
    noise = np.random.default_rng(index).integers(-4, 5, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def mask_labels(result) -> list[str]:
    return [d.label for d in result.detections if d.source.startswith("face_mask@")]


def test_a_still_face_is_classified_once_per_window(counted) -> None:
    classifier, calls = counted
    state = CameraState.new()
    frame = astronaut_bgr()
    labels = []
    for index in range(7):  # 0, 5, ..., 30 s
        result = analyse_sample(live(frame, index), state, config(), [classifier], now=T0 + index * STEP)
        labels.append(mask_labels(result))
    # Classified at 0 s, reused at 5 and 10 s (10 s old: still within the bound), again at 15 s, 30 s.
    assert calls == [1, 1, 1]
    assert labels == [["no_mask"]] * 7


def test_the_verdicts_survive_the_state_round_trip(counted) -> None:
    classifier, calls = counted
    state = CameraState.new()
    analyse_sample(astronaut_bgr(), state, config(), [classifier], now=T0)
    stored = json.loads(json.dumps(state.to_dict()))
    again = CameraState.from_dict(stored)
    assert len(again.verdicts.verdicts) == 1
    result = analyse_sample(live(astronaut_bgr(), 1), again, config(), [classifier], now=T0 + STEP)
    assert calls == [1] and mask_labels(result) == ["no_mask"]


def test_a_moving_face_is_classified_every_sample(counted) -> None:
    classifier, calls = counted
    state = CameraState.new()
    frame = astronaut_bgr()
    for index in range(4):
        # 40 px further right each sample: the 92 px face box overlaps its last one by IoU ~0.4.
        moved = live(np.roll(frame, 40 * index, axis=1), index)
        result = analyse_sample(moved, state, config(), [classifier], now=T0 + index * STEP)
        assert mask_labels(result) == ["no_mask"]
    assert calls == [1, 1, 1, 1]


def test_without_reuse_every_sample_is_classified(counted) -> None:
    classifier, calls = counted
    state = CameraState.new()
    for index in range(3):
        analyse_sample(live(astronaut_bgr(), index), state, config(max_age=0.0), [classifier],
                       now=T0 + index * STEP)
    assert calls == [1, 1, 1]


def test_a_changed_verdict_is_seen_within_the_bound(counted) -> None:
    classifier, calls = counted
    state = CameraState.new()
    bare = astronaut_bgr()
    covered = bare.copy()
    x1, y1, x2, y2 = 179, 57, 271, 177
    covered[y1:y2, x1:x2] = cover_lower_face(covered[y1:y2, x1:x2])
    first = analyse_sample(bare, state, config(), [classifier], now=T0)
    assert mask_labels(first) == ["no_mask"]
    seen_at = None
    for index in range(1, 6):
        now = T0 + index * STEP
        result = analyse_sample(live(covered, index), state, config(), [classifier], now=now)
        if mask_labels(result) == ["mask"]:
            seen_at = now
            break
    # The cover went on at T0 + 5 s; the last classification was at T0, so the change shows at the first sample
    # more than 10 s after it: T0 + 15 s.
    assert seen_at is not None and seen_at - T0 <= 10.0 + STEP
    assert calls == [1, 1]  # the samples between reused the old verdict


def test_one_verdict_serves_one_face_only() -> None:
    memory = VerdictMemory.from_list([{"box": [0, 0, 100, 100], "p": [0.1, 0.9], "at": 0.0}])
    rule = VerdictReuse(min_iou=0.7, max_age_seconds=10.0)
    taken: set[int] = set()
    assert memory.reusable((2, 2, 100, 100), 5.0, rule, taken) == 0
    taken.add(0)
    assert memory.reusable((0, 0, 100, 100), 5.0, rule, taken) is None
    assert memory.reusable((0, 0, 100, 100), 10.5, rule, set()) is None  # too old
    assert memory.reusable((0, 0, 100, 100), -1.0, rule, set()) is None  # clock went back: no reuse
    assert memory.reusable((40, 0, 140, 100), 5.0, rule, set()) is None  # moved: IoU 0.43


def test_a_still_face_beside_motion_is_carried_then_detected_and_classified_again(counted) -> None:
    # The motion gate and the crops on: a block moves in a corner every sample, the face stands still.
    classifier, calls = counted
    crops: list[list] = []
    first_stage = classifier.first.detect_regions

    def detect_regions(frame: np.ndarray, regions: list) -> list:
        crops.append(list(regions))
        return first_stage(frame, regions)

    classifier.first.detect_regions = detect_regions  # type: ignore[method-assign]
    gated = PipelineConfig(quality=QualityThresholds(frozen_after=50), verdicts=VerdictReuse(max_age_seconds=10.0))
    state = CameraState.new(gated)
    face = (179, 57, 271, 177)
    results = []
    for index in range(5):  # 0, 5, ..., 20 s
        frame = live(astronaut_bgr(), index)
        frame[400 - 20 * index : 460 - 20 * index, 420:480] = (250, 250, 250)
        results.append(analyse_sample(frame, state, gated, [classifier], now=T0 + index * STEP))
    assert [mask_labels(r) for r in results] == [["no_mask"]] * 5
    # Whole frame first; at 5 and 10 s the crops are the block's only and the face is carried; at 15 s (older
    # than 10 s) it is looked at again and classified again; at 20 s carried again.
    assert results[0].regions is None and [r.carried for r in results[1:]] == [2, 2, 0, 2]
    reaches = [any(r[0] < face[2] and face[0] < r[2] and r[1] < face[3] and face[1] < r[3] for r in c) for c in crops]
    assert reaches == [False, False, True, False]
    assert calls == [1, 1]
