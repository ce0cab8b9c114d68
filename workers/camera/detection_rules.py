"""Violation rules: turn one analysed sample of one camera into the events it completes.

Pure functions over plain state (no database). Per kind, each sample is an observation: seen, not seen,
or unknown (the picture could not tell). A kind seen in ``persistence`` consecutive samples starts an
event; the event lasts until ``clear_after`` samples in a row without it. An event raises one violation,
identified by camera, kind and event start, unless a violation of the same kind on the same camera was
raised less than ``cooldown_seconds`` ago.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from backend.timewindows import is_open
from workers.camera.detection import Detection, QualityProblem, SampleResult
from workers.camera.detection.types import LABEL_FACE, LABEL_PERSON, LABEL_RODENT, Box
from workers.camera.tuning import HEALTH_KINDS, PPE_KINDS, CameraSettings, Polygon


@dataclass
class Observation:
    """What one sample says about one kind: ``present`` is None when the picture could not tell."""

    present: bool | None
    confidence: float | None = None
    detections: list[Detection] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class KindState:
    """Rule memory of one kind on one camera (JSON-serialisable)."""

    streak: int = 0
    streak_start: float | None = None
    absent: int = 0
    event_start: float | None = None
    last_raised_at: float | None = None
    suppressed: int = 0
    # Detections of the last sample in which the models ran: a sample the motion gate skipped shows the
    # same scene, so it carries these forward.
    last_present: bool | None = None
    last_detections: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible copy (flat, so cheaper than :func:`dataclasses.asdict`'s deep copy every sample)."""
        return {**vars(self), "last_detections": list(self.last_detections)}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> KindState:
        """Rebuild from :meth:`to_dict` output, ignoring unknown keys."""
        data = data or {}
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class RuleEvent:
    """An event that must become a violation now."""

    kind: str
    started_at: float
    confidence: float | None
    detections: list[Detection]
    details: dict[str, Any]

    def idempotency_key(self, camera_id: int) -> str:
        """Camera, kind and event start: the same event always gets the same key."""
        return f"cam{camera_id}:{self.kind}:{iso(self.started_at)}"


