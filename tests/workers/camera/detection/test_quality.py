"""Picture-quality diagnosis on degraded variants of real frames."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import cv2
import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import astronaut_bgr, vtest_frame
from workers.camera.detection.quality import (
    CameraQualityState,
    GreyViews,
    QualityProblem,
    QualityThresholds,
    diagnose,
    lab_chroma,
)


def blurred(frame: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(frame, (0, 0), 2.0)


def darkened(frame: np.ndarray) -> np.ndarray:
    return (frame.astype(np.float32) * 0.15).astype(np.uint8)


def over_bright(frame: np.ndarray) -> np.ndarray:
    return cv2.convertScaleAbs(frame, alpha=2.0, beta=100)


def covered(frame: np.ndarray) -> np.ndarray:
    # A hand or cloth over the lens: one flat region over ~80% of the picture.
    out = frame.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (int(w * 0.05), int(h * 0.05)), (int(w * 0.95), int(h * 0.95)), (60, 70, 80), -1)
    return out


def colour_cast(frame: np.ndarray) -> np.ndarray:
    # Broken white balance: blue channel weak, red strong.
    gains = np.array([0.55, 0.9, 1.15], dtype=np.float32)
    return np.clip(frame.astype(np.float32) * gains, 0, 255).astype(np.uint8)


VARIANTS: list[tuple[str, Callable[[np.ndarray], np.ndarray], QualityProblem]] = [
    ("blurred", blurred, QualityProblem.BLURRED),
    ("dark", darkened, QualityProblem.TOO_DARK),
    ("bright", over_bright, QualityProblem.TOO_BRIGHT),
    ("covered", covered, QualityProblem.OCCLUDED),
    ("cast", colour_cast, QualityProblem.COLOUR_CAST),
]


def learnt_state(frames: list[np.ndarray]) -> CameraQualityState:
    state = CameraQualityState()
    for frame in frames:
        assert diagnose(frame, state).ok
    return state


@pytest.mark.parametrize("frame_index", [0, 20])
def test_clean_vtest_frames_have_no_problem(frame_index: int) -> None:
    report = diagnose(vtest_frame(frame_index), CameraQualityState())
    assert report.problems == set()
    assert report.metrics["sharpness"] > 100


def test_clean_astronaut_has_no_problem() -> None:
    assert diagnose(astronaut_bgr(), CameraQualityState()).problems == set()


@pytest.mark.parametrize(("name", "degrade", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_each_degradation_is_diagnosed_as_exactly_that(
    name: str, degrade: Callable[[np.ndarray], np.ndarray], expected: QualityProblem
) -> None:
    state = learnt_state([vtest_frame(0), vtest_frame(5), vtest_frame(10)])
    report = diagnose(degrade(vtest_frame(15)), state)
    assert report.problems == {expected}, report.to_dict()


@pytest.mark.parametrize(("name", "degrade", "expected"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_degradations_of_a_second_real_picture(
    name: str, degrade: Callable[[np.ndarray], np.ndarray], expected: QualityProblem
) -> None:
    astronaut = astronaut_bgr()
    state = learnt_state([astronaut])
    assert diagnose(degrade(astronaut), state).problems == {expected}


def test_blur_is_judged_against_the_cameras_own_baseline() -> None:
    frame = vtest_frame(0)
    # Mild blur: still above the absolute floor, so only the learnt baseline catches it.
    soft = cv2.GaussianBlur(frame, (0, 0), 1.2)
    fresh = diagnose(soft, CameraQualityState())
    assert fresh.problems == set()
    assert fresh.metrics["sharpness"] > QualityThresholds().blur_absolute_floor

    state = learnt_state([frame, vtest_frame(3)])
    assert diagnose(soft, state).problems == {QualityProblem.BLURRED}
    # A blurred sample must not drag the baseline down.
    baseline = state.baseline_sharpness
    diagnose(soft, state)
    assert state.baseline_sharpness == baseline


def test_only_clean_colour_samples_are_checked_for_a_cast_and_teach_the_baseline() -> None:
    state = learnt_state([vtest_frame(0)])
    baseline, good = state.baseline_sharpness, state.good_frames
    # Badly exposed or covered: a root cause, so neither a cast is looked for nor the baseline moved.
    for degrade, problem in ((darkened, QualityProblem.TOO_DARK), (covered, QualityProblem.OCCLUDED)):
        report = diagnose(colour_cast(degrade(vtest_frame(5))), state)
        assert report.problems == {problem} and "cast_offset" not in report.metrics
        assert (state.baseline_sharpness, state.good_frames) == (baseline, good)
    # A grey camera has no colour to be cast, but a clean grey sample still teaches the baseline.
    grey = cv2.cvtColor(vtest_frame(10), cv2.COLOR_BGR2GRAY)
    report = diagnose(grey, state)
    assert report.ok and "cast_offset" not in report.metrics and state.good_frames == good + 1
    assert diagnose(vtest_frame(15), state).metrics["cast_offset"] >= 0.0


def test_frozen_after_repeated_identical_frames() -> None:
    state = CameraQualityState()
    frame = vtest_frame(7)
    reports = [diagnose(frame.copy(), state) for _ in range(4)]
    assert [r.problems for r in reports] == [set(), set(), {QualityProblem.FROZEN}, {QualityProblem.FROZEN}]
    # The live stream moves again: no longer frozen.
    assert diagnose(vtest_frame(12), state).problems == set()
    assert state.frozen_count == 0


def test_frozen_tolerates_reencoding_noise_but_not_a_live_scene() -> None:
    state = CameraQualityState()
    frame = vtest_frame(7)
    ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    reencoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    problems = [diagnose(f, state).problems for f in (frame, reencoded, frame)]
    assert problems == [set(), set(), {QualityProblem.FROZEN}]

    live = CameraQualityState()
    assert all(diagnose(vtest_frame(i), live).ok for i in range(0, 12, 2))


def test_clock_region_tells_a_still_scene_from_a_frozen_stream() -> None:
    thresholds = QualityThresholds(frozen_clock_region=(0.0, 0.0, 0.4, 0.08))

    def with_clock(second: int) -> np.ndarray:
        frame = vtest_frame(7)
        text = f"2026-09-01 12:00:{second:02d}"
        cv2.putText(frame, text, (8, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2)
        return frame

    ticking = CameraQualityState()
    assert all(diagnose(with_clock(s), ticking, thresholds).ok for s in range(5))
    stuck = CameraQualityState()
    problems = [diagnose(with_clock(3), stuck, thresholds).problems for _ in range(3)]
    assert problems[-1] == {QualityProblem.FROZEN}


def test_offline_when_no_frame() -> None:
    state = learnt_state([vtest_frame(0)])
    assert diagnose(None, state).problems == {QualityProblem.OFFLINE}
    assert state.missing_count == 1
    assert diagnose(vtest_frame(1), state).ok
    assert state.missing_count == 0

    patient = QualityThresholds(offline_after_missing=3)
    state = CameraQualityState()
    assert [diagnose(None, state, patient).problems for _ in range(3)] == [
        set(),
        set(),
        {QualityProblem.OFFLINE},
    ]


def test_state_round_trips_through_json() -> None:
    state = learnt_state([vtest_frame(0), vtest_frame(2)])
    diagnose(vtest_frame(2), state)  # one repeat counted
    restored = CameraQualityState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert restored == state
    # The restored state continues the frozen count.
    assert diagnose(vtest_frame(2), restored).problems == {QualityProblem.FROZEN}
    assert CameraQualityState.from_dict(None) == CameraQualityState()
    # Every field is written (to_dict lists them one by one).
    assert set(state.to_dict()) == {f.name for f in dataclasses.fields(CameraQualityState)}


def black_cover(frame: np.ndarray) -> np.ndarray:
    out = frame.copy()
    h, w = out.shape[:2]
    cv2.rectangle(out, (int(w * 0.05), int(h * 0.05)), (int(w * 0.95), int(h * 0.95)), (0, 0, 0), -1)
    return out


def test_a_black_cover_is_a_cover_not_darkness() -> None:
    state = learnt_state([vtest_frame(0), vtest_frame(5), vtest_frame(10)])
    report = diagnose(black_cover(vtest_frame(15)), state)
    assert report.problems == {QualityProblem.OCCLUDED}, report.to_dict()
    # The same cover in grey was always found; black now is too, with the same region share.
    grey = covered(vtest_frame(15))
    assert diagnose(grey, learnt_state([vtest_frame(0)])).metrics["flat_region_share"] == pytest.approx(
        report.metrics["flat_region_share"], abs=0.05)


def test_darkness_is_a_fault_only_where_light_is_expected() -> None:
    dark = darkened(vtest_frame(15))
    # A new camera at 23:00 outside work hours: a dark kitchen, not a fault (it becomes this hour's baseline).
    night = CameraQualityState()
    report = diagnose(dark, night, hour=23)
    assert report.problems == set() and report.metrics["dark_scene"] == 1.0
    assert night.hour_baselines["23"] == pytest.approx(report.metrics["mean_luma"])
    # During work hours the lights must be on.
    assert diagnose(dark, CameraQualityState(), hour=23, expect_lit=True).problems == {QualityProblem.TOO_DARK}
    # A camera normally lit at 10:00 that goes dark at 10:00, even outside work hours (a Sunday): a fault.
    lit = CameraQualityState()
    assert diagnose(vtest_frame(0), lit, hour=10).ok
    assert diagnose(dark, lit, hour=10).problems == {QualityProblem.TOO_DARK}
    # ...and its 10:00 baseline is not taught darkness by the fault.
    assert lit.hour_baselines["10"] > QualityThresholds().lit_mean_luma


def test_the_caller_s_grey_views_give_the_same_diagnosis() -> None:
    own, shared = CameraQualityState(), CameraQualityState()
    for index in (0, 5, 10):
        frame = vtest_frame(index)
        views = GreyViews.of(frame, QualityThresholds().analysis_width)
        assert views.analysis.shape == (480, 640) and views.half.shape == (240, 320)
        mine = diagnose(frame, own, hour=10)
        theirs = diagnose(frame, shared, hour=10, views=views)
        assert theirs.metrics == mine.metrics and theirs.problems == mine.problems
    assert shared.to_dict() == own.to_dict()


def _cover_verdict_with_every_edge(frame: np.ndarray) -> bool:
    """The cover verdict with the edge test on every cell (the straightforward way, as an oracle)."""
    t = QualityThresholds()
    grey = GreyViews.of(frame, t.analysis_width).half.astype(np.float64)
    cols, rows = t.occlusion_grid
    edges = cv2.Canny(grey.astype(np.uint8), 50, 150) > 0
    height, width = grey.shape

    def cell(picture: np.ndarray, r: int, c: int) -> np.ndarray:
        return picture[r * height // rows:(r + 1) * height // rows, c * width // cols:(c + 1) * width // cols]

    cells = [(cell(grey, r, c), cell(edges, r, c)) for r in range(rows) for c in range(cols)]
    flat = np.array([pixels.std() < t.flat_cell_std and pixels.std() < t.flat_cell_contrast * (pixels.mean() + 10.0)
                     and edge.mean() < t.flat_cell_edge_share for pixels, edge in cells],
                    dtype=np.uint8).reshape(rows, cols)
    means = np.array([cell.mean() for cell, _ in cells]).reshape(rows, cols)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(flat, connectivity=4)
    if count <= 1:
        return False
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    region = means[labels == biggest]
    share, textured = region.size / flat.size, 1.0 - flat.mean()
    return (share >= t.occluded_region_share and textured >= t.occluded_min_textured_share
            and (region.mean() >= t.dark_mean_luma or region.std() <= t.cover_max_spread))


def lined_cover(frame: np.ndarray) -> np.ndarray:
    """A grey cover with faint lines every 60 px (a slatted blind): each cell's spread stays small, so the
    cells are flat by spread and contrast, but the lines' edges are not."""
    out = covered(frame)
    h, w = out.shape[:2]
    for y in range(int(h * 0.05), int(h * 0.95), 60):
        cv2.line(out, (int(w * 0.05), y), (int(w * 0.95), y), (40, 50, 60), 2)
    return out


