"""Tables of parents' accompanied meals (家长陪餐).

The school publishes a slot (a canteen's meal on a day, with a capacity); parents and committee members of the
school sign up (one sign-up per person and slot); the principal or staff approve or decline; after the meal an
approved parent rates it and comments, and the school answers that opinion. ``revision`` grows with every
change of a sign-up: the parents' day view, which shows the ratings and answers, is cached against the sum of a
school's revisions (a time would not do: two changes may share a clock reading).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import IntPK, SchoolRef, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class SignupStatus(LabelledStrEnum):
    """Where a sign-up stands: waiting for the school, approved, or declined."""

    PENDING = "pending", "待审核"
    APPROVED = "approved", "已通过"
    DECLINED = "declined", "未通过"


SIGNUP_LABELS: dict[str, str] = SignupStatus.labels()
# The statuses that take a place of the slot's capacity.
HOLDS_A_PLACE = (SignupStatus.PENDING, SignupStatus.APPROVED)
# The rated dimensions of a meal, 1 (poor) to 5 (very good).
RATING_DIMENSIONS: dict[str, str] = {"taste": "口味", "hygiene": "卫生", "portion": "分量与价格"}


class ParentMealSlot(db.Model):
    """A meal of a canteen on a day that parents may sign up to eat with the students."""

    __tablename__ = "parent_meal_slot"
    __table_args__ = (UniqueConstraint("canteen_id", "service_date", "meal"),)

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef]
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"))
    service_date: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[UserRef | None]
    created_at: Mapped[datetime]


class ParentMealSignup(db.Model):
    """One person's sign-up to a slot, the school's decision, their rating and the school's answer."""

    __tablename__ = "parent_meal_signup"
    __table_args__ = (UniqueConstraint("slot_id", "user_id"),)

    id: Mapped[IntPK]
    slot_id: Mapped[int] = mapped_column(ForeignKey("parent_meal_slot.id"), index=True)
    school_id: Mapped[SchoolRef]
    user_id: Mapped[UserRef]
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[UserRef | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    taste: Mapped[int | None] = mapped_column(Integer)
    hygiene: Mapped[int | None] = mapped_column(Integer)
    portion: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]
    answered_by_id: Mapped[UserRef | None]
    revision: Mapped[int] = mapped_column(Integer)
