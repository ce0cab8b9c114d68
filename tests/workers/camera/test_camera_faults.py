"""Covered, dark, frozen and offline are distinct faults at any hour, on degraded variants of a real video.

Each scenario feeds a camera a few live samples of vtest.avi (its own normal picture), then a degraded
variant of the frames that follow, through the same sample processing as the worker (diagnosis, health,
rules) with the real HOG people detector after hours.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest

from tests.workers.camera.detection.detection_testdata import vtest_frame
from workers.camera.detection import CameraState, HogPeopleDetector, QualityProblem
from workers.camera.processing import SampleOutcome, process_sample
from workers.camera.tuning import CameraSettings, camera_settings

EVERY_DAY_WORK = [{"weekday": d, "start": "05:30", "end": "20:00"} for d in range(7)]
HEALTH = ["camera_offline", "camera_blurred", "camera_occluded"]
KINDS = [*HEALTH, "person_after_hours"]
# Monday 2025-06-16 in Shanghai: 10:00 (working) and 23:00 (closed).
DAY = datetime(2025, 6, 16, 2, 0, tzinfo=UTC).timestamp()
NIGHT = datetime(2025, 6, 16, 15, 0, tzinfo=UTC).timestamp()
_HOG = HogPeopleDetector()


def _noise(frame: np.ndarray, seed: int) -> np.ndarray:
    """Sensor noise, as every live camera has (a cover is never a perfectly constant picture)."""
    noise = np.random.default_rng(seed).normal(0.0, 1.5, frame.shape)
    return np.clip(frame.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def cover(colour: tuple[int, int, int], top: float = 0.05, bottom: float = 0.95) -> Callable[[np.ndarray, int],
                                                                                              np.ndarray]:
    """A flat cover of ``colour`` over the rows ``top``..``bottom`` (shares of the height), 5 % margins aside."""
    def degrade(frame: np.ndarray, seed: int) -> np.ndarray:
        out = frame.copy()
        h, w = out.shape[:2]
        left = 0 if top == 0.0 else int(w * 0.05)
        right = w if top == 0.0 else int(w * 0.95)
        cv2.rectangle(out, (left, int(h * top)), (right, int(h * bottom)), colour, -1)
        return _noise(out, seed)
    return degrade


def hand(frame: np.ndarray, seed: int) -> np.ndarray:
    """A hand close to the lens: a defocused skin-coloured blob with soft shading over most of the picture."""
    h, w = frame.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    inside = ((xx - w * 0.45) / (w * 0.55)) ** 2 + ((yy - h * 0.55) / (h * 0.6)) ** 2 <= 1.0
    shade = 0.85 + 0.15 * (1.0 - yy / h)  # lit from above
    skin = np.stack([110 * shade, 150 * shade, 205 * shade], axis=-1)
    out = frame.astype(np.float32)
    out[inside] = skin[inside]
    out = cv2.GaussianBlur(out, (0, 0), 6.0)
    out[~inside] = frame.astype(np.float32)[~inside]
    return _noise(np.clip(out, 0, 255).astype(np.uint8), seed)


def darkened(frame: np.ndarray, seed: int) -> np.ndarray:
    return _noise((frame.astype(np.float32) * 0.15).astype(np.uint8), seed)


def blurred(frame: np.ndarray, seed: int) -> np.ndarray:
    return _noise(cv2.GaussianBlur(frame, (0, 0), 2.0), seed)


def colour_cast(frame: np.ndarray, seed: int) -> np.ndarray:
    gains = np.array([0.55, 0.9, 1.15], dtype=np.float32)
    return _noise(np.clip(frame.astype(np.float32) * gains, 0, 255).astype(np.uint8), seed)


class Camera:
    """One camera's memory between samples, fed frames at 5-second steps."""

    def __init__(self, kinds: list[str] = KINDS) -> None:
        self.settings: CameraSettings = camera_settings(1, kinds, EVERY_DAY_WORK, [], {})
        self.engine = CameraState.new(self.settings.pipeline)
        self.rules: dict = {}
        self.health = "unknown"
        self.outcomes: list[SampleOutcome] = []

    def feed(self, frames: list[np.ndarray | None], start: float) -> list[SampleOutcome]:
        def plan(settings: CameraSettings, working: bool) -> list:
            return [] if working else [_HOG]

        new = []
        for step, frame in enumerate(frames):
            outcome = process_sample(frame, start + 5 * step, self.settings, self.engine, self.rules, self.health,
                                     plan)
            self.health = outcome.health_status
            new.append(outcome)
        self.outcomes.extend(new)
        return new

    def changes(self) -> list[str]:
        return [o.health_change.to_status for o in self.outcomes if o.health_change]

    def events(self) -> list[str]:
        return [e.kind for o in self.outcomes for e in o.events]


def live(indices: range) -> list[np.ndarray]:
    return [_noise(vtest_frame(i), i) for i in indices]


def degraded(degrade: Callable[[np.ndarray, int], np.ndarray], indices: range = range(12, 40, 3)
             ) -> list[np.ndarray]:
    return [degrade(vtest_frame(i), i) for i in indices]


