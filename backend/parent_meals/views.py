"""Reading accompanied meals (陪餐): the slots a school publishes, a parent's own sign-ups, the school's list of
sign-ups, and the opinions (ratings, comments and the school's answers) every member may read.

The opinions that parents read never name the parent: only their capacity (家长 or 家委会成员). The school's
own list names the person (their binding's name and child's class), because the school decides who comes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select

from backend.accounts.models import ROLE_LABELS
from backend.accounts.people import Person, people_in_school
from backend.extensions import db
from backend.parent_meals.models import (
    HOLDS_A_PLACE,
    RATING_DIMENSIONS,
    SIGNUP_LABELS,
    ParentMealSignup,
    ParentMealSlot,
    SignupStatus,
)
from backend.records.meal_windows import window_for
from backend.records.models import MEAL_LABELS, MEAL_ORDER
from backend.schools.models import Canteen, School
from backend.timeutil import shanghai_iso


def _slot_rows(condition: Any) -> list[tuple[ParentMealSlot, Canteen]]:
    return [(slot, canteen) for slot, canteen in db.session.execute(
        select(ParentMealSlot, Canteen).join(Canteen, Canteen.id == ParentMealSlot.canteen_id).where(condition)
        .order_by(ParentMealSlot.service_date, ParentMealSlot.canteen_id, ParentMealSlot.id)).all()]


def _taken(slot_ids: list[int]) -> dict[int, int]:
    if not slot_ids:
        return {}
    return dict(db.session.execute(
        select(ParentMealSignup.slot_id, func.count()).where(ParentMealSignup.slot_id.in_(slot_ids),
                                                             ParentMealSignup.status.in_(HOLDS_A_PLACE))
        .group_by(ParentMealSignup.slot_id)).all())


def present_slot(slot: ParentMealSlot, canteen: Canteen, taken: int, now: datetime) -> dict[str, Any]:
    """A slot with its meal's start, its places and whether sign-up is still open."""
    starts = window_for(canteen, slot.service_date, slot.meal).start
    return {"id": slot.id, "school_id": slot.school_id, "canteen_id": canteen.id, "canteen_name": canteen.name,
            "service_date": slot.service_date, "meal": slot.meal, "meal_label": MEAL_LABELS.get(slot.meal, slot.meal),
            "meal_starts_at": starts, "capacity": slot.capacity, "taken": taken,
            "remaining": max(slot.capacity - taken, 0), "full": taken >= slot.capacity, "open": now < starts,
            "note": slot.note}


def present_opinion(signup: ParentMealSignup) -> dict[str, Any]:
    """A rated sign-up as every member reads it: the capacity, never the person."""
    return {"signup_id": signup.id, "role": signup.role, "role_label": ROLE_LABELS.get(signup.role, signup.role),
            **{name: getattr(signup, name) for name in RATING_DIMENSIONS}, "comment": signup.comment,
            "rated_at": signup.rated_at, "answer": signup.answer, "answered_at": signup.answered_at}


