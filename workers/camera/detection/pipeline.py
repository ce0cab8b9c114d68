"""One camera sample through quality check -> motion gate -> detectors.

Only the engine: no database, no web framework, no violation rules (work
hours, persistence, cooldown live with the workers that call this).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .motion import MotionConfig, MotionGate, MotionResult
from .quality import CameraQualityState, GreyViews, QualityProblem, QualityReport, QualityThresholds, diagnose
from .regions import Rect, RegionConfig, RegionDetector, Sighting, crops_only, plan_regions
from .two_stage import CropClassifier, Verdict, VerdictMemory, VerdictReuse
from .types import Box, Detection, Detector, iou

#: Problems that make a picture useless for object detection: the camera is
#: gone, the picture is stale, the lens is covered, or the lights that should be on are off.
DEFAULT_SKIP_ON: frozenset[QualityProblem] = frozenset(
    {QualityProblem.OFFLINE, QualityProblem.FROZEN, QualityProblem.OCCLUDED, QualityProblem.TOO_DARK}
)


@dataclass(frozen=True)
class PipelineConfig:
    """Per-camera settings of the sample analysis."""

    quality: QualityThresholds = field(default_factory=QualityThresholds)
    motion: MotionConfig = field(default_factory=MotionConfig)
    skip_models_on: frozenset[QualityProblem] = DEFAULT_SKIP_ON
    # False runs the detectors on every usable sample (benchmarks, debugging).
    use_motion_gate: bool = True
    # False runs the detectors on the whole frame even when only a part of it moved (benchmarks).
    use_motion_regions: bool = True
    regions: RegionConfig = field(default_factory=RegionConfig)
    # How long a face keeps its mask verdict while it barely moves (``two_stage.VerdictReuse``).
    verdicts: VerdictReuse = field(default_factory=VerdictReuse)


@dataclass
class CameraState:
    """Everything the pipeline remembers about one camera between samples."""

    quality: CameraQualityState = field(default_factory=CameraQualityState)
    motion: MotionGate = field(default_factory=MotionGate)
    # The last analysed sample's detections and when the detectors found them: the next crops include their
    # boxes, or carry them where nothing moved (see ``regions.py``).
    sightings: list[Sighting] = field(default_factory=list)
    # Names of the detectors that ran on the last analysed sample.
    analysed_by: list[str] = field(default_factory=list)
    # The classifier's verdicts on the faces of the last analysed sample (the mask check reuses them).
    verdicts: VerdictMemory = field(default_factory=VerdictMemory)

    def to_dict(self, include_frame: bool = True) -> dict[str, Any]:
        """JSON-compatible state; ``include_frame=False`` leaves out the motion reference picture."""
        return {
            "quality": self.quality.to_dict(),
            "motion": self.motion.to_state(include_frame=include_frame),
            "sightings": [s.to_dict() for s in self.sightings],
            "analysed_by": list(self.analysed_by),
            "verdicts": self.verdicts.to_list(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None, config: PipelineConfig | None = None) -> CameraState:
        """Rebuild from :meth:`to_dict` output (the motion config comes from ``config``)."""
        data = data or {}
        motion_config = (config or PipelineConfig()).motion
        return cls(
            quality=CameraQualityState.from_dict(data.get("quality")),
            motion=MotionGate.from_state(data.get("motion"), motion_config),
            sightings=_sightings(data),
            analysed_by=[str(name) for name in data.get("analysed_by") or []],
            verdicts=VerdictMemory.from_list(data.get("verdicts")),
        )

    @classmethod
    def new(cls, config: PipelineConfig | None = None) -> CameraState:
        """Fresh state for a camera using ``config``'s motion settings."""
        return cls(motion=MotionGate((config or PipelineConfig()).motion))


