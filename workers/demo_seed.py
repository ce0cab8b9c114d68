"""Detection settings of the demo seed (called by ``flask seed-demo``).

The sample rooms (留样间) are entered only in the half hour after each meal window to put the retained
samples away; at any other time a person there is ``person_after_hours``. Looping the pedestrian demo
video, these cameras raise real violations from real detections (HOG people, CenterFace faces).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from backend.extensions import db
from backend.schools.models import AreaKind, Camera, Canteen, KitchenArea

AFTER_MEAL_MINUTES = 30


def _after_meals(canteen: Canteen) -> list[dict[str, object]]:
    windows = []
    for meal in canteen.meal_windows or []:
        end = datetime.strptime(str(meal["end"]), "%H:%M")
        until = min(end + timedelta(minutes=AFTER_MEAL_MINUTES), end.replace(hour=23, minute=59))
        windows.append({"weekday": meal["weekday"], "start": end.strftime("%H:%M"), "end": until.strftime("%H:%M")})
    return windows


def configure_demo_cameras() -> int:
    """Give every demo sample-room camera its after-meal work hours (idempotent); returns how many."""
    rows = db.session.execute(
        select(Camera, Canteen).join(KitchenArea, KitchenArea.id == Camera.area_id)
        .join(Canteen, Canteen.id == KitchenArea.canteen_id)
        .where(KitchenArea.kind == AreaKind.SAMPLE_ROOM)).all()
    for camera, canteen in rows:
        camera.work_hours = _after_meals(canteen)
    db.session.flush()
    return len(rows)
