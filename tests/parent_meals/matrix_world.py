"""Objects of 家长陪餐 for the permission matrix's ``world``: a slot a week ahead and a sign-up in each key's school."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from backend.accounts.models import User
from backend.extensions import db
from backend.parent_meals.models import ParentMealSignup, ParentMealSlot
from backend.records.meal_windows import shanghai_today
from backend.timeutil import utcnow


def add_parent_meal_world(ids: dict[str, dict[str, object]]) -> None:
    """Add slot_id and signup_id to each key: next week's lunch of its canteen, and a pending sign-up of the
    key's target user (so a parent of the school never meets their own sign-up: rating it is refused by data)."""
    now = utcnow()
    for values in ids.values():
        slot = ParentMealSlot(school_id=values["school_id"], canteen_id=values["canteen_id"],
                              service_date=shanghai_today(now) + timedelta(days=7), meal="lunch", capacity=50,
                              created_at=now)
        db.session.add(slot)
        db.session.flush()
        user = db.session.scalar(select(User).where(User.id == values["user_id"]))
        signup = ParentMealSignup(slot_id=slot.id, school_id=slot.school_id, user_id=user.id, role="parent",
                                  status="pending", created_at=now, revision=1)
        db.session.add(signup)
        db.session.flush()
        values["slot_id"], values["signup_id"] = slot.id, signup.id
    db.session.commit()
