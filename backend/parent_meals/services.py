"""What people do with accompanied meals (陪餐): the school publishes a slot, a parent signs up, the school
decides, the parent rates the meal after eating it, the school answers the opinion.

Every service owns its transaction. What the school does is audited. A sign-up is idempotent (one per person
and slot: asking again answers the same one); a full slot (pending and approved sign-ups reach its capacity)
refuses another with 409, counted under a lock of the slot's row so two parents cannot take its last place;
a rating before the meal begins is refused with 422 ``meal_not_served_yet``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.integrations.wechat import WeChatGateway
from backend.parent_meals.models import HOLDS_A_PLACE, ParentMealSignup, ParentMealSlot, SignupStatus
from backend.permissions import Principal, accompanies_as, content_is_checked, owns_signup
from backend.records.meal_windows import window_for
from backend.schools.models import Canteen, School
from backend.timeutil import shanghai_iso
from backend.violations.reports import check_text


def _fail(status: int, code: str, message: str, **details: Any) -> ApiError:
    return ApiError(status, code, message, details)


def meal_starts_at(slot: ParentMealSlot) -> datetime:
    """When the slot's meal begins: the canteen's window of that meal on that day (its default if it has none)."""
    canteen = db.session.get(Canteen, slot.canteen_id)
    return window_for(canteen, slot.service_date, slot.meal).start


def places_taken(slot_id: int, *, excluding: int | None = None) -> int:
    """How many sign-ups hold a place of the slot (pending and approved)."""
    query = select(func.count()).select_from(ParentMealSignup).where(
        ParentMealSignup.slot_id == slot_id, ParentMealSignup.status.in_(HOLDS_A_PLACE))
    if excluding is not None:
        query = query.where(ParentMealSignup.id != excluding)
    return db.session.scalar(query) or 0


def _lock_slot(slot_id: int) -> ParentMealSlot:
    """The slot's row, locked until the transaction ends (PostgreSQL; SQLite serialises writers anyway)."""
    return db.session.scalars(select(ParentMealSlot).where(ParentMealSlot.id == slot_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def publish_slot(actor: Principal, school: School, *, canteen_id: int, service_date: date, meal: str,
                 capacity: int, note: str | None, now: datetime) -> ParentMealSlot:
    """Publish a meal parents may sign up for; audited. Its meal must not have begun yet."""
    canteen = db.session.get(Canteen, canteen_id)
    if canteen is None or canteen.school_id != school.id:
        raise _fail(422, "canteen_not_in_school", "食堂不属于该学校", fields={"canteen_id": ["不属于该学校"]})
    starts = window_for(canteen, service_date, meal).start
    if starts <= now:
        raise _fail(422, "slot_in_past", "该餐次已开餐，不能再发布陪餐安排", meal_starts_at=shanghai_iso(starts))
    existing = db.session.scalar(select(ParentMealSlot.id).where(
        ParentMealSlot.canteen_id == canteen.id, ParentMealSlot.service_date == service_date,
        ParentMealSlot.meal == meal))
    if existing is not None:
        raise _fail(409, "slot_exists", "该食堂这一餐已发布陪餐安排", slot_id=existing)
    slot = ParentMealSlot(school_id=school.id, canteen_id=canteen.id, service_date=service_date, meal=meal,
                          capacity=capacity, note=note, created_by_id=actor.user_id, created_at=now)
    db.session.add(slot)
    db.session.flush()
    record_audit(actor.user_id, AuditAction.PARENT_MEAL_SLOT_PUBLISH, school_id=school.id,
                 target=("parent_meal_slot", slot.id),
                 details={"canteen_id": canteen.id, "service_date": service_date.isoformat(), "meal": meal,
                          "capacity": capacity})
    db.session.commit()
    return slot


def _own_signup(actor: Principal, slot_id: int) -> ParentMealSignup | None:
    return db.session.scalar(select(ParentMealSignup).where(ParentMealSignup.slot_id == slot_id,
                                                            ParentMealSignup.user_id == actor.user_id))


def sign_up(actor: Principal, school: School, slot: ParentMealSlot, *, note: str | None,
            now: datetime) -> tuple[ParentMealSignup, bool]:
    """Sign the caller up for the slot, once: asking again answers the same sign-up (``created`` False)."""
    role = accompanies_as(actor, school)
    if role is None:
        raise _fail(422, "not_a_parent", "只有本校的家长和家委会成员可以报名陪餐")
    existing = _own_signup(actor, slot.id)
    if existing is not None:
        return existing, False
    starts = meal_starts_at(slot)
    if starts <= now:
        raise _fail(409, "slot_closed", "该餐次已开餐，报名已截止", meal_starts_at=shanghai_iso(starts))
    slot = _lock_slot(slot.id)
    if places_taken(slot.id) >= slot.capacity:
        db.session.rollback()
        raise _fail(409, "slot_full", "该餐次的陪餐名额已满", capacity=slot.capacity)
    signup = ParentMealSignup(slot_id=slot.id, school_id=slot.school_id, user_id=actor.user_id, role=role.value,
                              status=SignupStatus.PENDING, note=note, created_at=now, revision=1)
    db.session.add(signup)
    try:
        db.session.commit()
    except IntegrityError:  # the same person's other request signed up first: that one is the answer
        db.session.rollback()
        existing = _own_signup(actor, slot.id)
        if existing is None:
            raise
        return existing, False
    return signup, True


def decide(actor: Principal, signup: ParentMealSignup, *, approve: bool, note: str | None,
           now: datetime) -> ParentMealSignup:
    """Approve or decline a sign-up; audited. Deciding the same again changes nothing; a rated sign-up is final."""
    status = SignupStatus.APPROVED if approve else SignupStatus.DECLINED
    if signup.status == status:
        return signup
    if signup.rated_at is not None:
        raise _fail(409, "signup_rated", "家长已评价本次陪餐，不能再更改审核结果")
    if approve and signup.status == SignupStatus.DECLINED:
        slot = _lock_slot(signup.slot_id)
        if places_taken(slot.id, excluding=signup.id) >= slot.capacity:
            db.session.rollback()
            raise _fail(409, "slot_full", "该餐次的陪餐名额已满", capacity=slot.capacity)
    signup.status = status
    signup.decided_at, signup.decided_by_id, signup.decision_note = now, actor.user_id, note
    signup.revision += 1
    action = AuditAction.PARENT_MEAL_APPROVE if approve else AuditAction.PARENT_MEAL_DECLINE
    record_audit(actor.user_id, action, school_id=signup.school_id,
                 target=("parent_meal_signup", signup.id), details={"slot_id": signup.slot_id})
    db.session.commit()
    return signup


def rate(actor: Principal, school: School, signup: ParentMealSignup, *, taste: int, hygiene: int, portion: int,
         comment: str | None, now: datetime, gateway: WeChatGateway | None = None) -> ParentMealSignup:
    """The parent's rating and comment, after the meal began; sending the same rating again changes nothing."""
    if not owns_signup(actor, signup.user_id):
        raise ApiError(403, "forbidden", "只能评价自己参加的陪餐")
    if signup.status != SignupStatus.APPROVED:
        raise _fail(409, "signup_not_approved", "陪餐报名尚未通过学校审核，不能评价")
    slot = db.session.get(ParentMealSlot, signup.slot_id)
    starts = meal_starts_at(slot)
    if now < starts:
        raise _fail(422, "meal_not_served_yet", "陪餐尚未开始，用餐后才能评价", meal_starts_at=shanghai_iso(starts))
    values = (taste, hygiene, portion, comment)
    if signup.rated_at is not None:
        if (signup.taste, signup.hygiene, signup.portion, signup.comment) == values:
            return signup
        raise _fail(409, "already_rated", "本次陪餐已评价，不能修改")
    # Parents' comments are shown to every parent of the school: WeChat's content check first.
    if comment and gateway is not None and content_is_checked(actor, school):
        check_text(gateway, actor.user.openid, comment)
    signup.taste, signup.hygiene, signup.portion, signup.comment = values
    signup.rated_at = now
    signup.revision += 1
    db.session.commit()
    return signup


def answer(actor: Principal, signup: ParentMealSignup, *, text: str, now: datetime) -> ParentMealSignup:
    """The school's answer to a parent's opinion; audited. Sending the same answer again changes nothing."""
    if signup.rated_at is None:
        raise _fail(409, "not_rated", "家长尚未评价，暂无可答复的意见")
    if signup.answered_at is not None:
        if signup.answer == text:
            return signup
        raise _fail(409, "already_answered", "已答复过该意见")
    signup.answer, signup.answered_at, signup.answered_by_id = text, now, actor.user_id
    signup.revision += 1
    record_audit(actor.user_id, AuditAction.PARENT_MEAL_ANSWER, school_id=signup.school_id,
                 target=("parent_meal_signup", signup.id), details={"slot_id": signup.slot_id})
    db.session.commit()
    return signup