@pytest.mark.parametrize("make", [lambda f: f, covered, black_cover, darkened, blurred, lined_cover],
                         ids=["clean", "covered", "black", "dark", "blurred", "lined"])
def test_the_edge_test_runs_where_it_can_change_the_cover_verdict(make: Callable[[np.ndarray], np.ndarray]) -> None:
    # The edge test (the costly part) is skipped where the cells flat by spread and contrast cannot make a
    # cover: the verdict stays that of the test on every cell.
    for index in (0, 15, 39):
        frame = make(vtest_frame(index))
        report = diagnose(frame, CameraQualityState())
        assert (QualityProblem.OCCLUDED in report.problems) == _cover_verdict_with_every_edge(frame)


def test_edges_keep_a_lined_cover_from_counting_as_flat() -> None:
    # Flat by spread and contrast over three quarters of the picture, so the edge test runs, and the lines'
    # edges decide.
    frame = lined_cover(vtest_frame(15))
    without_edges = diagnose(frame, CameraQualityState(), QualityThresholds(flat_cell_edge_share=1.1))
    assert QualityProblem.OCCLUDED in without_edges.problems
    report = diagnose(frame, CameraQualityState())
    assert QualityProblem.OCCLUDED not in report.problems and report.metrics["flat_region_share"] < 0.3
    assert QualityProblem.OCCLUDED in diagnose(covered(vtest_frame(15)), CameraQualityState()).problems


