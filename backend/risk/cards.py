"""Yellow and red cards: issued by a regular job, shown to regulators, the school and parents, lifted by a
regulator with a reason.

An overdue class-1 or class-2 problem (``backend/risk/classes.py``) that the school still owes a fix for earns a
**yellow** card ``yellow_after_hours`` after its deadline, then a **red** one ``red_after_hours`` after the
yellow if it is still not fixed (durations per region, inherited from the parent region, default 0 h and
5 days). A lifted yellow card earns no red one.

Job ``risk.cards`` (every 5 minutes) issues them. Each card is its own transaction: the INSERT … ON CONFLICT DO
NOTHING on the unique (violation, color) and the notices it causes commit together, so a worker killed at any
moment leaves either the card with its notices or nothing, and the next run (or a concurrent one) issues
each card exactly once. A card's ``issued_at`` is the moment it was earned, not the moment the job ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select, update
from sqlalchemy.orm import aliased

from backend.accounts.models import Role
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.db_util import insert_if_absent
from backend.errors import ApiError
from backend.extensions import db
from backend.notices.models import SubjectType
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.recipients import regional_regulators, school_members
from backend.notices.violation_notices import DETAIL_PAGE, RESPONSIBLE_ROLES
from backend.permissions import Principal
from backend.risk.classes import CARD_CLASSES, CLASS_LABELS, CardSetting, card_setting
from backend.risk.models import CARD_LABELS, CardColor, RiskCard
from backend.schools.models import Region, School
from backend.timeutil import as_utc, to_shanghai
from backend.violations.models import ACTIVE_STATUSES, KIND_LABELS, Violation

BATCH = 500
MAX_REASON = 500


def _settings_cache() -> Any:
    cache: dict[str, CardSetting] = {}

    def of(path: str) -> CardSetting:
        if path not in cache:
            cache[path] = card_setting(path)
        return cache[path]
    return of


def _active_card_class() -> Any:
    return and_(Violation.status.in_([s.value for s in ACTIVE_STATUSES]), Violation.risk_class.in_(CARD_CLASSES))


def yellow_candidates(now: datetime) -> list[tuple[int, datetime]]:
    """``(violation id, moment the yellow card was earned)`` of every violation owed a yellow card at ``now``."""
    has_yellow = exists().where(RiskCard.violation_id == Violation.id, RiskCard.color == CardColor.YELLOW)
    rows = db.session.execute(
        select(Violation.id, Violation.due_at, Region.path).join(School, School.id == Violation.school_id)
        .join(Region, Region.id == School.region_id)
        .where(_active_card_class(), Violation.due_at <= now, ~has_yellow)
        .order_by(Violation.due_at, Violation.id).limit(BATCH)).all()
    setting = _settings_cache()
    earned = [(vid, as_utc(due) + timedelta(hours=setting(path).yellow_after_hours)) for vid, due, path in rows]
    return [(vid, at) for vid, at in earned if at <= now]


def red_candidates(now: datetime) -> list[tuple[int, datetime]]:
    """``(violation id, moment the red card was earned)``: still owed a fix, an unlifted yellow card, no red."""
    yellow = aliased(RiskCard)
    has_red = exists().where(RiskCard.violation_id == Violation.id, RiskCard.color == CardColor.RED)
    rows = db.session.execute(
        select(Violation.id, yellow.issued_at, Region.path)
        .join(yellow, and_(yellow.violation_id == Violation.id, yellow.color == CardColor.YELLOW,
                           yellow.lifted_at.is_(None)))
        .join(School, School.id == Violation.school_id).join(Region, Region.id == School.region_id)
        .where(_active_card_class(), ~has_red).order_by(yellow.issued_at, Violation.id).limit(BATCH)).all()
    setting = _settings_cache()
    earned = [(vid, as_utc(at) + timedelta(hours=setting(path).red_after_hours)) for vid, at, path in rows]
    return [(vid, at) for vid, at in earned if at <= now]


def issue_cards(now: datetime) -> dict[str, int]:
    """Issue every yellow and red card earned by ``now``; returns how many of each this run issued."""
    now = as_utc(now)
    issued = {CardColor.YELLOW.value: 0, CardColor.RED.value: 0}
    for color, candidates in ((CardColor.YELLOW, yellow_candidates), (CardColor.RED, red_candidates)):
        found = candidates(now)
        db.session.rollback()  # end the read: each card below is its own short transaction
        for violation_id, earned_at in found:
            issued[color.value] += issue_card(violation_id, color, earned_at)
    return issued


def issue_card(violation_id: int, color: CardColor, earned_at: datetime) -> int:
    """Insert one card with its notices and commit; 0 when it exists already (another run issued it)."""
    violation = db.session.get(Violation, violation_id)
    if violation is None or violation.status not in ACTIVE_STATUSES:
        db.session.rollback()
        return 0
    card_id = insert_if_absent(RiskCard, dict(violation_id=violation.id, school_id=violation.school_id,
                                              color=color.value, risk_class=violation.risk_class,
                                              issued_at=earned_at), ["violation_id", "color"])
    if card_id is None:
        db.session.rollback()
        return 0
    _notify_card(violation, card_id, color, earned_at)
    db.session.commit()
    return 1


def _notify_card(violation: Violation, card_id: int, color: CardColor, at: datetime) -> None:
    """The school's principal and responsible people and the region's inspectors, in the card's transaction."""
    school = db.session.get(School, violation.school_id)
    users = (school_members(school.id, [Role.PRINCIPAL, *RESPONSIBLE_ROLES]) | regional_regulators(school))
    label = CARD_LABELS[color]
    deadline = to_shanghai(violation.due_at).strftime("%m月%d日 %H:%M")
    body = (f"{school.name}“{violation.title}”（{CLASS_LABELS.get(violation.risk_class or 2, '')}风险）"
            f"整改期限{deadline}已过仍未整改，记{label}一张。")
    draft = NoticeDraft(subject_type=SubjectType.VIOLATION, subject_id=violation.id, school_id=school.id,
                        purpose="risk_card", template="escalation", title=f"{label}警示：{violation.title}",
                        body=body, page=DETAIL_PAGE.format(id=violation.id),
                        payload={"school": school.name, "problem": violation.title,
                                 "due_at": violation.due_at.isoformat(), "level": f"{label}警示",
                                 "risk_class": violation.risk_class, "card": color.value})
    enqueue(draft, users, f"risk_card:{card_id}", at)


