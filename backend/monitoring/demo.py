"""Seven days of camera health for the demo's cameras, so the desk's 摄像头 page has a history to show.

Each camera came online eight days ago; some had an outage on one of the last days; the first camera is
offline now and the second one's picture is blurred. Seeded once: a camera that already has a history
(from an earlier seed or the detection worker) is left alone. The running demo's worker then carries the
history on through the same writer, :func:`backend.monitoring.services.record_health_change`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.monitoring.models import CameraHealthEvent, CameraMonitor, HealthStatus
from backend.monitoring.services import record_health_change
from backend.schools.models import Camera
from backend.timeutil import utcnow

OK, OFFLINE, BLURRED = HealthStatus.OK.value, HealthStatus.OFFLINE.value, HealthStatus.BLURRED.value


def _history(index: int, now: datetime) -> list[tuple[datetime, str]]:
    """``(at, new status)`` changes of the demo camera at ``index`` (oldest first)."""
    changes = [(now - timedelta(days=8), OK)]
    if index % 2 == 0:  # an outage of a few hours on one of the last days
        start = now - timedelta(days=1 + index % 5, hours=3)
        changes += [(start, OFFLINE), (start + timedelta(hours=2 + index % 4), OK)]
    if index == 0:
        changes.append((now - timedelta(hours=2), OFFLINE))
    elif index == 1:
        changes.append((now - timedelta(hours=5), BLURRED))
    return changes


def seed_demo_camera_health(now: datetime | None = None) -> int:
    """Give every demo camera without a health history one (idempotent); returns how many were seeded."""
    now = now or utcnow()
    known = set(db.session.scalars(select(CameraHealthEvent.camera_id).distinct()))
    seeded = 0
    for index, camera_id in enumerate(db.session.scalars(select(Camera.id).order_by(Camera.id))):
        if camera_id in known:
            continue
        status = HealthStatus.UNKNOWN.value
        for at, new_status in _history(index, now):
            record_health_change(camera_id, at, status, new_status, [] if new_status == OK else [new_status])
            since, status = at, new_status
        monitor = db.session.get(CameraMonitor, camera_id) or CameraMonitor(
            camera_id=camera_id, tuning={}, engine_state={}, rule_state={}, last_result={})
        monitor.health_status, monitor.health_since = status, since
        monitor.last_sample_at = now - timedelta(seconds=30)
        db.session.add(monitor)
        seeded += 1
    db.session.commit()
    return seeded