def iso(epoch: float) -> str:
    """UTC ISO-8601 with seconds, used in keys and evidence names."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _detection_from_dict(data: dict[str, Any]) -> Detection:
    box = data["box"]
    return Detection(label=data["label"], confidence=float(data["confidence"]),
                     box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])), source=data["source"])


def point_in_polygon(x: float, y: float, polygon: Polygon) -> bool:
    """Ray casting; ``x``, ``y`` and the polygon in the same (normalised) coordinates."""
    inside = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def in_regions(box: Box, label: str, regions: tuple[Polygon, ...], frame_size: tuple[int, int]) -> bool:
    """Whether a detection counts for the camera's regions of interest (all of the frame when none).

    People are placed by their feet (bottom centre of the box), anything else by its centre.
    """
    if not regions:
        return True
    width, height = frame_size
    x = (box[0] + box[2]) / 2 / width
    y = (box[3] if label == LABEL_PERSON else (box[1] + box[3]) / 2) / height
    return any(point_in_polygon(x, y, polygon) for polygon in regions)


def _overlaps(a: Box, b: Box, margin: float = 0.0) -> bool:
    return a[0] - margin < b[2] and b[0] - margin < a[2] and a[1] - margin < b[3] and b[1] - margin < a[3]


def observe(sample: SampleResult, settings: CameraSettings, at: datetime,
            frame_size: tuple[int, int] | None) -> dict[str, Observation]:
    """One observation per enabled kind for this sample."""
    working = is_open(settings.work_hours, at)
    observations = {kind: _health_observation(kind, sample)
                    for kind in HEALTH_KINDS if kind in settings.enabled_kinds}
    model_kinds = [k for k in settings.enabled_kinds if k not in HEALTH_KINDS]
    if (sample.skip_reason and sample.skip_reason.startswith("quality:")) or sample.quality.repeated:
        # The picture itself is unusable: the models could not tell anything. A picture that repeats the
        # last one is no second sighting either: a stream that is freezing would otherwise confirm its last
        # picture's people before it is found frozen.
        observations.update({kind: Observation(None) for kind in model_kinds})
        return observations
    size = frame_size or (1, 1)
    for kind in model_kinds:
        observations[kind] = _model_observation(kind, sample, settings, working, size)
    return observations


def _health_observation(kind: str, sample: SampleResult) -> Observation:
    """What the quality diagnosis says about a camera-health kind (offline, blurred, occluded)."""
    problems = sample.quality.problems
    if kind == "camera_offline":
        cause = sorted(p.value for p in problems & {QualityProblem.OFFLINE, QualityProblem.FROZEN})
    elif kind == "camera_blurred":
        cause = ["blurred"] if QualityProblem.BLURRED in problems else []
    else:
        cause = ["occluded"] if QualityProblem.OCCLUDED in problems else []
        # Too dark is only diagnosed when light is expected (work hours, or an hour this camera is normally
        # lit): a black picture then means a covered lens or lights that failed, at any hour.
        if not cause and QualityProblem.TOO_DARK in problems:
            cause = ["too_dark"]
    if not cause:
        return Observation(False, None, [], {})
    metrics = {k: round(v, 3) for k, v in sample.quality.metrics.items()}
    return Observation(True, None, [], {"problems": cause, "metrics": metrics})


# Labels whose detections count for each model kind that is not a PPE kind (those count their own label).
_KIND_LABELS = {"person_after_hours": frozenset({LABEL_PERSON, LABEL_FACE}), "rodent": frozenset({LABEL_RODENT})}


def _model_observation(kind: str, sample: SampleResult, settings: CameraSettings, working: bool,
                       size: tuple[int, int]) -> Observation:
    """What the models (or, for rodents after hours, the motion blobs) say about one kind.

    A sample the motion gate skipped (``no_motion``) shows the same scene as the last one: its model kinds
    are unknown here and :func:`apply` carries the last answer forward.
    """
    if kind == "person_after_hours" and working:
        return Observation(False)
    carried = sample.skip_reason == "no_motion"
    labels = {kind} if kind in PPE_KINDS else _KIND_LABELS.get(kind, _KIND_LABELS["rodent"])
    hits = None if carried else _model_hits(sample, settings, kind, labels, size)
    if kind not in PPE_KINDS and kind != "person_after_hours" and not hits and not working:
        # A still picture can carry a model's rodent, but not a motion blob: blobs come from this sample.
        blobs = _rodent_blobs(sample, settings, size)
        if blobs:
            return Observation(True, None, [Detection(LABEL_RODENT, 0.0, blob, "motion") for blob in blobs],
                               {"method": "motion"})
    if hits is None:
        return Observation(None, details={"carried": True})
    best = max((d.confidence for d in hits), default=None)
    return Observation(bool(hits), best, hits, {"method": "model"} if hits else {})


def _model_hits(sample: SampleResult, settings: CameraSettings, kind: str, labels: Collection[str],
                size: tuple[int, int]) -> list[Detection]:
    """The sample's detections of ``labels`` confident enough for the kind's rule, in the regions of interest."""
    rule = settings.rule(kind)
    return [d for d in sample.detections if d.label in labels and d.confidence >= rule.min_confidence
            and in_regions(d.box, d.label, settings.regions_of_interest, size)]


def _rodent_blobs(sample: SampleResult, settings: CameraSettings, size: tuple[int, int]) -> list[Box]:
    """Small moving blobs while closed, when nothing larger moves and no person or face is near them."""
    motion = sample.motion
    if motion is None or motion.first_sample or motion.global_change or motion.boxes:
        return []
    people = [d.box for d in sample.detections if d.label in (LABEL_PERSON, LABEL_FACE)]
    return [blob for blob in motion.small_blobs
            if in_regions(blob, LABEL_RODENT, settings.regions_of_interest, size)
            and not any(_overlaps(blob, p, margin=20.0) for p in people)]


def apply(state: dict[str, Any], settings: CameraSettings, observations: dict[str, Observation],
          now: float) -> list[RuleEvent]:
    """Advance every kind's state with this sample's observations; return the events to raise.

    ``state`` (``camera_monitor.rule_state``) is updated in place; ``now`` is the sample time in epoch
    seconds (the scheduled sample time, so a redone task computes the same event start).
    """
    kinds: dict[str, Any] = state.setdefault("kinds", {})
    events: list[RuleEvent] = []
    for kind, obs in observations.items():
        ks = KindState.from_dict(kinds.get(kind))
        rule = settings.rule(kind)
        present = obs.present
        detections = obs.detections
        if present is None and obs.details.get("carried") and ks.last_present is not None:
            present = ks.last_present
            detections = [_detection_from_dict(d) for d in ks.last_detections]
            obs = Observation(present, max((d.confidence for d in detections), default=None), detections,
                              {"carried": True})
        elif present is not None:
            ks.last_present = present
            ks.last_detections = [d.to_dict() for d in detections][:20]
        if present is None:
            kinds[kind] = ks.to_dict()
            continue
        if present:
            if ks.streak == 0:
                ks.streak_start = now
            ks.streak += 1
            ks.absent = 0
            if ks.event_start is None and ks.streak >= rule.persistence:
                ks.event_start = ks.streak_start
                cooling = ks.last_raised_at is not None and now - ks.last_raised_at < rule.cooldown_seconds
                if cooling:
                    ks.suppressed += 1
                else:
                    ks.last_raised_at = now
                    events.append(RuleEvent(kind, float(ks.event_start), obs.confidence, list(detections),
                                            {**obs.details, "samples": ks.streak}))
        else:
            ks.streak = 0
            ks.streak_start = None
            ks.absent += 1
            if ks.event_start is not None and ks.absent >= rule.clear_after:
                ks.event_start = None
        kinds[kind] = ks.to_dict()
    for kind in list(kinds):
        if kind not in observations:
            del kinds[kind]  # kind disabled: forget its streaks
    return events
