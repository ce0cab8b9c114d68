"""Camera health for the desk: each camera's state now, when it was last seen, and its uptime over 7 days.

The history is ``camera_health_event``: one row per change of a camera's health, written by the detection
worker (``workers/jobs/detection.py``, through :func:`backend.monitoring.services.record_health_change`).
Between two changes the status is the later one's ``from`` (= the earlier one's ``to``), so the rows are the
intervals and uptime is computed exactly from them:

- a camera is **online** in every status but ``offline`` and ``unknown`` (a frozen or blurred picture still
  arrives); time before its first change is ``unknown`` — nobody knows, so it counts neither way;
- ``uptime_percent`` = online seconds / known seconds over the window, ``null`` when nothing is known
  (a camera that never reported);
- the window is the last 7 Asia/Shanghai days, today included up to now; each day has its own percentage.

The online rate is the cameras online now over the enabled cameras (the overview shows it).
Three statements whatever the number of cameras: cameras, their monitors, their changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from backend.extensions import db
from backend.monitoring.models import (
    HEALTH_LABELS,
    HEALTH_PRIORITY,
    NOT_ONLINE,
    CameraHealthEvent,
    CameraMonitor,
    HealthStatus,
)
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.timeutil import SHANGHAI, as_utc, shanghai_iso, shanghai_midnight

WINDOW_DAYS = 7
# Offline first, then the other problems by importance, then not yet checked, then ok.
SORT_RANK = {status.value: rank for rank, status in enumerate((*HEALTH_PRIORITY, HealthStatus.UNKNOWN,
                                                               HealthStatus.OK))}


def is_online(status: str) -> bool:
    """Whether a camera in this health status delivers pictures."""
    return status not in NOT_ONLINE


@dataclass(frozen=True)
class Window:
    """The Asia/Shanghai days of the report and its end (now)."""

    days: list[date]
    starts: list[datetime]  # UTC start of each day, plus the end of the window last
    end: datetime

    @classmethod
    def ending(cls, now: datetime, days: int = WINDOW_DAYS) -> Window:
        """The last ``days`` local days, today included up to ``now``."""
        now = as_utc(now)
        today = now.astimezone(SHANGHAI).date()
        local_days = [today - timedelta(days=days - 1 - i) for i in range(days)]
        starts = [datetime.combine(d, datetime.min.time(), SHANGHAI).astimezone(now.tzinfo) for d in local_days]
        return cls(local_days, [*starts, now], now)

    @property
    def start(self) -> datetime:
        """The first instant of the window."""
        return self.starts[0]


def status_intervals(changes: list[tuple[datetime, str, str]], window: Window) -> list[tuple[datetime, datetime, str]]:
    """``(from, to, status)`` spans covering the window, from one camera's changes ``(at, from, to)``.

    ``changes`` holds the camera's last change before the window (if any) and every change inside it, oldest
    first. Before the first known change the status is that change's ``from`` status (``unknown`` for a new
    camera); with no change at all, ``unknown`` throughout.
    """
    spans = []
    cursor, status = window.start, (changes[0][1] if changes else HealthStatus.UNKNOWN.value)
    for at, _, to_status in changes:
        at = as_utc(at)
        if at > cursor:
            spans.append((cursor, min(at, window.end), status))
            cursor = at
        status = to_status
    if cursor < window.end:
        spans.append((cursor, window.end, status))
    return [(a, b, s) for a, b, s in spans if b > a]


def _percent(online: float, known: float) -> float | None:
    return None if known <= 0 else round(100 * online / known, 1)


def uptime(spans: list[tuple[datetime, datetime, str]], window: Window) -> dict[str, Any]:
    """Online and known seconds of the whole window and of each day, as percentages."""
    online = [0.0] * len(window.days)
    known = [0.0] * len(window.days)
    for begin, end, status in spans:
        if status == HealthStatus.UNKNOWN:
            continue
        for index in range(len(window.days)):  # split the span at local midnights
            overlap = (min(end, window.starts[index + 1]) - max(begin, window.starts[index])).total_seconds()
            if overlap > 0:
                known[index] += overlap
                if is_online(status):
                    online[index] += overlap
    return {"uptime_percent": _percent(sum(online), sum(known)),
            "online_seconds": round(sum(online)), "known_seconds": round(sum(known)),
            "days": [{"date": day.isoformat(), "uptime_percent": _percent(online[i], known[i])}
                     for i, day in enumerate(window.days)]}


def _cameras(scope: Any, school_id: int | None, canteen_id: int | None) -> list[Any]:
    query = (select(Camera.id, Camera.name, Camera.enabled, KitchenArea.name.label("area_name"),
                    Canteen.id.label("canteen_id"), Canteen.name.label("canteen_name"), School.id.label("school_id"),
                    School.name.label("school_name"))
             .join(KitchenArea, KitchenArea.id == Camera.area_id).join(Canteen, Canteen.id == KitchenArea.canteen_id)
             .join(School, School.id == Canteen.school_id).where(scope))
    if school_id is not None:
        query = query.where(School.id == school_id)
    if canteen_id is not None:
        query = query.where(Canteen.id == canteen_id)
    return list(db.session.execute(query.order_by(School.id, Canteen.id, Camera.id)).all())


def health_changes(camera_ids: list[int], window: Window) -> dict[int, list[tuple[datetime, str, str]]]:
    """Each camera's changes inside the window and its last change before it (index camera, at)."""
    before = aliased(CameraHealthEvent)
    last_before = (select(func.max(before.at)).where(before.camera_id == CameraHealthEvent.camera_id,
                                                     before.at < window.start).scalar_subquery())
    rows = db.session.execute(
        select(CameraHealthEvent.camera_id, CameraHealthEvent.at, CameraHealthEvent.from_status,
               CameraHealthEvent.to_status)
        .where(CameraHealthEvent.camera_id.in_(camera_ids), CameraHealthEvent.at <= window.end,
               or_(CameraHealthEvent.at >= window.start, CameraHealthEvent.at == last_before))
        .order_by(CameraHealthEvent.camera_id, CameraHealthEvent.at, CameraHealthEvent.id)).all()
    found: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    for camera_id, at, from_status, to_status in rows:
        found[camera_id].append((at, from_status, to_status))
    return found