def lift_card(actor: Principal, card: RiskCard, reason: str, now: datetime) -> RiskCard:
    """A regulator lifts a card with a reason (the route checked they regulate its school); audited."""
    reason = (reason or "").strip()
    if not reason:
        raise ApiError(422, "reason_required", "撤销警示牌时必须填写原因", {"fields": {"reason": ["请填写撤销原因"]}})
    result = db.session.execute(
        update(RiskCard).where(RiskCard.id == card.id, RiskCard.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by_id=actor.user_id, lift_reason=reason[:MAX_REASON])
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ApiError(409, "card_already_lifted", "该警示牌已被撤销", {"card_id": card.id})
    record_audit(actor.user_id, AuditAction.RISK_CARD_LIFT, school_id=card.school_id, target=("risk_card", card.id),
                 details={"color": card.color, "violation_id": card.violation_id, "reason": reason[:MAX_REASON]})
    db.session.commit()
    db.session.refresh(card)
    return card


def present_card(card: RiskCard, violation: Violation, school_name: str) -> dict[str, Any]:
    """A card as the API shows it."""
    return {"id": card.id, "color": card.color, "color_label": CARD_LABELS.get(card.color, card.color),
            "risk_class": card.risk_class, "violation_id": violation.id, "kind": violation.kind,
            "kind_label": KIND_LABELS.get(violation.kind, violation.kind), "title": violation.title,
            "school_id": card.school_id, "school_name": school_name, "due_at": violation.due_at,
            "issued_at": card.issued_at, "active": card.lifted_at is None, "lifted_at": card.lifted_at,
            "lift_reason": card.lift_reason, "violation_status": violation.status}


def list_cards(scope: Any, *, active: bool | None = None, color: str | None = None, school_id: int | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
    """Cards of the schools matching ``scope`` (a condition on School), newest first."""
    query = (select(RiskCard, Violation, School.name).join(Violation, Violation.id == RiskCard.violation_id)
             .join(School, School.id == RiskCard.school_id).where(scope))
    if active is not None:
        query = query.where(RiskCard.lifted_at.is_(None) if active else RiskCard.lifted_at.is_not(None))
    if color is not None:
        query = query.where(RiskCard.color == color)
    if school_id is not None:
        query = query.where(RiskCard.school_id == school_id)
    rows = db.session.execute(query.order_by(RiskCard.issued_at.desc(), RiskCard.id.desc()).limit(limit)).all()
    return [present_card(card, violation, name) for card, violation, name in rows]
