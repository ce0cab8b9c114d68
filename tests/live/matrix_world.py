"""What the permission matrix needs from live view: a recording of every school, and live windows that are
open whenever the matrix runs (so a parent's answer depends on permissions, not on the time of day)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backend.extensions import db
from backend.live.models import RecordingSegment, SegmentStatus
from backend.schools.models import Canteen
from backend.timeutil import utcnow

ALL_DAY = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


def add_live_world(ids: dict[str, dict]) -> None:
    """Add ``recording_id`` to each school's ids; open the live windows of every canteen all day."""
    now = utcnow()
    for key, values in ids.items():
        for canteen in db.session.scalars(sa.select(Canteen).where(Canteen.school_id == values["school_id"])):
            canteen.live_windows = ALL_DAY
        segment = RecordingSegment(camera_id=values["camera_id"], school_id=values["school_id"],
                                   source_path=f"/matrix/{key}.flv", local_present=False,
                                   status=SegmentStatus.STORED.value, started_at=now - timedelta(minutes=10),
                                   ended_at=now - timedelta(minutes=5), duration_seconds=300.0, size_bytes=1,
                                   object_key=f"recordings/matrix/{key}.mp4", attempts=0)
        db.session.add(segment)
        db.session.flush()
        values["recording_id"] = segment.id
    db.session.commit()