def _last_seen(monitor: CameraMonitor | None) -> datetime | None:
    """The last sample with a picture: the latest sample while online, the start of the outage otherwise."""
    if monitor is None or monitor.health_status == HealthStatus.UNKNOWN:
        return None
    if monitor.health_status == HealthStatus.OFFLINE:
        return monitor.health_since
    return monitor.last_sample_at


def camera_health(scope: Any, now: datetime, *, school_id: int | None = None,
                  canteen_id: int | None = None) -> dict[str, Any]:
    """The health report of the cameras matching ``scope`` (a condition on School), offline ones first."""
    window = Window.ending(now)
    cameras = _cameras(scope, school_id, canteen_id)
    ids = [c.id for c in cameras]
    monitors = {m.camera_id: m for m in db.session.scalars(
        select(CameraMonitor).where(CameraMonitor.camera_id.in_(ids)))}
    changes = health_changes(ids, window)
    items = []
    for camera in cameras:
        monitor = monitors.get(camera.id)
        status = monitor.health_status if monitor is not None else HealthStatus.UNKNOWN.value
        items.append({
            "id": camera.id, "name": camera.name, "enabled": camera.enabled, "area_name": camera.area_name,
            "canteen_id": camera.canteen_id, "canteen_name": camera.canteen_name,
            "school_id": camera.school_id, "school_name": camera.school_name,
            "status": status, "status_label": HEALTH_LABELS.get(status, status), "online": is_online(status),
            "status_since": shanghai_iso(monitor.health_since) if monitor is not None else None,
            "last_seen_at": shanghai_iso(_last_seen(monitor)),
            **uptime(status_intervals(changes.get(camera.id, []), window), window)})
    items.sort(key=lambda c: (not c["enabled"], SORT_RANK.get(c["status"], len(SORT_RANK)), c["school_id"], c["id"]))
    enabled = [c for c in items if c["enabled"]]
    online = sum(1 for c in enabled if c["online"])
    return {"generated_at": shanghai_iso(window.end),
            "window": {"start": shanghai_iso(window.start), "end": shanghai_iso(window.end),
                       "days": [d.isoformat() for d in window.days]},
            "online_rate": {"online": online, "enabled": len(enabled), "percent": _percent(online, len(enabled))},
            "cameras": items}


def school_uptimes(scope: Any, now: datetime, periods: tuple[int, ...] = (7, 30)) -> dict[int, dict[str, Any]]:
    """Each school's uptime over the last ``periods`` days (enabled cameras together: online seconds over known
    seconds), keyed by school id: ``{"name", "cameras", "uptime_7d", "uptime_30d", ...}``, ``None`` when
    nothing is known. One history read for the longest period."""
    windows = {days: Window.ending(now, days) for days in periods}
    cameras = [c for c in _cameras(scope, None, None) if c.enabled]
    changes = health_changes([c.id for c in cameras], windows[max(periods)])
    totals: dict[int, dict[str, Any]] = {}
    for camera in cameras:
        entry = totals.setdefault(camera.school_id, {"school_id": camera.school_id, "school_name": camera.school_name,
                                                     "cameras": 0, **{days: [0, 0] for days in periods}})
        entry["cameras"] += 1
        for days, window in windows.items():
            # The longest window's changes hold this one's: earlier changes only set the status at its start.
            figures = uptime(status_intervals(changes.get(camera.id, []), window), window)
            entry[days][0] += figures["online_seconds"]
            entry[days][1] += figures["known_seconds"]
    return {school_id: {"school_id": entry["school_id"], "school_name": entry["school_name"],
                        "cameras": entry["cameras"],
                        **{f"uptime_{days}d": _percent(*entry[days]) for days in periods}}
            for school_id, entry in totals.items()}


def school_day_seconds(scope: Any, day: date) -> dict[int, tuple[int, int]]:
    """Each school's enabled cameras' online and known seconds over one whole local ``day``, keyed by school id
    (the food-safety index's daily uptime, ``backend/risk/index.py``)."""
    start, end = shanghai_midnight(day), shanghai_midnight(day + timedelta(days=1))
    window = Window([day], [start, end], end)
    cameras = [c for c in _cameras(scope, None, None) if c.enabled]
    changes = health_changes([c.id for c in cameras], window)
    totals: dict[int, tuple[int, int]] = {}
    for camera in cameras:
        figures = uptime(status_intervals(changes.get(camera.id, []), window), window)
        online, known = totals.get(camera.school_id, (0, 0))
        totals[camera.school_id] = (online + figures["online_seconds"], known + figures["known_seconds"])
    return totals


def school_scope(school_id: int) -> Any:
    """The cameras of one school."""
    return School.id == school_id


def region_scope(region: Region) -> Any:
    """The cameras of every school in a region and the regions below it."""
    return School.region_id.in_(select(Region.id).where(Region.path.startswith(region.path)))