@pytest.mark.parametrize("make", [lambda f: f, colour_cast, darkened, over_bright],
                         ids=["clean", "cast", "dark", "bright"])
def test_the_cast_test_s_lab_chroma_is_opencv_s(make: Callable[[np.ndarray], np.ndarray]) -> None:
    # The cast test computes a* and b* itself (cheaper after a model run). Pixel by pixel they are OpenCV's
    # float Lab conversion's within its own interpolation error (up to ~0.4 on the primaries' ramps), on
    # real and degraded pictures and every 8-bit primary; every grey is exactly neutral.
    levels = np.arange(256, dtype=np.uint8)
    zero = np.zeros_like(levels)
    primaries = np.stack([np.stack([levels, zero, zero], axis=1), np.stack([zero, levels, zero], axis=1),
                          np.stack([zero, zero, levels], axis=1)])
    for picture in (make(vtest_frame(15))[::7, ::7], make(astronaut_bgr())[::5, ::5], primaries):
        a, b = lab_chroma(np.ascontiguousarray(picture))
        lab = cv2.cvtColor(picture.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB).reshape(-1, 3)
        assert np.abs(a - lab[:, 1]).max() < 0.5 and np.abs(b - lab[:, 2]).max() < 0.5
        assert abs(float(a.mean()) - float(lab[:, 1].mean())) < 0.1
        assert abs(float(b.mean()) - float(lab[:, 2].mean())) < 0.1
    a, b = lab_chroma(np.stack([levels] * 3, axis=1))
    assert np.abs(a).max() < 1e-3 and np.abs(b).max() < 1e-3
