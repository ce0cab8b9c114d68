"""Motion gate on real pedestrian frames."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import VTEST_FRAME0_PEOPLE, vtest_frame
from workers.camera.detection.motion import MotionConfig, MotionGate, MotionState, build_mask, should_run_model
from workers.camera.detection.quality import GreyViews


def test_static_scene_has_no_motion_and_gate_skips() -> None:
    gate = MotionGate(MotionConfig(keepalive_seconds=300))
    frame = vtest_frame(0)
    first = gate.observe(frame, now=0.0)
    assert first.first_sample and first.has_motion
    assert gate.should_run_model(0.0)
    gate.mark_model_run(0.0)

    for t in (10.0, 20.0, 30.0):
        result = gate.observe(frame.copy(), now=t)
        assert result.motion_fraction == 0.0 and not result.has_motion
        assert result.boxes == []
        assert not gate.should_run_model(t)


def test_walking_people_are_motion_with_boxes_on_them() -> None:
    gate = MotionGate()
    gate.observe(vtest_frame(0), now=0.0)
    gate.mark_model_run(0.0)
    result = gate.observe(vtest_frame(5), now=1.0)
    assert result.has_motion and not result.global_change
    assert result.motion_fraction > 0.01
    assert gate.should_run_model(1.0)
    # Every walker of frame 0 lies under some moving blob.
    for x1, y1, x2, y2 in VTEST_FRAME0_PEOPLE:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        assert any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in result.boxes), (cx, cy, result.boxes)


def test_keepalive_forces_a_run_after_the_interval() -> None:
    gate = MotionGate(MotionConfig(keepalive_seconds=60))
    frame = vtest_frame(0)
    gate.observe(frame, now=0.0)
    gate.mark_model_run(0.0)
    gate.observe(frame, now=59.0)
    assert not gate.should_run_model(59.0)
    gate.observe(frame, now=60.0)
    assert gate.should_run_model(60.0)
    gate.mark_model_run(60.0)
    gate.observe(frame, now=61.0)
    assert not gate.should_run_model(61.0)


def test_ignore_mask_hides_motion_inside_it() -> None:
    everything_moving = ((0.25, 0.2), (0.95, 0.2), (0.95, 0.65), (0.25, 0.65))
    masked = MotionGate(MotionConfig(ignore_polygons=(everything_moving,)))
    masked.observe(vtest_frame(0), 0.0)
    result = masked.observe(vtest_frame(5), 1.0)
    assert result.motion_fraction == 0.0 and not result.has_motion

    # An ROI away from the walkers (the lawn at the bottom) sees nothing either...
    lawn = ((0.0, 0.75), (1.0, 0.75), (1.0, 1.0), (0.0, 1.0))
    roi_gate = MotionGate(MotionConfig(roi_polygons=(lawn,)))
    roi_gate.observe(vtest_frame(0), 0.0)
    assert not roi_gate.observe(vtest_frame(5), 1.0).has_motion
    # ...while an ROI over the road does.
    road = ((0.25, 0.2), (0.95, 0.2), (0.95, 0.65), (0.25, 0.65))
    road_gate = MotionGate(MotionConfig(roi_polygons=(road,)))
    road_gate.observe(vtest_frame(0), 0.0)
    assert road_gate.observe(vtest_frame(5), 1.0).has_motion


def test_mask_geometry() -> None:
    cfg = MotionConfig(ignore_polygons=(((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)),))
    mask = build_mask(cfg, 160, 120)
    assert mask is not None
    assert mask[60, 10] == 0 and mask[60, 150] == 255
    assert build_mask(MotionConfig(), 160, 120) is None


def test_small_moving_blob_is_reported_for_rodent_heuristics() -> None:
    # Empty scene, then a 10x6 px dark "mouse" appears on the lawn.
    gate = MotionGate()
    still = vtest_frame(0)
    gate.observe(still, 0.0)
    mouse = still.copy()
    cv2.rectangle(mouse, (100, 500), (124, 512), (10, 10, 10), -1)
    result = gate.observe(mouse, 1.0)
    assert len(result.small_blobs) == 1
    x1, y1, x2, y2 = result.small_blobs[0]
    assert x1 <= 112 <= x2 and y1 <= 506 <= y2
    assert (x2 - x1) < 60 and (y2 - y1) < 60


def test_state_round_trip_keeps_reference_frame() -> None:
    gate = MotionGate(MotionConfig(keepalive_seconds=100))
    gate.observe(vtest_frame(0), 0.0)
    gate.mark_model_run(0.0)
    saved = json.loads(json.dumps(gate.to_state()))

    resumed = MotionGate.from_state(saved, MotionConfig(keepalive_seconds=100))
    assert resumed.state.previous is not None
    assert np.array_equal(resumed.state.previous, gate.state.previous)
    assert not resumed.observe(vtest_frame(0), 10.0).has_motion
    assert resumed.observe(vtest_frame(5), 20.0).has_motion

    without_frame = MotionGate.from_state(json.loads(json.dumps(gate.to_state(include_frame=False))))
    assert without_frame.state.previous is None
    assert without_frame.observe(vtest_frame(0), 10.0).first_sample


def test_should_run_model_function_on_plain_state() -> None:
    cfg = MotionConfig(keepalive_seconds=30)
    assert should_run_model(MotionState(), 0.0, cfg)  # never ran
    assert not should_run_model(MotionState(last_model_run_at=0.0), 10.0, cfg)
    assert should_run_model(MotionState(last_model_run_at=0.0, last_motion_fraction=0.5), 10.0, cfg)
    assert should_run_model(MotionState(last_model_run_at=0.0), 30.0, cfg)


def test_config_from_dict_validates_polygons() -> None:
    cfg = MotionConfig.from_dict({"keepalive_seconds": 10, "ignore_polygons": [[[0, 0], [1, 0], [1, 0.2]]]})
    assert cfg.ignore_polygons == (((0.0, 0.0), (1.0, 0.0), (1.0, 0.2)),)
    with pytest.raises(ValueError, match="normalised"):
        MotionConfig.from_dict({"roi_polygons": [[[0, 0], [640, 0], [640, 480]]]})
    with pytest.raises(ValueError, match="at least 3 points"):
        MotionConfig.from_dict({"roi_polygons": [[[0, 0], [1, 1]]]})
    with pytest.raises(ValueError, match="unknown motion setting"):
        MotionConfig.from_dict({"sensitivity": 3})


def test_the_gate_on_the_diagnosis_half_picture_sees_what_it_sees_on_the_frame() -> None:
    own, shared = MotionGate(), MotionGate()
    for now, index in ((0.0, 0), (1.0, 5)):
        frame = vtest_frame(index)
        mine = own.observe(frame, now)
        theirs = shared.observe(frame, now, reduced=GreyViews.of(frame, 640).half)
    # Both compare pictures of the configured width (160 px), halved from the frame or from the 320 px copy.
    assert own.state.previous.shape == shared.state.previous.shape == (120, 160)
    assert theirs.has_motion and abs(theirs.motion_fraction - mine.motion_fraction) < 0.1 * mine.motion_fraction
    # Boxes in frame pixels either way: the centre of each box of one lies in a box of the other (a blob may
    # split in two).
    assert theirs.boxes and mine.boxes
    for ours, others in ((theirs.boxes, mine.boxes), (mine.boxes, theirs.boxes)):
        for x1, y1, x2, y2 in ours:
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            assert any(o[0] <= cx <= o[2] and o[1] <= cy <= o[3] for o in others), ((x1, y1, x2, y2), others)


def test_a_frame_that_is_not_a_multiple_of_the_width_still_gives_the_configured_width() -> None:
    gate = MotionGate()
    frame = cv2.resize(vtest_frame(0), (1000, 562))
    gate.observe(frame, 0.0)
    assert gate.state.previous.shape == (90, 160)
    assert gate.observe(cv2.resize(vtest_frame(5), (1000, 562)), 1.0).has_motion
