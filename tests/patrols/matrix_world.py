"""A patrol round for the permission matrix's ``world``: one per key, over that school's canteen, started by the
region's regulator (only a round's starter records on it)."""

from __future__ import annotations

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.patrols.models import PatrolRound, PatrolStatus
from backend.schools.models import Canteen, School
from backend.timeutil import utcnow


def add_patrol_world(ids: dict[str, dict[str, object]]) -> None:
    """Add patrol_id to each key."""
    regulator = db.session.scalar(sa.select(User).where(User.openid == "demo-regulator"))
    for values in ids.values():
        school = db.session.get(School, values["school_id"])
        canteen = db.session.scalar(sa.select(Canteen.id).where(Canteen.school_id == school.id))
        patrol = PatrolRound(region_id=school.region_id, title="视频巡查", canteen_ids=[canteen],
                             status=PatrolStatus.ACTIVE, created_by_id=regulator.id, started_at=utcnow())
        db.session.add(patrol)
        db.session.flush()
        values["patrol_id"] = patrol.id
    db.session.commit()
