"""A kitchen camera offline during meal hours is a class-1 violation, raised once per outage.

Job ``risk.camera_outages`` (every minute) reads the cameras' health history (``camera_health_event``: one
row per change, the intervals uptime is computed from) over the last ``LOOKBACK`` and finds each outage: a
span in ``offline``. Outages separated by less than ``MERGE_GAP`` are one outage (a camera that comes back for
a moment and drops again is still the same failure; the worker's hysteresis already makes it slow to go
offline and quick to come back, ``workers/camera/camera_health.py``). An outage that overlaps a meal window of
the camera's canteen raises ``camera_offline_meal`` with the idempotency key camera + outage start, so a
repeated, concurrent or crashed-and-redone run raises it once; an ongoing outage is raised as soon as it
reaches a meal window. (The history read holds the camera's last change before the lookback, so an outage
that began earlier keeps its start; only merged outages flapping for longer than the lookback could split.)

Meal hours are the canteen's meal windows (``backend/records/meal_windows.py``); a canteen that configured
none has the default breakfast, lunch and dinner windows on weekdays.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.monitoring.camera_uptime import Window, health_changes
from backend.monitoring.models import HealthStatus
from backend.records.meal_windows import MealWindow, scheduled_windows, window_for
from backend.records.models import MEAL_LABELS, Meal
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.timeutil import SHANGHAI, as_utc, to_shanghai
from backend.violations.models import ViolationKind, ViolationSource
from backend.violations.services import RaisedViolation, raise_violation

LOOKBACK = timedelta(hours=24)
MERGE_GAP = timedelta(minutes=10)
DEFAULT_MEALS = (Meal.BREAKFAST, Meal.LUNCH, Meal.DINNER)


def outages(changes: list[tuple[datetime, str, str]], end: datetime) -> list[tuple[datetime, datetime]]:
    """``(start, end)`` of each outage in one camera's changes ``(at, from, to)``, oldest first; an outage still
    going on ends at ``end``. Outages less than ``MERGE_GAP`` apart are merged into the first."""
    spans: list[tuple[datetime, datetime]] = []
    start: datetime | None = None
    for at, _, to_status in changes:
        at = as_utc(at)
        if to_status == HealthStatus.OFFLINE and start is None:
            start = at
        elif to_status != HealthStatus.OFFLINE and start is not None:
            spans.append((start, at))
            start = None
    if start is not None:
        spans.append((start, as_utc(end)))
    merged: list[tuple[datetime, datetime]] = []
    for begin, finish in spans:
        if merged and begin - merged[-1][1] < MERGE_GAP:
            merged[-1] = (merged[-1][0], max(finish, merged[-1][1]))
        else:
            merged.append((begin, finish))
    return merged


def meal_windows(canteen: Canteen, day: date) -> list[MealWindow]:
    """The canteen's meal windows of a day; the default meals on weekdays when it configured none."""
    if canteen.meal_windows:
        return sorted(scheduled_windows(canteen, day).values(), key=lambda w: w.start)
    if day.weekday() >= 5:
        return []
    return [window_for(canteen, day, meal) for meal in DEFAULT_MEALS]


def first_meal_overlap(canteen: Canteen, start: datetime, end: datetime) -> tuple[datetime, MealWindow] | None:
    """The first moment of ``[start, end)`` inside a meal window, with that window; None if none overlaps."""
    day = to_shanghai(start).date()
    while day <= to_shanghai(end).date():
        for window in meal_windows(canteen, day):
            begin, finish = max(start, as_utc(window.start)), min(end, as_utc(window.end))
            if begin < finish:
                return begin, window
        day += timedelta(days=1)
    return None


def _describe(camera_name: str, start: datetime, window: MealWindow) -> str:
    meal = MEAL_LABELS.get(window.meal, window.meal)
    return (f"摄像头“{camera_name}”自{to_shanghai(start).strftime('%m月%d日 %H:%M')}起离线，"
            f"覆盖{meal}时段（{window.start.astimezone(SHANGHAI).strftime('%H:%M')}–"
            f"{window.end.astimezone(SHANGHAI).strftime('%H:%M')}），期间无法看到后厨。")


def raise_meal_outages(now: datetime) -> list[RaisedViolation]:
    """Raise ``camera_offline_meal`` for every outage of an enabled camera that reached meal hours in the last
    ``LOOKBACK`` (each violation in its own transaction; needs an app context)."""
    now = as_utc(now)
    window = Window([], [now - LOOKBACK, now], now)
    cameras = db.session.execute(select(Camera.id, Camera.name, KitchenArea.canteen_id)
                                 .join(KitchenArea, KitchenArea.id == Camera.area_id)
                                 .where(Camera.enabled.is_(True))).all()
    changes = health_changes([c.id for c in cameras], window)
    found: list[tuple[int, str, int, datetime, datetime, MealWindow]] = []
    canteens: dict[int, Canteen] = {}
    for camera_id, name, canteen_id in cameras:
        for start, end in outages(changes.get(camera_id, []), now):
            canteen = canteens.get(canteen_id) or canteens.setdefault(canteen_id, db.session.get(Canteen, canteen_id))
            overlap = first_meal_overlap(canteen, start, end)
            if overlap is not None:
                found.append((camera_id, name, canteen_id, start, overlap[0], overlap[1]))
    db.session.rollback()  # end the read: each violation below is its own transaction
    raised = []
    for camera_id, name, canteen_id, start, reached, meal in found:
        raised.append(raise_violation(
            canteen_id=canteen_id, camera_id=camera_id, kind=ViolationKind.CAMERA_OFFLINE_MEAL,
            source=ViolationSource.MONITORING, idempotency_key=f"camera-outage:cam{camera_id}:{start.isoformat()}",
            occurred_at=reached, description=_describe(name, start, meal),
            details={"outage_start": start.isoformat(), "meal": meal.meal}))
    return raised
