"""Objects of the monitoring feature for the permission matrix's ``world``: a raised threshold on each key's camera."""

from __future__ import annotations

from datetime import timedelta

from backend.extensions import db
from backend.monitoring.models import CameraTuningChange
from backend.timeutil import utcnow


def add_monitoring_world(ids: dict[str, dict[str, object]]) -> None:
    """Add change_id to each key: a threshold raise of no_mask on the key's camera, not reverted."""
    for values in ids.values():
        change = CameraTuningChange(camera_id=values["camera_id"], kind="no_mask", setting="min_confidence",
                                    old_value=0.5, new_value=0.55, reason="false_alarms", verdicts=20,
                                    false_positives=12, at=utcnow() - timedelta(hours=1))
        db.session.add(change)
        db.session.flush()
        values["change_id"] = change.id
    db.session.commit()