FAULTS = [
    ("black cover", cover((0, 0, 0)), "occluded", "camera_occluded"),
    ("grey cover", cover((128, 128, 128)), "occluded", "camera_occluded"),
    ("hand", hand, "occluded", "camera_occluded"),
    ("top three quarters covered", cover((0, 0, 0), top=0.0, bottom=0.75), "occluded", "camera_occluded"),
    ("blurred", blurred, "blurred", "camera_blurred"),
    ("colour cast", colour_cast, "colour_cast", None),
]


@pytest.mark.parametrize("start", [DAY, NIGHT], ids=["working", "closed"])
@pytest.mark.parametrize(("name", "degrade", "status", "kind"), FAULTS, ids=[f[0] for f in FAULTS])
def test_each_fault_is_its_own_status_and_violation_whatever_the_hour(
        name: str, degrade: Callable[[np.ndarray, int], np.ndarray], status: str, kind: str | None,
        start: float) -> None:
    camera = Camera()
    camera.feed(live(range(0, 12, 2)), start)
    assert camera.health == "ok"
    faulty = camera.feed(degraded(degrade), start + 30)
    assert camera.health == status, [sorted(p.value for p in o.result.quality.problems) for o in faulty]
    assert camera.changes() == ["ok", status]
    # Never "camera offline" for a covered, blurred or cast picture (the walkers of the live samples before
    # the fault are people after hours at night).
    assert [e.kind for o in faulty for e in o.events] == ([kind] if kind else [])


def test_covered_lens_is_not_called_dark_even_at_night() -> None:
    # A black cloth over most of the lens, at night, in a kitchen whose night picture is dark.
    camera = Camera()
    camera.feed(degraded(darkened, range(0, 12, 2)), NIGHT)
    assert camera.health == "ok"
    camera.feed(degraded(cover((0, 0, 0))), NIGHT + 30)
    assert camera.health == "occluded"


def test_a_dark_kitchen_at_night_is_no_fault_but_darkness_where_light_is_usual_is() -> None:
    # This kitchen is dark at night: learnt as its normal night picture, no health change, no violation.
    dark_nights = Camera()
    dark_nights.feed(degraded(darkened, range(0, 40, 3)), NIGHT)
    assert dark_nights.changes() == ["ok"] and dark_nights.events() == []
    # During work hours the lights must be on: dark is a fault from the first samples.
    working = Camera()
    working.feed(degraded(darkened, range(0, 40, 3)), DAY)
    assert working.changes() == ["too_dark"] and working.events() == ["camera_occluded"]
    # A camera whose night picture is normally lit (night lights) going dark at night: a fault.
    lit_nights = Camera(HEALTH)
    lit_nights.feed(live(range(0, 12, 2)), NIGHT)
    lit_nights.feed(degraded(darkened), NIGHT + 30)
    assert lit_nights.changes() == ["ok", "too_dark"] and lit_nights.events() == ["camera_occluded"]


@pytest.mark.parametrize("start", [DAY, NIGHT], ids=["working", "closed"])
def test_offline_and_frozen_are_told_apart(start: float) -> None:
    offline = Camera(HEALTH)
    offline.feed(live(range(0, 12, 2)), start)
    offline.feed([None] * 8, start + 30)
    assert offline.changes() == ["ok", "offline"] and offline.events() == ["camera_offline"]

    frozen = Camera(HEALTH)
    frozen.feed(live(range(0, 12, 2)), start)
    still = vtest_frame(20)
    frozen.feed([still.copy() for _ in range(8)], start + 30)
    assert frozen.changes() == ["ok", "frozen"] and frozen.events() == ["camera_offline"]
    assert frozen.outcomes[-1].result.quality.problems == {QualityProblem.FROZEN}


def test_a_frozen_picture_with_people_raises_no_person_after_hours() -> None:
    camera = Camera()
    # The kitchen is empty at night (a darkened, people-free picture is not what HOG finds people in)...
    camera.feed([cover((40, 40, 40), top=0.0, bottom=1.0)(vtest_frame(i), i) for i in range(4)], NIGHT)
    # ...then the stream freezes on a picture with walkers in it.
    still = vtest_frame(20)
    assert len(_HOG.detect(still)) >= 2
    outcomes = camera.feed([still.copy() for _ in range(8)], NIGHT + 20)
    assert "person_after_hours" not in camera.events()
    assert camera.health == "frozen" and camera.events() == ["camera_offline"]
    # The first picture counted once; its repeats told nothing, and once frozen the models did not run.
    assert [o.observations["person_after_hours"].present for o in outcomes[:3]] == [True, None, None]


def test_a_live_picture_with_people_after_hours_still_raises_it() -> None:
    camera = Camera()
    camera.feed(live(range(0, 40, 3)), NIGHT)
    assert camera.events() == ["person_after_hours"]


def test_no_ai_violation_while_the_camera_is_judged_unusable() -> None:
    camera = Camera()
    camera.feed(live(range(0, 6, 2)), NIGHT)
    camera.feed(degraded(cover((128, 128, 128))), NIGHT + 15)
    assert camera.health == "occluded"
    # The cover comes off: one clean sample is not enough to leave "occluded" (hysteresis), and while the
    # camera is judged unusable what the models see raises nothing.
    outcome = camera.feed(live(range(30, 31)), NIGHT + 200)[0]
    assert outcome.health_status == "occluded"
    assert outcome.result.skip_reason == "quality:health_occluded"
    assert outcome.observations["person_after_hours"].present is None