def present_signup(signup: ParentMealSignup, slot: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A sign-up with its slot, its decision and (once rated) the opinion and the school's answer."""
    return {"id": signup.id, "slot": slot, "status": signup.status,
            "status_label": SIGNUP_LABELS.get(signup.status, signup.status), "note": signup.note,
            "created_at": signup.created_at, "decided_at": signup.decided_at, "decision_note": signup.decision_note,
            "can_rate": (signup.status == SignupStatus.APPROVED and signup.rated_at is None
                         and now >= slot["meal_starts_at"]),
            "opinion": present_opinion(signup) if signup.rated_at is not None else None}


def slots(school: School, date_from: date, date_to: date, now: datetime,
          user_id: int | None = None) -> list[dict[str, Any]]:
    """The school's slots of the period, with places taken, and the caller's own sign-up on each (or null)."""
    rows = _slot_rows((ParentMealSlot.school_id == school.id) & ParentMealSlot.service_date.between(date_from, date_to))
    ids = [slot.id for slot, _ in rows]
    taken = _taken(ids)
    mine = {} if user_id is None or not ids else {s.slot_id: s for s in db.session.scalars(
        select(ParentMealSignup).where(ParentMealSignup.slot_id.in_(ids), ParentMealSignup.user_id == user_id))}
    result = []
    for slot, canteen in sorted(rows, key=lambda r: (r[0].service_date, MEAL_ORDER.get(r[0].meal, 9), r[1].id)):
        view = present_slot(slot, canteen, taken.get(slot.id, 0), now)
        own = mine.get(slot.id)
        view["my_signup"] = None if own is None else {
            "id": own.id, "status": own.status, "status_label": SIGNUP_LABELS.get(own.status, own.status)}
        result.append(view)
    return result


def slot_view(slot: ParentMealSlot, now: datetime) -> dict[str, Any]:
    """One slot as the lists present it."""
    canteen = db.session.get(Canteen, slot.canteen_id)
    return present_slot(slot, canteen, _taken([slot.id]).get(slot.id, 0), now)


def _signups(condition: Any, now: datetime) -> list[tuple[ParentMealSignup, dict[str, Any]]]:
    rows = db.session.execute(
        select(ParentMealSignup, ParentMealSlot, Canteen)
        .join(ParentMealSlot, ParentMealSlot.id == ParentMealSignup.slot_id)
        .join(Canteen, Canteen.id == ParentMealSlot.canteen_id).where(condition)
        .order_by(ParentMealSlot.service_date.desc(), ParentMealSignup.id.desc())).all()
    taken = _taken(sorted({slot.id for _, slot, _ in rows}))
    return [(signup, present_slot(slot, canteen, taken.get(slot.id, 0), now)) for signup, slot, canteen in rows]


def signup_view(signup: ParentMealSignup, now: datetime) -> dict[str, Any]:
    """One sign-up as its author reads it."""
    return present_signup(signup, slot_view(db.session.get(ParentMealSlot, signup.slot_id), now), now)


def my_signups(school: School, user_id: int, now: datetime) -> list[dict[str, Any]]:
    """The caller's sign-ups at the school, newest meal first."""
    return [present_signup(signup, slot, now) for signup, slot in _signups(
        (ParentMealSignup.school_id == school.id) & (ParentMealSignup.user_id == user_id), now)]


def school_signups(school: School, date_from: date, date_to: date, status: str | None,
                   now: datetime) -> list[dict[str, Any]]:
    """The school's sign-ups of the period (optionally of one status), with who signed up: their binding's
    name and child's class, or their nickname."""
    condition = (ParentMealSignup.school_id == school.id) & ParentMealSlot.service_date.between(date_from, date_to)
    if status is not None:
        condition = condition & (ParentMealSignup.status == status)
    rows = _signups(condition, now)
    people = people_in_school(school.id, {signup.user_id for signup, _ in rows})
    return [{**present_signup(signup, slot, now), **_who(people[signup.user_id])} for signup, slot in rows]


def signup_for_school(signup: ParentMealSignup, now: datetime) -> dict[str, Any]:
    """One sign-up as the school reads it (with who signed up)."""
    person = people_in_school(signup.school_id, {signup.user_id})[signup.user_id]
    return {**signup_view(signup, now), **_who(person)}


def _who(person: Person) -> dict[str, Any]:
    return {"name": person.name, "child_class": person.child_class}


def _rated(condition: Any) -> list[tuple[ParentMealSignup, ParentMealSlot, str]]:
    return [(signup, slot, name) for signup, slot, name in db.session.execute(
        select(ParentMealSignup, ParentMealSlot, Canteen.name)
        .join(ParentMealSlot, ParentMealSlot.id == ParentMealSignup.slot_id)
        .join(Canteen, Canteen.id == ParentMealSlot.canteen_id)
        .where(ParentMealSignup.rated_at.is_not(None), condition)
        .order_by(ParentMealSlot.service_date.desc(), ParentMealSignup.rated_at.desc(), ParentMealSignup.id)).all()]


def _public(signup: ParentMealSignup, slot: ParentMealSlot, canteen_name: str) -> dict[str, Any]:
    return {**present_opinion(signup), "canteen_id": slot.canteen_id, "canteen_name": canteen_name,
            "service_date": slot.service_date, "meal": slot.meal, "meal_label": MEAL_LABELS.get(slot.meal, slot.meal)}


def opinions(school: School, date_from: date, date_to: date) -> dict[str, Any]:
    """The period's opinions of the school's accompanied meals, with averages: what every member may read."""
    rows = _rated((ParentMealSignup.school_id == school.id)
                  & ParentMealSlot.service_date.between(date_from, date_to))
    averages = {name: round(sum(getattr(s, name) for s, _, _ in rows) / len(rows), 2) if rows else None
                for name in RATING_DIMENSIONS}
    return {"period": {"date_from": date_from, "date_to": date_to}, "rated": len(rows),
            "answered": sum(1 for s, _, _ in rows if s.answered_at is not None), "averages": averages,
            "dimensions": [{"name": name, "label": label} for name, label in RATING_DIMENSIONS.items()],
            "opinions": [_public(*row) for row in rows]}


def _json_ready(view: dict[str, Any]) -> dict[str, Any]:
    """The day view is JSON written by hand: instants in +08:00, days as YYYY-MM-DD."""
    return {key: shanghai_iso(value) if isinstance(value, datetime) else
            value.isoformat() if isinstance(value, date) else value for key, value in view.items()}


def day_opinions(canteen_ids: list[int], day: date) -> dict[int, list[dict[str, Any]]]:
    """The opinions of the canteens' accompanied meals of one day, by canteen (one statement), JSON-ready."""
    by_canteen: dict[int, list[dict[str, Any]]] = {}
    if not canteen_ids:
        return by_canteen
    for signup, slot, name in _rated(ParentMealSlot.canteen_id.in_(canteen_ids)
                                     & (ParentMealSlot.service_date == day)):
        by_canteen.setdefault(slot.canteen_id, []).append(_json_ready(_public(signup, slot, name)))
    for views in by_canteen.values():
        views.sort(key=lambda v: (MEAL_ORDER.get(v["meal"], 9), v["signup_id"]))
    return by_canteen


def day_version_column() -> Any:
    """A correlated column of the sum of a school's 陪餐 revisions: the day view's cache is valid while it stays."""
    return (select(func.sum(ParentMealSignup.revision)).where(ParentMealSignup.school_id == School.id)
            .correlate(School).scalar_subquery())