@dataclass
class SampleResult:
    """What happened to one sample, with per-stage timings in milliseconds.

    ``skip_reason`` is None when the detectors ran, else ``"quality:<problem>"``,
    ``"no_motion"`` or ``"no_detectors"``. ``timings_ms`` has ``quality``, ``motion``, one
    ``model:<detector name>`` entry per detector that ran, and ``total``. ``regions`` are the crops the
    detectors that can looked at (None: the whole frame); ``carried`` counts the detections of the last
    analysed sample kept without a look, where nothing moved (they are in ``detections`` too).
    """

    quality: QualityReport
    motion: MotionResult | None = None
    ran_models: bool = False
    keepalive: bool = False
    regions: list[Rect] | None = None
    carried: int = 0
    skip_reason: str | None = None
    detections: list[Detection] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    model_timings_ms: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation for logs and benchmarks."""
        return {
            "quality": self.quality.to_dict(),
            "motion": self.motion.to_dict() if self.motion else None,
            "ran_models": self.ran_models,
            "keepalive": self.keepalive,
            "regions": [list(r) for r in self.regions] if self.regions is not None else None,
            "carried": self.carried,
            "skip_reason": self.skip_reason,
            "detections": [d.to_dict() for d in self.detections],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


def analyse_sample(
    frame: np.ndarray | None,
    camera_state: CameraState,
    config: PipelineConfig,
    detectors: Sequence[Detector],
    now: float,
    hour: int | None = None,
    expect_lit: bool = False,
) -> SampleResult:
    """Analyse one sample of one camera and update ``camera_state`` in place.

    ``frame`` is the BGR picture or None when the camera gave none; ``now`` is
    the sample time in seconds (epoch seconds if the state is persisted);
    ``hour`` (local hour of the day) and ``expect_lit`` go to :func:`diagnose`.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    t = time.perf_counter()
    # One set of grey copies for the diagnosis and the motion gate.
    views = GreyViews.of(frame, config.quality.analysis_width) if frame is not None and frame.size else None
    report = diagnose(frame, camera_state.quality, config.quality, hour=hour, expect_lit=expect_lit, views=views)
    timings["quality"] = (time.perf_counter() - t) * 1000
    result = SampleResult(quality=report, timings_ms=timings)

    if frame is None:
        result.skip_reason = f"quality:{QualityProblem.OFFLINE.value}"
        timings["total"] = (time.perf_counter() - started) * 1000
        return result

    gate = camera_state.motion
    t = time.perf_counter()
    # Observe even when the picture is unusable, so the reference frame is
    # current once the camera recovers.
    result.motion = gate.observe(frame, now, reduced=views.half if views is not None else None)
    timings["motion"] = (time.perf_counter() - t) * 1000

    blocking = sorted(p.value for p in report.problems & config.skip_models_on)
    if blocking:
        result.skip_reason = f"quality:{blocking[0]}"
    elif config.use_motion_gate and not gate.should_run_model(now):
        result.skip_reason = "no_motion"
    elif not detectors:
        # Nothing to run right now (say, faces and people during work hours): the keep-alive clock is left
        # alone so that the first sample a detector is wanted for runs it at once.
        result.skip_reason = "no_detectors"
    elif (config.use_motion_gate and not result.motion.has_motion and gate.unchanged_since_run()
          and camera_state.analysed_by == [d.name for d in detectors]):
        # A keep-alive on the very picture the same detectors last saw would give their last answer again:
        # the rules carry it, as for any still sample. A picture that drifted since (light, someone moving
        # slowly) or a change of detectors (closing time) does run them.
        result.skip_reason = "no_motion"
    else:
        result.keepalive = config.use_motion_gate and not result.motion.has_motion
        # Sightings are carried only to the same detectors, each looking at nothing but the crops (one that
        # looks at the whole frame would find them again, or miss them where they are gone).
        carry = camera_state.analysed_by == [d.name for d in detectors] and all(crops_only(d) for d in detectors)
        result.regions, carried = _regions(frame, result.motion, camera_state, config, now, carry)
        remembered = list(camera_state.verdicts.verdicts)
        for detector in detectors:
            t = time.perf_counter()
            if isinstance(detector, CropClassifier):
                # The camera's faces keep their verdicts while they barely move (see ``two_stage``).
                memory = {"memory": camera_state.verdicts, "now": now, "reuse": config.verdicts}
                found = (detector.detect_regions(frame, result.regions, **memory) if result.regions is not None
                         else detector.detect(frame, **memory))
            elif result.regions is not None and isinstance(detector, RegionDetector):
                found = detector.detect_regions(frame, result.regions)
            else:
                found = detector.detect(frame)
            timings[f"model:{detector.name}"] = (time.perf_counter() - t) * 1000
            inner = getattr(detector, "last_timings", None)
            if isinstance(inner, dict):
                result.model_timings_ms[detector.name] = dict(inner)
            result.detections.extend(found)
        result.ran_models = True
        _carry(result, camera_state, carried, remembered, now)
        camera_state.analysed_by = [d.name for d in detectors]
        gate.mark_model_run(now)

    timings["total"] = (time.perf_counter() - started) * 1000
    return result


def _regions(frame: np.ndarray, motion: MotionResult, camera_state: CameraState, config: PipelineConfig,
             now: float, carry: bool) -> tuple[list[Rect] | None, list[Sighting]]:
    """Crops around this sample's motion and the last sample's detections (None: the whole frame), and the
    last sample's detections carried where nothing moved around them (``regions.plan_regions``).

    The whole frame on a camera's first sample, on keep-alive runs (nothing moved: a person standing still
    is looked for everywhere) and when nearly everything changed (lights, a moved camera).
    """
    if not config.use_motion_regions or motion.first_sample or motion.global_change or not motion.has_motion:
        return None, []
    sightings = camera_state.sightings if carry else [Sighting(s.detection, None) for s in camera_state.sightings]
    return plan_regions(frame.shape, motion.boxes, sightings, now, config.regions)


def _carry(result: SampleResult, camera_state: CameraState, carried: list[Sighting], remembered: list[Verdict],
           now: float) -> None:
    """Add the carried sightings to the sample's detections and remember this sample's sightings.

    A carried detection that a detector found again anyway (a crop's context reached it) is dropped for the
    fresh one. The mask verdicts of carried faces stay in the camera's memory (the classifier did not see
    them this time), so a face that moves again within the verdict's age keeps it.
    """
    fresh = result.detections
    carried = [s for s in carried if not any(d.label == s.detection.label and iou(d.box, s.detection.box) >= 0.5
                                             for d in fresh)]
    result.carried = len(carried)
    result.detections = fresh + [s.detection for s in carried]
    camera_state.sightings = ([Sighting(d, now) for d in fresh] + carried)[:20]
    if carried:
        boxes = {s.detection.box for s in carried}
        memory = camera_state.verdicts
        memory.verdicts = memory.verdicts + [v for v in remembered if _float_box(v.box) in boxes
                                             and v not in memory.verdicts]


def _float_box(box: tuple[int, int, int, int]) -> Box:
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def _sightings(data: dict[str, Any]) -> list[Sighting]:
    """The sightings of a stored state; an older state's bare boxes (its ``tracked`` key, before sightings kept
    when each was found) are looked at again, never carried."""
    if "sightings" in data:
        return [Sighting.from_dict(item) for item in data.get("sightings") or []]
    return [Sighting(Detection("", 0.0, (float(b[0]), float(b[1]), float(b[2]), float(b[3])), ""), None)
            for b in data.get("tracked") or []]
