"""Request and response schemas of accompanied meals (陪餐; times shown in Asia/Shanghai)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Float, List, Nested
from apiflask.validators import Length, OneOf, Range

from backend.fields import Date, DateTime, Id, Integer, String
from backend.parent_meals.models import SignupStatus
from backend.records.schemas import MEALS

RATING = {"required": True, "validate": Range(1, 5)}


class SlotIn(Schema):
    """A meal of one of the school's canteens that parents may sign up to eat with the students."""

    canteen_id = Id(required=True)
    service_date = Date(required=True)
    meal = String(required=True, validate=OneOf(MEALS))
    capacity = Integer(required=True, validate=Range(1, 50))
    note = String(load_default=None, validate=Length(max=500), multiline=True)


class PeriodQuery(Schema):
    """A period of meal days (default: from today for 30 days for slots, the last 30 days for opinions)."""

    date_from = Date(load_default=None, data_key="from")
    date_to = Date(load_default=None, data_key="to")


class SchoolSignupQuery(PeriodQuery):
    """The school's sign-ups of a period (default: 30 days before and after today), optionally of one status."""

    status = String(load_default=None, validate=OneOf([s.value for s in SignupStatus]))


class SignupIn(Schema):
    """Sign up for a slot; ``note``: anything the school should know (optional)."""

    note = String(load_default=None, validate=Length(max=200), multiline=True)


class SignupDecisionIn(Schema):
    """The school's decision on a sign-up."""

    decision = String(required=True, validate=OneOf(["approve", "decline"]))
    note = String(load_default=None, validate=Length(max=200), multiline=True)


class RatingIn(Schema):
    """The parent's rating after the meal, 1 (poor) to 5 (very good), and a comment."""

    taste = Integer(**RATING, metadata={"description": "口味"})
    hygiene = Integer(**RATING, metadata={"description": "卫生"})
    portion = Integer(**RATING, metadata={"description": "分量与价格"})
    comment = String(load_default=None, validate=Length(max=500), multiline=True)


class AnswerIn(Schema):
    """The school's answer to a parent's opinion."""

    answer = String(required=True, validate=Length(2, 1000), multiline=True)


class SlotMealFields(Schema):
    """The meal a slot is for: the canteen, the day and the meal."""

    canteen_id = Integer()
    canteen_name = String()
    service_date = Date()
    meal = String()
    meal_label = String()


class SlotOut(SlotMealFields):
    """A slot: the meal, its places and whether sign-up is open (until the meal begins)."""

    id = Integer()
    school_id = Integer()
    meal_starts_at = DateTime()
    capacity = Integer()
    taken = Integer(metadata={"description": "places held by pending and approved sign-ups"})
    remaining = Integer()
    full = Boolean()
    open = Boolean()
    note = String(allow_none=True)


class SignupSlotOut(SlotOut):
    """The slot of a sign-up."""


class MySignupRefOut(Schema):
    """The caller's own sign-up on a slot (a sign-up's id and status)."""

    id = Integer()
    status = String()
    status_label = String()


class SlotListOut(SlotOut):
    """A slot of the list, with the caller's sign-up on it (null: none)."""

    my_signup = Nested(MySignupRefOut, allow_none=True)


class OpinionOut(Schema):
    """A parent's opinion of an accompanied meal and the school's answer; it names the capacity, never the person."""

    signup_id = Integer()
    role = String()
    role_label = String()
    taste = Integer()
    hygiene = Integer()
    portion = Integer()
    comment = String(allow_none=True)
    rated_at = DateTime()
    answer = String(allow_none=True)
    answered_at = DateTime(allow_none=True)


class SignupOut(MySignupRefOut):
    """A sign-up with its slot, the school's decision and, once rated, the opinion with the school's answer."""

    slot = Nested(SignupSlotOut)
    note = String(allow_none=True)
    created_at = DateTime()
    decided_at = DateTime(allow_none=True)
    decision_note = String(allow_none=True)
    can_rate = Boolean()
    opinion = Nested(OpinionOut, allow_none=True)


class SchoolSignupOut(SignupOut):
    """A sign-up as the school reads it: with who signed up."""

    name = String(allow_none=True)
    child_class = String(allow_none=True)


class PublicOpinionOut(OpinionOut, SlotMealFields):
    """An opinion with its meal."""


class DayOpinionOut(PublicOpinionOut):
    """An opinion in the day view (its JSON written by hand: the same fields, as text)."""

    service_date = String()
    rated_at = String()
    answered_at = String(allow_none=True)


class PeriodOut(Schema):
    """A period of days."""

    date_from = Date()
    date_to = Date()


class AveragesOut(Schema):
    """The average of each rated dimension (null without ratings)."""

    taste = Float(allow_none=True)
    hygiene = Float(allow_none=True)
    portion = Float(allow_none=True)


class DimensionOut(Schema):
    """A rated dimension and its label."""

    name = String()
    label = String()


class OpinionsOut(Schema):
    """The period's opinions of the school's accompanied meals (newest meal first) and their averages."""

    period = Nested(PeriodOut)
    rated = Integer()
    answered = Integer()
    averages = Nested(AveragesOut)
    dimensions = List(Nested(DimensionOut))
    opinions = List(Nested(PublicOpinionOut))


class TransparencyMealsOut(OpinionsOut):
    """The transparency page's part on accompanied meals: the period's opinions, answers and averages."""
