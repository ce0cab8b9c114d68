"""Per-camera settings of the detection rules and engine, from the camera row plus installer tuning.

The camera row gives the enabled kinds, work hours and regions of interest. ``camera_monitor.tuning``
holds what an installer changed on top of the defaults::

    {"rules": {"person_after_hours": {"persistence": 3, "cooldown_seconds": 900}},
     "motion": {"ignore_polygons": [[[0, 0], [0.2, 0], [0.2, 0.2]]], "keepalive_seconds": 120},
     "quality": {"blur_ratio": 0.3}}

:func:`validate_tuning` rejects unknown keys and out-of-range values with a message naming the key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backend.timewindows import WeeklyWindow, parse_windows
from workers.camera.detection import MotionConfig, PipelineConfig, QualityThresholds
from workers.camera.detection.two_stage import VerdictReuse

PPE_KINDS: tuple[str, ...] = ("no_mask", "no_hat", "no_uniform", "smoking", "phone")
MODEL_KINDS: tuple[str, ...] = (*PPE_KINDS, "person_after_hours", "rodent")
HEALTH_KINDS: tuple[str, ...] = ("camera_offline", "camera_blurred", "camera_occluded")
ALL_KINDS: tuple[str, ...] = (*MODEL_KINDS, *HEALTH_KINDS)

Polygon = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class KindRule:
    """How one violation kind turns observations into events.

    ``persistence``: consecutive samples the thing must be seen before it is an event. ``clear_after``:
    consecutive samples without it that end the event. ``cooldown_seconds``: after a violation of this
    kind, a new event of the same kind on the same camera raises nothing until this much time passed.
    ``min_confidence``: detections below it are ignored.
    """

    persistence: int
    cooldown_seconds: float
    clear_after: int = 3
    min_confidence: float = 0.5


DEFAULT_RULES: dict[str, KindRule] = {
    **{kind: KindRule(persistence=3, cooldown_seconds=1800) for kind in PPE_KINDS},
    "person_after_hours": KindRule(persistence=2, cooldown_seconds=1800, min_confidence=0.6),
    "rodent": KindRule(persistence=2, cooldown_seconds=3600),
    # At 5 s a sample, six samples is half a minute: a reboot or a passing hand is not a violation.
    "camera_offline": KindRule(persistence=6, cooldown_seconds=3600, clear_after=2, min_confidence=0.0),
    "camera_blurred": KindRule(persistence=6, cooldown_seconds=3600, clear_after=2, min_confidence=0.0),
    "camera_occluded": KindRule(persistence=6, cooldown_seconds=3600, clear_after=2, min_confidence=0.0),
}

_RULE_LIMITS: dict[str, tuple[type, float, float]] = {
    "persistence": (int, 1, 1000),
    "clear_after": (int, 1, 1000),
    "cooldown_seconds": (float, 0, 7 * 24 * 3600),
    "min_confidence": (float, 0.0, 1.0),
}
# How long a still face keeps its mask verdict (``two_stage.VerdictReuse``): a minute at most, so that a mask
# pulled down is always seen within it.
_VERDICT_LIMITS: dict[str, tuple[type, float, float]] = {
    "min_iou": (float, 0.3, 1.0),
    "max_age_seconds": (float, 0.0, 60.0),
}
_QUALITY_KEYS = {f.name for f in dataclasses.fields(QualityThresholds)}
_MOTION_KEYS = {f.name for f in dataclasses.fields(MotionConfig)}


class TuningError(ValueError):
    """Invalid camera tuning; the message names the offending key."""


@dataclass(frozen=True)
class CameraSettings:
    """Everything the rules and the engine need to know about one camera."""

    camera_id: int
    enabled_kinds: frozenset[str]
    work_hours: tuple[WeeklyWindow, ...]
    regions_of_interest: tuple[Polygon, ...]
    rules: Mapping[str, KindRule]
    pipeline: PipelineConfig = field(default_factory=PipelineConfig)

    def rule(self, kind: str) -> KindRule:
        """The rule of ``kind`` (defaults merged with tuning)."""
        return self.rules[kind]


def _number(value: Any, key: str, kind: type, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TuningError(f"{key} must be a number")
    if kind is int and float(value) != int(value):
        raise TuningError(f"{key} must be a whole number")
    if not low <= value <= high:
        raise TuningError(f"{key} must be between {low:g} and {high:g}")
    return int(value) if kind is int else float(value)


def validate_tuning(tuning: Mapping[str, Any] | None) -> dict[str, Any]:
    """A normalised copy of ``tuning``; raises :class:`TuningError` for anything unknown or out of range."""
    tuning = dict(tuning or {})
    unknown = set(tuning) - {"rules", "motion", "quality", "verdicts"}
    if unknown:
        raise TuningError(f"unknown tuning section(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    rules = tuning.get("rules") or {}
    if not isinstance(rules, Mapping):
        raise TuningError("rules must be an object of kind -> settings")
    out_rules: dict[str, dict[str, Any]] = {}
    for kind, settings in rules.items():
        if kind not in ALL_KINDS:
            raise TuningError(f"rules.{kind}: unknown kind")
        if not isinstance(settings, Mapping):
            raise TuningError(f"rules.{kind} must be an object")
        bad = set(settings) - set(_RULE_LIMITS)
        if bad:
            raise TuningError(f"rules.{kind}: unknown setting(s) {', '.join(sorted(bad))}")
        out_rules[kind] = {key: _number(value, f"rules.{kind}.{key}", *_RULE_LIMITS[key])
                           for key, value in settings.items()}
    if out_rules:
        out["rules"] = out_rules
    verdicts = tuning.get("verdicts") or {}
    if not isinstance(verdicts, Mapping):
        raise TuningError("verdicts must be an object")
    bad = set(verdicts) - set(_VERDICT_LIMITS)
    if bad:
        raise TuningError(f"verdicts: unknown setting(s) {', '.join(sorted(bad))}")
    if verdicts:
        out["verdicts"] = {key: _number(value, f"verdicts.{key}", *_VERDICT_LIMITS[key])
                           for key, value in verdicts.items()}
    for section, known in (("motion", _MOTION_KEYS), ("quality", _QUALITY_KEYS)):
        values = tuning.get(section) or {}
        if not isinstance(values, Mapping):
            raise TuningError(f"{section} must be an object")
        bad = set(values) - known
        if bad:
            raise TuningError(f"{section}: unknown setting(s) {', '.join(sorted(bad))}")
        if values:
            out[section] = dict(values)
    try:
        MotionConfig.from_dict(out.get("motion"))
        _quality(out.get("quality"))
    except (TypeError, ValueError) as exc:
        raise TuningError(str(exc)) from exc
    return out


def _quality(values: Mapping[str, Any] | None) -> QualityThresholds:
    values = dict(values or {})
    for key in ("occlusion_grid", "frozen_clock_region"):
        if values.get(key) is not None:
            values[key] = tuple(values[key])
    return QualityThresholds(**values)


def _polygons(raw: Sequence[Any] | None) -> tuple[Polygon, ...]:
    polygons = []
    for index, points in enumerate(raw or ()):
        try:
            polygon = tuple((float(x), float(y)) for x, y in points)
        except (TypeError, ValueError) as exc:
            raise TuningError(f"regions_of_interest[{index}] must be a list of [x, y] points") from exc
        if len(polygon) < 3 or any(not 0.0 <= v <= 1.0 for point in polygon for v in point):
            raise TuningError(f"regions_of_interest[{index}] needs 3+ points with coordinates in [0, 1]")
        polygons.append(polygon)
    return tuple(polygons)


def camera_settings(camera_id: int, enabled_checks: Sequence[str] | None, work_hours: Any,
                    regions_of_interest: Any, tuning: Mapping[str, Any] | None) -> CameraSettings:
    """Build the settings of one camera from its row's JSON columns and its tuning."""
    tuning = validate_tuning(tuning)
    rules = dict(DEFAULT_RULES)
    for kind, overrides in tuning.get("rules", {}).items():
        rules[kind] = dataclasses.replace(rules[kind], **overrides)
    roi = _polygons(regions_of_interest)
    motion_values = dict(tuning.get("motion", {}))
    if roi and "roi_polygons" not in motion_values:
        # Motion outside the regions of interest should not wake the models either.
        motion_values["roi_polygons"] = [list(p) for p in roi]
    pipeline = PipelineConfig(quality=_quality(tuning.get("quality")), motion=MotionConfig.from_dict(motion_values),
                              verdicts=VerdictReuse(**tuning.get("verdicts", {})))
    try:
        windows = parse_windows(work_hours, label="work_hours")
    except ValueError as exc:
        raise TuningError(str(exc)) from exc
    return CameraSettings(camera_id=camera_id, enabled_kinds=frozenset(k for k in (enabled_checks or ())
                                                                     if k in ALL_KINDS),
                          work_hours=windows, regions_of_interest=roi, rules=rules, pipeline=pipeline)
