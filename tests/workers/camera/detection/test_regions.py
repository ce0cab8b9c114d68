"""Crops around motion: the detectors look only where something moved (or was seen last time)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import (
    ASTRONAUT_FACE,
    VTEST_FRAME0_PEOPLE,
    astronaut_bgr,
    box_iou,
    vtest_frame,
)
from tests.workers.camera.detection.test_faces import PHOTOS, centred_in, photo
from workers.camera.detection import (
    CameraState,
    Detection,
    HogPeopleDetector,
    ModelRegistry,
    MotionConfig,
    PipelineConfig,
    QualityThresholds,
    analyse_sample,
)
from workers.camera.detection.people import FacesThenPeople
from workers.camera.detection.regions import (
    Rect,
    RegionConfig,
    RegionDetector,
    Sighting,
    grow,
    merge,
    motion_regions,
    plan_regions,
)

# Repeated frames must not count as frozen here: the motion gate and the crops are what is tested.
CONFIG = PipelineConfig(quality=QualityThresholds(frozen_after=50), motion=MotionConfig(keepalive_seconds=120))


class SpyDetector:
    """Records whole-frame and crop calls; answers ``answer`` (boxes in frame pixels) either way."""

    def __init__(self, answer: Sequence[Detection] = ()) -> None:
        self.answer = list(answer)
        self.whole: int = 0
        self.crops: list[list[Rect]] = []

    @property
    def name(self) -> str:
        return "spy"

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        self.whole += 1
        return list(self.answer)

    def detect_regions(self, frame_bgr: np.ndarray, regions: Sequence[Rect]) -> list[Detection]:
        self.crops.append(list(regions))
        return list(self.answer)


def scene(block_at: tuple[int, int] | None) -> np.ndarray:
    """A still kitchen picture (vtest frame 0) with a 40 x 80 px white block, the only thing that moves."""
    frame = vtest_frame(0)
    if block_at is not None:
        x, y = block_at
        frame[y : y + 80, x : x + 40] = (250, 250, 250)
    return frame


def lighter(frame: np.ndarray, delta: int) -> np.ndarray:
    """``frame`` with every pixel ``delta`` levels brighter (light drifting)."""
    return np.clip(frame.astype(np.int16) + delta, 0, 255).astype(np.uint8)


def covers(rects: Sequence[Rect], box: tuple[float, float, float, float]) -> bool:
    return any(r[0] <= box[0] and r[1] <= box[1] and r[2] >= box[2] and r[3] >= box[3] for r in rects)


def area(rects: Sequence[Rect]) -> int:
    return sum((r[2] - r[0]) * (r[3] - r[1]) for r in rects)


def test_only_the_part_that_moved_and_the_last_sighting_are_analysed() -> None:
    state = CameraState.new(CONFIG)
    seen = Detection("person", 0.9, (100.0, 100.0, 140.0, 180.0), "spy")
    spy = SpyDetector([seen])

    first = analyse_sample(scene((100, 100)), state, CONFIG, [spy], now=0.0)
    assert first.ran_models and first.regions is None and spy.whole == 1 and spy.crops == []
    assert state.sightings == [Sighting(seen, 0.0)]

    spy.answer = []
    moved = analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=5.0)
    assert moved.ran_models and spy.whole == 1  # no second whole-frame run
    [regions] = spy.crops
    assert regions == moved.regions
    # The block where it is now and where it was (both changed), and last sample's person, nothing more.
    assert covers(regions, (500, 400, 540, 480)) and covers(regions, seen.box)
    assert area(regions) < 0.15 * 768 * 576
    assert state.sightings == []  # nothing seen this time: next crops only where things move

    still = analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=10.0)
    assert not still.ran_models and still.skip_reason == "no_motion" and len(spy.crops) == 1 and spy.whole == 1

    again = analyse_sample(scene((300, 200)), state, CONFIG, [spy], now=15.0)
    assert len(spy.crops) == 2 and not covers(again.regions, seen.box)

    # Keep-alive (nothing moved from sample to sample for a while, but the light drifted since the models
    # last ran): the whole frame, so a person standing still is looked for.
    analyse_sample(lighter(scene((300, 200)), 14), state, CONFIG, [spy], now=100.0)
    assert spy.whole == 1
    keepalive = analyse_sample(lighter(scene((300, 200)), 28), state, CONFIG, [spy], now=200.0)
    assert keepalive.keepalive and keepalive.regions is None and spy.whole == 2

    # More lights switched on: everything changed, the whole frame is analysed.
    brighter = np.clip(lighter(scene((300, 200)), 28).astype(np.float32) * 1.5, 0, 255).astype(np.uint8)
    lights = analyse_sample(brighter, state, CONFIG, [spy], now=205.0)
    assert lights.motion.global_change and lights.regions is None and spy.whole == 3

    # The camera's memory, its sightings (detection and when it was found) included, survives JSON.
    spy.answer = [seen]
    analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=210.0)
    analyse_sample(lighter(scene((500, 400)), 14), state, CONFIG, [spy], now=215.0)  # no motion: not analysed
    restored = CameraState.from_dict(json.loads(json.dumps(state.to_dict())), CONFIG)
    assert restored.sightings == state.sightings == [Sighting(seen, 210.0)] and restored.analysed_by == ["spy"]
    assert np.array_equal(restored.motion.state.analysed_frame(), state.motion.state.analysed)
    assert not np.array_equal(restored.motion.state.analysed_frame(), restored.motion.state.previous)
    # Right after a model run the picture is stored once, and both frames come back.
    analyse_sample(lighter(scene((100, 100)), 14), state, CONFIG, [spy], now=220.0)
    stored = state.to_dict()["motion"]
    assert stored["analysed_same"] and stored["analysed_png"] is None
    restored = CameraState.from_dict(json.loads(json.dumps(state.to_dict())), CONFIG)
    assert np.array_equal(restored.motion.state.analysed_frame(), state.motion.state.previous)


def test_without_crops_or_without_crop_support_the_whole_frame_is_analysed() -> None:
    whole_only = dataclasses.replace(CONFIG, use_motion_regions=False)
    state = CameraState.new(whole_only)
    spy = SpyDetector()
    analyse_sample(scene((100, 100)), state, whole_only, [spy], now=0.0)
    result = analyse_sample(scene((500, 400)), state, whole_only, [spy], now=5.0)
    assert result.ran_models and result.regions is None and spy.whole == 2 and spy.crops == []

    class WholeFrameOnly:
        name = "whole"
        calls = 0

        def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
            WholeFrameOnly.calls += 1
            return []

    assert not isinstance(WholeFrameOnly(), RegionDetector)
    state = CameraState.new(CONFIG)
    analyse_sample(scene((100, 100)), state, CONFIG, [WholeFrameOnly()], now=0.0)
    result = analyse_sample(scene((500, 400)), state, CONFIG, [WholeFrameOnly()], now=5.0)
    assert result.regions is not None and WholeFrameOnly.calls == 2


def test_rectangles_grow_merge_and_give_way_to_the_whole_frame() -> None:
    assert grow((100, 100, 140, 180), 768, 576, 0.2, 16) == (84, 84, 156, 196)
    assert grow((0, 0, 10, 10), 768, 576, 0.2, 16) == (0, 0, 26, 26)
    assert merge([(0, 0, 10, 10), (5, 5, 20, 20), (100, 100, 110, 110)]) == [(0, 0, 20, 20), (100, 100, 110, 110)]
    # A chain: the merged box of the first two now overlaps the third.
    assert merge([(0, 0, 10, 10), (30, 0, 40, 10), (8, 0, 32, 5)]) == [(0, 0, 40, 10)]
    config = RegionConfig(margin=0.0, min_pad=0, max_share=0.5)
    assert motion_regions((576, 768), [], [(0, 0, 10, 10)], config) is None  # nothing moved
    assert motion_regions((576, 768), [(0, 0, 10, 10)], [(20, 20, 30, 30)], config) == [(0, 0, 10, 10),
                                                                                       (20, 20, 30, 30)]
    assert motion_regions((576, 768), [(0, 0, 768, 300)], [], config) is None  # crops would cost the frame


def test_overlapping_crops_merge_only_where_their_bounding_box_costs_no_more_than_the_two_apart() -> None:
    # Two arms of an L: the bounding box (100 x 100) is far larger than the two (2 x 1,000 px, overlapping).
    arm_a, arm_b = (0, 0, 100, 10), (0, 0, 10, 100)
    assert merge([arm_a, arm_b], slack=0) == [arm_b, arm_a]  # sorted
    assert merge([arm_a, arm_b], slack=8_000) == [(0, 0, 100, 100)]  # a call costs more than the corner
    # Nearly the same box, or one inside the other: one crop whatever the slack.
    assert merge([(0, 0, 100, 100), (5, 5, 105, 105)], slack=0) == [(0, 0, 105, 105)]
    assert merge([(0, 0, 100, 100), (20, 20, 40, 40)], slack=0) == [(0, 0, 100, 100)]
    # The crops of the worker: a slack of merge_slack of the frame.
    config = RegionConfig(margin=0.0, min_pad=0, merge_slack=0.0)
    assert motion_regions((576, 768), [(0, 0, 300, 30), (0, 0, 30, 300)], [], config) == [(0, 0, 30, 300),
                                                                                          (0, 0, 300, 30)]
    wide = RegionConfig(margin=0.0, min_pad=0, merge_slack=0.2)
    assert motion_regions((576, 768), [(0, 0, 300, 30), (0, 0, 30, 300)], [], wide) == [(0, 0, 300, 300)]


def test_a_face_in_the_overlap_of_two_crops_is_reported_once() -> None:
    detector = ModelRegistry.bundled().detector("centerface")
    frame = astronaut_bgr()
    [whole] = detector.detect(frame)
    x1, y1, x2, y2 = grow(ASTRONAUT_FACE, 512, 512, 0.3, 16)
    # An L of two crops that both hold the whole face.
    crops = [(x1, y1, 512, y2), (x1, y1, x2, 512)]
    assert merge(crops, slack=0) == sorted(crops)
    found = detector.detect_regions(frame, crops)
    assert len(found) == 1 and box_iou(found[0].box, whole.box) > 0.8


def test_centerface_on_a_crop_finds_the_face_it_finds_on_the_whole_frame() -> None:
    detector = ModelRegistry.bundled().detector("centerface")
    frame = astronaut_bgr()
    [whole] = detector.detect(frame)
    around = grow(ASTRONAUT_FACE, 512, 512, 0.2, 16)
    [cropped] = detector.detect_regions(frame, [around])
    assert detector.last_timings["crops"] == 1
    assert box_iou(cropped.box, whole.box) > 0.85 and box_iou(cropped.box, ASTRONAUT_FACE) > 0.6
    assert abs(cropped.confidence - whole.confidence) < 0.1
    assert cropped.keypoints and around[0] <= cropped.keypoints[0][0] <= around[2]  # landmarks in frame pixels
    # Crops of other sizes (stretched to different multiples of 32) find it too.
    for margin in (0.1, 0.35, 0.6, 1.0):
        [other] = detector.detect_regions(frame, [grow(ASTRONAUT_FACE, 512, 512, margin, 8)])
        assert box_iou(other.box, whole.box) > 0.8, (margin, other.box, whole.box)
    # A crop without the face finds none.
    assert detector.detect_regions(frame, [(300, 300, 500, 500)]) == []


def test_hog_on_crops_finds_the_walkers_it_finds_on_the_whole_frame() -> None:
    frame = vtest_frame(0)
    hog = HogPeopleDetector()
    whole = hog.detect(frame)
    crops = [grow(person, 768, 576, 0.2, 16) for person in VTEST_FRAME0_PEOPLE]
    cropped = hog.detect_regions(frame, merge(crops))
    assert hog.last_timings["crops"] == len(merge(crops))
    near = [p for p in whole if any(box_iou(p.box, gt) > 0.2 for gt in VTEST_FRAME0_PEOPLE)]
    assert near, [p.box for p in whole]
    for person in near:
        assert any(box_iou(person.box, c.box) > 0.6 for c in cropped), (person.box, [c.box for c in cropped])
    # A crop of the empty floor finds nobody, though it is smaller than HOG's window (it is grown first).
    assert hog.detect_regions(frame, [(10, 500, 40, 520)]) == []


def test_faces_first_spares_hog_where_a_confident_face_answered() -> None:
    face = Detection("face", 0.9, (110.0, 110.0, 130.0, 130.0), "faces")
    faces = SpyDetector([face])
    people = SpyDetector([Detection("person", 0.8, (400.0, 100.0, 440.0, 200.0), "hog")])
    both = FacesThenPeople(faces, people, face_confidence=0.6)  # type: ignore[arg-type]
    with_face, without = (100, 100, 200, 200), (380, 80, 460, 220)
    found = both.detect_regions(np.zeros((576, 768, 3), np.uint8), [with_face, without])
    assert faces.crops == [[with_face, without]] and people.crops == [[without]]
    assert [d.label for d in found] == ["face", "person"] and both.last_timings["people_crops"] == 1

    # The whole frame: a confident face anywhere spares HOG altogether; a doubtful one does not.
    assert both.detect(np.zeros((576, 768, 3), np.uint8)) == [face] and people.whole == 0
    faces.answer = [dataclasses.replace(face, confidence=0.4)]
    assert len(both.detect(np.zeros((576, 768, 3), np.uint8))) == 2 and people.whole == 1
    # No face at all: HOG on every crop.
    faces.answer = []
    both.detect_regions(np.zeros((576, 768, 3), np.uint8), [with_face, without])
    assert people.crops[-1] == [with_face, without]


@pytest.mark.parametrize("name", sorted(PHOTOS))
def test_centerface_on_crops_finds_every_face_of_real_photos_the_whole_frame_finds(name: str) -> None:
    detector = ModelRegistry.bundled().detector("centerface")
    image = photo(name)
    height, width = image.shape[:2]
    truths = PHOTOS[name][1]
    whole = [t for t in truths if any(centred_in(d.box, t) for d in detector.detect(image))]
    assert whole, name
    crops = merge(grow(t, width, height, 0.2, 16) for t in truths)
    found = detector.detect_regions(image, crops)
    for truth in whole:
        assert any(centred_in(d.box, truth) for d in found), (name, truth, [d.box for d in found])


def test_a_detection_where_nothing_moved_is_carried_for_a_while_then_looked_for_again() -> None:
    state = CameraState.new(CONFIG)
    cook = Detection("person", 0.9, (100.0, 100.0, 140.0, 180.0), "spy")
    spy = SpyDetector([cook])
    analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=0.0)  # first sample: whole frame, cook found
    assert state.sightings[0].at == 0.0

    # Something moves far from the cook: only the mover is looked at, the cook is carried with his box.
    spy.answer = []
    moved = analyse_sample(scene((600, 300)), state, CONFIG, [spy], now=5.0)
    assert not covers(moved.regions, cook.box)
    assert moved.carried == 1 and moved.detections == [cook]
    assert state.sightings == [Sighting(cook, 0.0)]  # still the time he was found
    # Within RegionConfig.still_seconds (10 s) again, then looked for again: gone, so no longer carried.
    assert analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=10.0).carried == 1
    late = analyse_sample(scene((600, 300)), state, CONFIG, [spy], now=15.0)
    assert late.carried == 0 and covers(late.regions, cook.box) and late.detections == [] and state.sightings == []

    # A mover next to him (the crops reach his box): looked at, not carried.
    spy.answer = [cook]
    analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=20.0)
    near = analyse_sample(scene((150, 120)), state, CONFIG, [spy], now=25.0)
    assert near.carried == 0 and covers(near.regions, cook.box) and state.sightings[0].at == 25.0

    # Sightings survive the state's JSON.
    restored = CameraState.from_dict(json.loads(json.dumps(state.to_dict())), CONFIG)
    assert restored.sightings == state.sightings

    # Other detectors (closing time) carry nothing: the cook far from the mover is looked for again.
    state = CameraState.new(CONFIG)
    analyse_sample(scene((500, 400)), state, CONFIG, [SpyDetector([cook])], now=0.0)
    other = type("Other", (SpyDetector,), {"name": property(lambda self: "other")})([])
    switched = analyse_sample(scene((600, 300)), state, CONFIG, [other], now=5.0)
    assert switched.carried == 0 and covers(switched.regions, cook.box) and switched.detections == []
    assert state.analysed_by == ["other"] and state.sightings == []


def test_carrying_needs_detectors_that_look_at_the_crops_only() -> None:
    class WholeFrameFallback(SpyDetector):
        crops_supported = False  # as a YOLO card's OnnxDetector: detect_regions analyses the whole frame

    state = CameraState.new(CONFIG)
    cook = Detection("person", 0.9, (100.0, 100.0, 140.0, 180.0), "spy")
    fallback = WholeFrameFallback([cook])
    analyse_sample(scene((500, 400)), state, CONFIG, [fallback], now=0.0)
    fallback.answer = []
    result = analyse_sample(scene((600, 300)), state, CONFIG, [fallback], now=5.0)
    assert result.carried == 0 and result.detections == []
    # A carried detection the detectors found again anyway is not counted twice.
    again = SpyDetector([cook])
    state = CameraState.new(CONFIG)
    analyse_sample(scene((500, 400)), state, CONFIG, [again], now=0.0)
    twice = analyse_sample(scene((600, 300)), state, CONFIG, [again], now=5.0)
    assert twice.detections == [cook] and twice.carried == 0


def test_an_older_state_s_tracked_boxes_are_looked_at_not_carried() -> None:
    state = CameraState.new(CONFIG)
    spy = SpyDetector([])
    analyse_sample(scene((500, 400)), state, CONFIG, [spy], now=0.0)
    stored = state.to_dict()
    del stored["sightings"]
    stored["tracked"] = [[100.0, 100.0, 140.0, 180.0]]
    old = CameraState.from_dict(json.loads(json.dumps(stored)), CONFIG)
    assert old.sightings == [Sighting(Detection("", 0.0, (100.0, 100.0, 140.0, 180.0), ""), None)]
    result = analyse_sample(scene((600, 300)), old, CONFIG, [spy], now=5.0)
    assert result.carried == 0 and covers(result.regions, (100.0, 100.0, 140.0, 180.0))


def test_plan_regions_carries_what_no_crop_reaches() -> None:
    config = RegionConfig(margin=0.0, min_pad=0, max_share=0.5, still_seconds=10.0)
    far = Sighting(Detection("face", 0.9, (300.0, 300.0, 320.0, 320.0), "f"), at=0.0)
    old = Sighting(Detection("face", 0.9, (500.0, 300.0, 520.0, 320.0), "f"), at=-11.0)
    rects, carried = plan_regions((576, 768), [(0, 0, 10, 10)], [far, old], now=0.0, config=config)
    assert carried == [far] and rects == [(0, 0, 10, 10), (500, 300, 520, 320)]
    # Neither mover reaches it, but their merged crop does: it is looked at instead.
    left_of, above = (280, 280, 299, 340), (290, 280, 360, 299)
    assert plan_regions((576, 768), [left_of], [far], now=0.0, config=config)[1] == [far]
    assert plan_regions((576, 768), [above], [far], now=0.0, config=config)[1] == [far]
    rects, carried = plan_regions((576, 768), [left_of, above], [far], now=0.0, config=config)
    assert carried == [] and rects == [(280, 280, 360, 340)]
    # Nothing moved, or crops as large as the frame: the whole frame, nothing carried.
    assert plan_regions((576, 768), [], [far], now=0.0, config=config) == (None, [])
    assert plan_regions((576, 768), [(0, 0, 768, 300)], [far], now=0.0, config=config) == (None, [])
