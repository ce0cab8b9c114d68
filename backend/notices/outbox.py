"""Writing notices: one row per recipient, added to the caller's transaction.

The row is at once the in-app inbox item and the outbox entry the dispatcher sends through WeChat, so it
commits (or rolls back) with the violation or transition that causes it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from backend.extensions import db
from backend.notices import channels
from backend.notices.models import Notice, NoticeStatus
from backend.notices.templates import TEMPLATES

MAX_ATTEMPTS = 5
NOTICES = Notice.__table__


@dataclass(frozen=True)
class NoticeDraft:
    """The content of a notice, the same for every recipient."""

    subject_type: str
    subject_id: int
    school_id: int | None
    purpose: str
    template: str
    title: str
    body: str
    payload: dict[str, Any] = field(default_factory=dict)
    page: str | None = None

    def __post_init__(self) -> None:
        if self.template not in TEMPLATES:
            raise ValueError(f"unknown notice template {self.template!r}")
        # Build once now: a payload that cannot make valid keywords is a bug to catch in the transaction.
        TEMPLATES[self.template].build(self.payload)


def enqueue(draft: NoticeDraft, user_ids: Iterable[int], key: str, now: datetime,
            exclude: int | None = None) -> int:
    """Add one notice per recipient (deduplicated, without ``exclude``, usually the actor); returns how many.

    ``key`` names the cause (e.g. ``violation:7:event:31``); with the user id it is the notice's
    idempotency key, so the same cause never notifies the same user twice.
    """
    recipients = sorted({uid for uid in user_ids if uid is not None and uid != exclude})
    channels.robot_deliveries(draft, key, now)
    if not recipients:
        return 0
    choices = channels.choices_of(recipients)
    risk_class = channels.risk_class_of(draft)
    rows = [{
        "user_id": uid, "school_id": draft.school_id, "subject_type": draft.subject_type,
        "subject_id": draft.subject_id, "purpose": draft.purpose, "template": draft.template,
        "title": draft.title[:100], "body": draft.body, "payload": draft.payload, "page": draft.page,
        "idempotency_key": f"{key}:u{uid}"[:200], "created_at": now, "status": NoticeStatus.PENDING,
        "attempts": 0, "attempt_budget": MAX_ATTEMPTS,
        # The WeChat copy of a class-2/3 notice waits for the end of the person's quiet hours; the inbox has it now.
        "next_attempt_at": channels.due_for(choices.get(uid, channels.Choice()), risk_class, now),
    } for uid in recipients]
    inserted = db.session.execute(
        insert(NOTICES).returning(NOTICES.c.user_id, NOTICES.c.id, sort_by_parameter_order=True), rows).all()
    channels.sms_deliveries(draft, {user_id: notice_id for user_id, notice_id in inserted}, choices, key, now)
    return len(rows)
