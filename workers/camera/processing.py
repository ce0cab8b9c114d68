"""One sample of one camera through engine, health and rules, without any I/O.

Shared by the scheduled sample task (which adds capture, the database and evidence around it) and
``flask detect-video`` (which feeds frames of a file and prints the events).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from backend.timeutil import SHANGHAI
from backend.timewindows import is_open
from workers.camera import camera_health, detection_rules
from workers.camera.detection import CameraState, Detector, SampleResult, analyse_sample
from workers.camera.tuning import CameraSettings

#: Health statuses whose pictures raise no AI violation (the picture is gone, stale, covered or black).
UNUSABLE_HEALTH: frozenset[str] = frozenset({"offline", "frozen", "occluded", "too_dark"})

#: Chooses the detectors for a sample from the camera settings and whether the kitchen is working.
DetectorPlan = Callable[[CameraSettings, bool], Sequence[Detector]]


@dataclass
class SampleOutcome:
    """What one sample did: engine result, health change, rule observations and events to raise."""

    at: float
    working: bool
    result: SampleResult
    health_status: str
    health_change: camera_health.HealthChange | None
    observations: dict[str, detection_rules.Observation]
    events: list[detection_rules.RuleEvent]

    def summary(self) -> dict[str, Any]:
        """Small JSON record of the sample (``camera_monitor.last_result``)."""
        return {
            "at": detection_rules.iso(self.at),
            "working": self.working,
            "health": self.health_status,
            "problems": sorted(p.value for p in self.result.quality.problems),
            "skip_reason": self.result.skip_reason,
            "ran_models": self.result.ran_models,
            "detections": len(self.result.detections),
            "seen": sorted(k for k, o in self.observations.items() if o.present),
            "events": [e.kind for e in self.events],
            "timings_ms": {k: round(v, 1) for k, v in self.result.timings_ms.items()},
        }


def process_sample(frame: np.ndarray | None, at: float, settings: CameraSettings, engine_state: CameraState,
                   rule_state: dict[str, Any], health_status: str, plan: DetectorPlan) -> SampleOutcome:
    """Analyse ``frame`` taken at ``at`` (epoch seconds); ``engine_state`` and ``rule_state`` change in place."""
    moment = datetime.fromtimestamp(at, UTC)
    working = is_open(settings.work_hours, moment)
    detectors = plan(settings, working)
    # The camera's normal picture is learnt per local hour: a kitchen dark at 23:00 every night is normal.
    hour = moment.astimezone(SHANGHAI).hour
    result = analyse_sample(frame, engine_state, settings.pipeline, detectors, now=at, hour=hour,
                            expect_lit=working)
    change = camera_health.update(rule_state.setdefault("health", {}), health_status, result.quality)
    status = change.to_status if change else health_status
    if status in UNUSABLE_HEALTH and not (result.skip_reason or "").startswith("quality:"):
        # The camera is judged unusable until enough good samples say otherwise: what the models saw in this
        # picture raises nothing (the rules read a quality skip as "could not tell").
        result.skip_reason = f"quality:health_{status}"
    size = (frame.shape[1], frame.shape[0]) if frame is not None else None
    observations = detection_rules.observe(result, settings, moment, size)
    events = detection_rules.apply(rule_state, settings, observations, at)
    return SampleOutcome(at, working, result, status, change, observations, events)
