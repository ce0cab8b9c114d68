"""Shared helpers of the risk tests: a fixed clock, demo users' ids and the notices they were sent."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from backend.accounts.models import User
from backend.extensions import db
from backend.notices.models import Notice

# Monday 30 November 2026, 10:00 in Shanghai: a school day (the demo canteens serve lunch 11:30-12:30).
MONDAY_10 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
COUNTY, CITY, PROVINCE = 3, 2, 1  # the demo's region chain


def recipients(violation_id: int, purpose: str) -> set[str]:
    """The openids of the users sent notices of ``purpose`` about a violation."""
    return set(db.session.scalars(sa.select(User.openid).join(Notice, Notice.user_id == User.id)
                                  .where(Notice.subject_id == violation_id, Notice.purpose == purpose)))


def user_id(openid: str) -> int:
    """A demo user's id."""
    return db.session.scalar(sa.select(User.id).where(User.openid == openid))
