"""The in-app inbox, subscription reports, per-school notice settings and the admins' view of deliveries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError, not_found
from backend.extensions import db
from backend.notices import quota
from backend.notices.models import Notice, NoticeAttempt, NoticeStatus, SchoolNoticeSettings
from backend.notices.outbox import MAX_ATTEMPTS
from backend.notices.recipients import published_kinds
from backend.notices.templates import TEMPLATES, template_ids
from backend.permissions import Principal
from backend.schools.models import School
from backend.timeutil import utcnow
from backend.violations.models import ViolationKind


def inbox(user_id: int, *, unread_only: bool = False, before_id: int | None = None,
          limit: int = 50) -> dict[str, Any]:
    """A user's notices, newest first, and how many are unread."""
    query = select(Notice).where(Notice.user_id == user_id)
    if unread_only:
        query = query.where(Notice.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notice.id < before_id)
    items = list(db.session.scalars(query.order_by(Notice.id.desc()).limit(limit)))
    unread = db.session.scalar(select(func.count()).select_from(Notice)
                               .where(Notice.user_id == user_id, Notice.read_at.is_(None)))
    return {"items": items, "unread": unread}


def mark_read(user_id: int, notice_id: int, now: datetime | None = None) -> Notice:
    """Mark one of the caller's notices read (someone else's is answered as missing)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.user_id != user_id:
        raise not_found("消息")
    if notice.read_at is None:
        notice.read_at = now or utcnow()
        db.session.commit()
    return notice


def mark_all_read(user_id: int, now: datetime | None = None) -> int:
    """Mark every unread notice of the caller read; returns how many."""
    result = db.session.execute(update(Notice).where(Notice.user_id == user_id, Notice.read_at.is_(None))
                                .values(read_at=now or utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


#: How many of a user's newest notices say which templates their next messages will likely use.
RECENT_NOTICES = 50


def subscription_templates(user_id: int | None = None) -> list[dict[str, Any]]:
    """The templates the mini-program should ask the user to subscribe to (``wx.requestSubscribeMessage``).

    For a user, those of their newest notices come first, most used first (ties keep the declared order): WeChat
    asks for three templates at a time and each accept allows one message, so the accepts go where the next
    messages will be (a principal's supervision orders and seals, not the parents' progress notices).
    """
    ids = template_ids(current_app.config)
    names = [name for name in TEMPLATES if name in ids]
    if user_id is not None:
        recent = db.session.scalars(select(Notice.template).where(Notice.user_id == user_id)
                                    .order_by(Notice.id.desc()).limit(RECENT_NOTICES)).all()
        names.sort(key=lambda name: -recent.count(name))
    return [{"purpose": name, "template_id": ids[name], "title": TEMPLATES[name].title,
             "keywords": [kw.label for kw in TEMPLATES[name].keywords]} for name in names]


def subscriptions_of(user_id: int) -> list[dict[str, Any]]:
    """The caller's remaining one-time messages per template."""
    quotas = quota.quotas_of(user_id)
    result = []
    for template in subscription_templates():
        row = quotas.get(template["template_id"])
        result.append({**template, "remaining": row.remaining if row else 0,
                       "last_choice": row.last_choice if row else None})
    return result


def report_subscriptions(user_id: int, results: Mapping[str, str], now: datetime | None = None) -> dict[str, Any]:
    """Apply what ``wx.requestSubscribeMessage`` answered in the mini-program."""
    known = set(template_ids(current_app.config).values())
    outcome = quota.record_choices(user_id, results, known, "client", now)
    db.session.commit()
    return {**outcome, "subscriptions": subscriptions_of(user_id)}


def notice_settings(school: School) -> dict[str, Any]:
    """A school's notice settings (the defaults until it chooses)."""
    row = db.session.get(SchoolNoticeSettings, school.id)
    return {"school_id": school.id, "published_kinds": published_kinds(school.id),
            "customised": row is not None, "updated_at": row.updated_at if row else None}


def update_notice_settings(actor: Principal, school: School, kinds: Collection[str],
                           now: datetime | None = None) -> dict[str, Any]:
    """Choose which violation kinds the parents' committee is told about and parents see."""
    unknown = sorted(set(kinds) - {k.value for k in ViolationKind})
    if unknown:
        raise ApiError(422, "unknown_kind", "包含未知的问题类型", {"kinds": unknown})
    chosen = sorted(set(kinds))
    row = db.session.get(SchoolNoticeSettings, school.id)
    if row is None:
        row = SchoolNoticeSettings(school_id=school.id)
        db.session.add(row)
    row.published_kinds = chosen
    row.updated_at = now or utcnow()
    row.updated_by_id = actor.user_id
    record_audit(actor.user_id, AuditAction.NOTICE_SETTINGS_UPDATE, school_id=school.id, target=("school", school.id),
                 details={"published_kinds": chosen})
    db.session.commit()
    return notice_settings(school)


def attempts_of(notice_id: int) -> list[NoticeAttempt]:
    """Every send attempt of a notice, in order."""
    if db.session.get(Notice, notice_id) is None:
        raise not_found("消息")
    return list(db.session.scalars(select(NoticeAttempt).where(NoticeAttempt.notice_id == notice_id)
                                   .order_by(NoticeAttempt.id)))


def retry_delivery(actor: Principal, notice_id: int, now: datetime | None = None) -> Notice:
    """Give a failed notice a fresh budget of attempts, due now (admins, after fixing the cause)."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise not_found("消息")
    if notice.status != NoticeStatus.FAILED:
        raise ApiError(409, "not_failed", "只有发送失败的消息可以重试", {"status": notice.status})
    notice.status = NoticeStatus.PENDING
    notice.attempt_budget = notice.attempts + MAX_ATTEMPTS
    notice.next_attempt_at = now or utcnow()
    record_audit(actor.user_id, AuditAction.NOTICE_RETRY, school_id=notice.school_id, target=("notice", notice.id))
    db.session.commit()
    return notice
