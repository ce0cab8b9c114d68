"""Rules and work hours as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.timewindows import is_open, parse_windows
from workers.camera.detection import Detection, QualityReport, SampleResult
from workers.camera.detection_rules import apply, observe
from workers.camera.tuning import TuningError, camera_settings, validate_tuning

WEEKDAY_WORK = [{"weekday": 0, "start": "05:30", "end": "20:00"}]


def test_work_hours_are_read_in_shanghai_time() -> None:
    windows = parse_windows(WEEKDAY_WORK, label="work_hours")
    assert is_open(windows, datetime(2025, 6, 16, 0, 0, tzinfo=UTC))  # Monday 08:00 in Shanghai
    assert not is_open(windows, datetime(2025, 6, 16, 12, 0, tzinfo=UTC))  # Monday 20:00: end excluded
    assert not is_open(windows, datetime(2025, 6, 15, 21, 29, tzinfo=UTC))  # Monday 05:29 in Shanghai
    assert is_open(windows, datetime(2025, 6, 15, 21, 30, tzinfo=UTC))  # Monday 05:30: start included
    assert not is_open(windows, datetime(2025, 6, 17, 0, 0, tzinfo=UTC))  # Tuesday 08:00: no window
    assert not is_open((), datetime(2025, 6, 16, 0, 0, tzinfo=UTC))
    with pytest.raises(ValueError, match=r"work_hours\[0\]"):
        parse_windows([{"weekday": 7, "start": "05:30", "end": "20:00"}], label="work_hours")


def test_work_hours_ending_2359_run_through_the_end_of_the_day() -> None:
    # 00:00–23:59 is the whole day: at 23:59:30 the kitchen is still working, so a person seen then is no
    # "person after hours" (the worker used to stop a minute early and raise one).
    all_day = camera_settings(7, ["person_after_hours"], [{"weekday": 0, "start": "00:00", "end": "23:59"}], [], {})
    late = datetime(2025, 6, 16, 15, 59, 30, tzinfo=UTC)  # Monday 23:59:30 in Shanghai
    assert is_open(all_day.work_hours, late)
    assert not is_open(all_day.work_hours, datetime(2025, 6, 16, 16, 0, tzinfo=UTC))  # Tuesday 00:00
    person = Detection("person", 0.8, (10, 10, 50, 120), "hog")
    observed = observe(_sample([person]), all_day, late, (640, 480))
    assert observed["person_after_hours"].present is False


def _sample(detections: list[Detection], skip: str | None = None) -> SampleResult:
    return SampleResult(quality=QualityReport(), ran_models=skip is None, skip_reason=skip, detections=detections)


def test_person_after_hours_only_outside_work_hours_and_still_scenes_carry_the_detection() -> None:
    settings = camera_settings(7, ["person_after_hours"], WEEKDAY_WORK, [], {})
    person = Detection("person", 0.8, (10, 10, 50, 120), "hog")
    night = datetime(2025, 6, 16, 14, 0, tzinfo=UTC)  # Monday 22:00 in Shanghai
    day = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
    state: dict = {}
    assert observe(_sample([person]), settings, day, (640, 480))["person_after_hours"].present is False
    assert apply(state, settings, observe(_sample([person]), settings, night, (640, 480)), 1000.0) == []
    # The motion gate skipped the next sample: same picture, the person is still there.
    events = apply(state, settings, observe(_sample([], "no_motion"), settings, night, (640, 480)), 1005.0)
    assert [(e.kind, e.started_at) for e in events] == [("person_after_hours", 1000.0)]
    assert events[0].idempotency_key(7) == "cam7:person_after_hours:1970-01-01T00:16:40Z"
    # An unusable picture neither continues nor ends the event.
    assert apply(state, settings, observe(_sample([], "quality:occluded"), settings, night, None), 1010.0) == []
    assert state["kinds"]["person_after_hours"]["streak"] == 2


def test_low_confidence_and_regions_of_interest_filter_detections() -> None:
    roi = [[[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]]  # right half
    settings = camera_settings(1, ["no_mask"], [], roi, {"rules": {"no_mask": {"min_confidence": 0.6}}})
    at = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
    left = Detection("no_mask", 0.9, (10, 10, 50, 50), "ppe")
    right_weak = Detection("no_mask", 0.5, (400, 10, 450, 50), "ppe")
    right = Detection("no_mask", 0.7, (400, 10, 450, 50), "ppe")
    assert observe(_sample([left, right_weak]), settings, at, (640, 480))["no_mask"].present is False
    assert observe(_sample([left, right]), settings, at, (640, 480))["no_mask"].detections == [right]


def test_rodent_from_small_moving_blobs_only_while_closed_and_alone() -> None:
    from workers.camera.detection import MotionResult

    settings = camera_settings(1, ["rodent"], WEEKDAY_WORK, [], {})
    night = datetime(2025, 6, 16, 14, 0, tzinfo=UTC)
    day = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
    blob = (300.0, 400.0, 312.0, 406.0)
    mouse = _sample([])
    mouse.motion = MotionResult(0.0005, False, boxes=[], small_blobs=[blob])
    assert observe(mouse, settings, night, (640, 480))["rodent"].present is True
    assert observe(mouse, settings, day, (640, 480))["rodent"].present is False
    walker = _sample([])
    walker.motion = MotionResult(0.05, True, boxes=[(100.0, 100.0, 200.0, 400.0)], small_blobs=[blob])
    assert observe(walker, settings, night, (640, 480))["rodent"].present is False


def test_camera_health_kinds_name_their_cause_from_the_quality_report() -> None:
    from workers.camera.detection import QualityProblem

    settings = camera_settings(1, ["camera_offline", "camera_blurred", "camera_occluded", "no_mask"],
                               WEEKDAY_WORK, [], {})
    night = datetime(2025, 6, 16, 14, 0, tzinfo=UTC)
    day = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)

    def health(problems: set, at: datetime) -> dict:
        sample = SampleResult(quality=QualityReport(problems=problems, metrics={"mean_luma": 3.14159}),
                              skip_reason="quality:any")
        observed = observe(sample, settings, at, None)
        assert observed["no_mask"].present is None  # an unusable picture tells nothing about masks
        return {kind: (o.present, o.details.get("problems")) for kind, o in observed.items() if kind != "no_mask"}

    assert health({QualityProblem.FROZEN, QualityProblem.OFFLINE}, day) == {
        "camera_offline": (True, ["frozen", "offline"]), "camera_blurred": (False, None),
        "camera_occluded": (False, None)}
    assert health({QualityProblem.BLURRED}, day)["camera_blurred"] == (True, ["blurred"])
    assert health({QualityProblem.OCCLUDED}, night)["camera_occluded"] == (True, ["occluded"])
    # Too dark is diagnosed only where light is expected (the diagnosis knows the hour and the camera's
    # baseline), so the rule raises it whatever the hour.
    assert health({QualityProblem.TOO_DARK}, day)["camera_occluded"] == (True, ["too_dark"])
    assert health({QualityProblem.TOO_DARK}, night)["camera_occluded"] == (True, ["too_dark"])
    sample = SampleResult(quality=QualityReport(problems={QualityProblem.BLURRED}, metrics={"sharpness": 1.23456}))
    assert observe(sample, settings, day, None)["camera_blurred"].details == {
        "problems": ["blurred"], "metrics": {"sharpness": 1.235}}
    # Only health kinds enabled: the detections are not looked at.
    only_health = camera_settings(1, ["camera_offline"], [], [], {})
    assert list(observe(_sample([Detection("no_mask", 0.9, (1, 1, 9, 9), "ppe")]), only_health, day, None)) == [
        "camera_offline"]


def test_rodent_by_model_by_day_and_a_blob_even_in_a_still_sample() -> None:
    from workers.camera.detection import MotionResult

    settings = camera_settings(1, ["rodent"], WEEKDAY_WORK, [], {})
    night = datetime(2025, 6, 16, 14, 0, tzinfo=UTC)
    day = datetime(2025, 6, 16, 2, 0, tzinfo=UTC)
    rat = Detection("rodent", 0.7, (300, 400, 330, 420), "ppe")
    seen = observe(_sample([rat]), settings, day, (640, 480))["rodent"]
    assert (seen.present, seen.confidence, seen.details) == (True, 0.7, {"method": "model"})
    still = _sample([], "no_motion")
    assert observe(still, settings, night, (640, 480))["rodent"].details == {"carried": True}
    still.motion = MotionResult(0.0005, False, boxes=[], small_blobs=[(300.0, 400.0, 312.0, 406.0)])
    blob = observe(still, settings, night, (640, 480))["rodent"]
    assert (blob.present, blob.details, [d.source for d in blob.detections]) == (True, {"method": "motion"},
                                                                                 ["motion"])


def test_tuning_validation_names_the_key() -> None:
    assert validate_tuning({"rules": {"rodent": {"cooldown_seconds": 60}}}) == {
        "rules": {"rodent": {"cooldown_seconds": 60.0}}}
    for bad, message in [({"rules": {"unicorn": {}}}, "rules.unicorn: unknown kind"),
                         ({"rules": {"no_hat": {"persistence": 2.5}}}, "must be a whole number"),
                         ({"motion": {"speed": 1}}, "motion: unknown setting"),
                         ({"motion": {"ignore_polygons": [[[0, 0], [2, 0], [0, 1]]]}}, "normalised"),
                         ({"verdicts": {"max_age_seconds": 600}}, "verdicts.max_age_seconds must be between"),
                         ({"verdicts": {"iou": 0.5}}, "verdicts: unknown setting"),
                         ({"extra": {}}, "unknown tuning section")]:
        with pytest.raises(TuningError, match=message):
            validate_tuning(bad)


def test_a_camera_tunes_how_long_a_still_face_keeps_its_mask_verdict() -> None:
    assert camera_settings(1, ["no_mask"], [], [], {}).pipeline.verdicts.max_age_seconds == 10.0
    tuned = camera_settings(1, ["no_mask"], [], [], {"verdicts": {"max_age_seconds": 0, "min_iou": 0.8}})
    assert (tuned.pipeline.verdicts.max_age_seconds, tuned.pipeline.verdicts.min_iou) == (0.0, 0.8)
