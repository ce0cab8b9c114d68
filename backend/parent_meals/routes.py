"""HTTP routes of accompanied meals (家长陪餐): the school publishes slots, decides sign-ups and answers opinions;
parents and committee members sign up and rate the meal after eating it; every member reads the opinions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from apiflask import APIBlueprint

from backend.errors import ApiError
from backend.extensions import db
from backend.integrations.wechat_app import wechat_gateway
from backend.parent_meals import schemas, services, views
from backend.parent_meals.models import ParentMealSignup, ParentMealSlot
from backend.permissions import Action, current_principal, current_school, rule
from backend.records.meal_windows import shanghai_today
from backend.timeutil import utcnow

bp = APIBlueprint("parent_meals", __name__, tag="家长陪餐")

MAX_PERIOD_DAYS = 366


def _period(query: dict[str, Any], days_before: int, days_after: int) -> tuple[date, date]:
    """The query's period, defaulting around today; at most a year, and not reversed."""
    today = shanghai_today(utcnow())
    first = query["date_from"] or today - timedelta(days=days_before)
    last = query["date_to"] or first + timedelta(days=days_before + days_after)
    if last < first:
        raise ApiError(422, "period_reversed", "结束日期不能早于开始日期", {"fields": {"to": ["早于开始日期"]}})
    if (last - first).days > MAX_PERIOD_DAYS:
        raise ApiError(422, "period_too_long", "查询时段最长一年", {"fields": {"to": ["超过一年"]}})
    return first, last


@bp.get("/schools/<id:school_id>/parent-meal-slots")
@rule(Action.PARENT_MEAL_READ, scope="school")
@bp.input(schemas.PeriodQuery, location="query", arg_name="query")
@bp.output(schemas.SlotListOut(many=True))
def list_slots(school_id: int, query: dict[str, Any]) -> Any:
    """The school's 陪餐 slots of the period (default: the next 30 days), with the places left and the
    caller's own sign-up on each."""
    first, last = _period(query, 0, 30)
    return views.slots(current_school(), first, last, utcnow(), current_principal().user_id)


@bp.post("/schools/<id:school_id>/parent-meal-slots")
@rule(Action.PARENT_MEAL_MANAGE, scope="school")
@bp.input(schemas.SlotIn, arg_name="body")
@bp.output(schemas.SlotOut, status_code=201)
def publish_slot(school_id: int, body: dict[str, Any]) -> Any:
    """Publish a meal parents may sign up for (audited); its meal must not have begun (422 ``slot_in_past``),
    one per canteen, day and meal (409 ``slot_exists``)."""
    now = utcnow()
    slot = services.publish_slot(current_principal(), current_school(), now=now, **body)
    return views.slot_view(slot, now)


@bp.get("/schools/<id:school_id>/parent-meal-signups")
@rule(Action.PARENT_MEAL_MANAGE, scope="school")
@bp.input(schemas.SchoolSignupQuery, location="query", arg_name="query")
@bp.output(schemas.SchoolSignupOut(many=True))
def school_signups(school_id: int, query: dict[str, Any]) -> Any:
    """The school's sign-ups of the period (default: 30 days either side of today), with who signed up, the
    decision, the opinion and the answer."""
    first, last = _period(query, 30, 30)
    return views.school_signups(current_school(), first, last, query["status"], utcnow())


@bp.get("/schools/<id:school_id>/parent-meal-signups/mine")
@rule(Action.PARENT_MEAL_JOIN, scope="school")
@bp.output(schemas.SignupOut(many=True))
def my_signups(school_id: int) -> Any:
    """The caller's sign-ups at the school (newest meal first): the decision, whether it may be rated now, the
    opinion and the school's answer."""
    return views.my_signups(current_school(), current_principal().user_id, utcnow())


@bp.get("/schools/<id:school_id>/parent-meal-opinions")
@rule(Action.PARENT_MEAL_READ, scope="school")
@bp.input(schemas.PeriodQuery, location="query", arg_name="query")
@bp.output(schemas.OpinionsOut)
def opinions(school_id: int, query: dict[str, Any]) -> Any:
    """Parents' opinions of the school's accompanied meals (default: the last 30 days) with the school's answers
    and the averages; no opinion names the parent."""
    first, last = _period(query, 30, 0)
    return views.opinions(current_school(), first, last)


@bp.post("/parent-meal-slots/<id:slot_id>/signups")
@rule(Action.PARENT_MEAL_JOIN, scope="parent_meal_slot")
@bp.input(schemas.SignupIn, arg_name="body")
@bp.output(schemas.SignupOut, status_code=201)
def sign_up(slot_id: int, body: dict[str, Any]) -> Any:
    """Sign up for the slot (201); asking again answers the same sign-up (200). A full slot answers 409
    ``slot_full``, one whose meal began 409 ``slot_closed``."""
    now = utcnow()
    signup, created = services.sign_up(current_principal(), current_school(), db.session.get(ParentMealSlot, slot_id),
                                       note=body["note"], now=now)
    return views.signup_view(signup, now), 201 if created else 200


@bp.post("/parent-meal-signups/<id:signup_id>/decision")
@rule(Action.PARENT_MEAL_MANAGE, scope="parent_meal_signup")
@bp.input(schemas.SignupDecisionIn, arg_name="body")
@bp.output(schemas.SchoolSignupOut)
def decide(signup_id: int, body: dict[str, Any]) -> Any:
    """Approve or decline a sign-up (audited); approving a declined one needs a free place (409 ``slot_full``)."""
    now = utcnow()
    signup = services.decide(current_principal(), db.session.get(ParentMealSignup, signup_id),
                             approve=body["decision"] == "approve", note=body["note"], now=now)
    return views.signup_for_school(signup, now)


@bp.post("/parent-meal-signups/<id:signup_id>/rating")
@rule(Action.PARENT_MEAL_JOIN, scope="parent_meal_signup")
@bp.input(schemas.RatingIn, arg_name="body")
@bp.output(schemas.SignupOut)
def rate(signup_id: int, body: dict[str, Any]) -> Any:
    """Rate the meal (taste, hygiene, portion and price: 1–5) and comment, once the meal began (422
    ``meal_not_served_yet`` before); only the approved sign-up's author."""
    now = utcnow()
    signup = services.rate(current_principal(), current_school(), db.session.get(ParentMealSignup, signup_id),
                           now=now, gateway=wechat_gateway(), **body)
    return views.signup_view(signup, now)


@bp.post("/parent-meal-signups/<id:signup_id>/answer")
@rule(Action.PARENT_MEAL_MANAGE, scope="parent_meal_signup")
@bp.input(schemas.AnswerIn, arg_name="body")
@bp.output(schemas.SchoolSignupOut)
def answer(signup_id: int, body: dict[str, Any]) -> Any:
    """The school answers a parent's opinion (audited); shown with it in the day view and the opinions."""
    now = utcnow()
    signup = services.answer(current_principal(), db.session.get(ParentMealSignup, signup_id), text=body["answer"],
                             now=now)
    return views.signup_for_school(signup, now)
