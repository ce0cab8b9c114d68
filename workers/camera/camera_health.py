"""Camera health: a small state machine over the per-sample quality diagnosis.

The status is ``ok`` or the most important problem of the picture. It changes only after the new status
was seen in enough consecutive samples (hysteresis), so a borderline picture does not flap, and each change
is reported once, for the worker to record. The counts are asymmetric because an outage is a regulated fact
(a class-1 violation in meal hours, ``backend/risk/camera_outages.py``): a camera degrades to ``offline``
slowly (``OFFLINE_ENTER_SAMPLES``: a reboot or one lost frame is no outage) and recovers from it fast
(``RECOVER_SAMPLES``); any other change takes ``enter_samples``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend.monitoring.models import HEALTH_PRIORITY, HealthStatus
from workers.camera.detection import QualityReport


@dataclass(frozen=True)
class HealthChange:
    """A change of status to record."""

    from_status: str
    to_status: str
    problems: list[str]
    metrics: dict[str, float]


def status_of(report: QualityReport) -> HealthStatus:
    """``ok`` or the most important problem in the report."""
    values = {p.value for p in report.problems}
    for status in HEALTH_PRIORITY:  # most important first
        if status.value in values:
            return status
    return HealthStatus.OK


# At the default 5 s a sample: offline after half a minute without a picture, back after two good samples.
OFFLINE_ENTER_SAMPLES = 6
RECOVER_SAMPLES = 2


def samples_needed(current: str, observed: str, enter_samples: int = 2) -> int:
    """Consecutive samples of ``observed`` that move a camera from ``current`` to it."""
    if observed == HealthStatus.OFFLINE:
        return OFFLINE_ENTER_SAMPLES
    if current == HealthStatus.OFFLINE:
        return RECOVER_SAMPLES
    return enter_samples


def update(state: dict[str, Any], current: str, report: QualityReport, enter_samples: int = 2
           ) -> HealthChange | None:
    """Feed one sample's report; returns the change when the status changes now, else None.

    ``state`` (``rule_state["health"]``) keeps the candidate status and how many samples in a row showed
    it. The first sample of a camera (``current`` unknown) sets the status at once.
    """
    observed = status_of(report)
    if observed.value == current:
        state.pop("candidate", None)
        state.pop("count", None)
        return None
    if state.get("candidate") == observed.value:
        state["count"] = int(state.get("count", 0)) + 1
    else:
        state["candidate"], state["count"] = observed.value, 1
    if current != HealthStatus.UNKNOWN and state["count"] < samples_needed(current, observed.value, enter_samples):
        return None
    state.pop("candidate", None)
    state.pop("count", None)
    return HealthChange(current, observed.value, sorted(p.value for p in report.problems),
                        {k: round(float(v), 4) for k, v in report.metrics.items()})
