"""Channels beside the in-app inbox: each person's choice (WeChat subscribe messages, SMS) and quiet hours, the
WeCom group robots of schools and regions, and the channel deliveries a notice produces.

- The inbox always has every notice, at once.
- WeChat subscribe messages (the notice row's own outbox, ``dispatcher.py``): on unless the person turns them off.
- SMS (``channel_delivery`` rows, ``channel_dispatcher.py``): for notices of a violation found, escalated or
  carded (:data:`SMS_PURPOSES`) of the risk classes a person chose SMS for (default 1 and 2), at their phone
  number (their own or the account's).
- WeCom group robots: each school's and each region's robots post the violations of the risk classes they were
  set up for (:data:`ROBOT_PURPOSES`); a region's robot hears of every school in the region and below. A class-1
  or class-2 violation reaches the school's robot and the region's robot in the same transaction as the notices
  of the school's people and the region's inspectors (双推送).
- Quiet hours (免打扰, Asia/Shanghai, per person): a class-2 or class-3 WeChat message or SMS found inside them
  waits until they end (the row's ``next_attempt_at``), never dropped; class 1 ignores them.

Channels never change who is told (``violation_notices``): they decide how a notice reaches a person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import literal, select

from backend.accounts.models import User
from backend.db_util import insert_if_absent
from backend.extensions import db
from backend.notices.models import ChannelDelivery, ChannelName, NoticeChannelSetting, NoticeRobot, NoticeStatus
from backend.schools.models import Region, School
from backend.timeutil import SHANGHAI, to_shanghai

if TYPE_CHECKING:
    from backend.notices.outbox import NoticeDraft

MAX_CHANNEL_ATTEMPTS = 6
#: Class 1 is acted on at once, whatever the hour.
URGENT_CLASS = 1
SMS_PURPOSES = frozenset({"violation_created", "violation_escalated", "risk_card"})
ROBOT_PURPOSES = SMS_PURPOSES
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# WeCom webhook keys are UUIDs; a pasted webhook URL is accepted and its key taken.
KEY_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SMS_PARAM_LENGTH = 12
DEFAULT_SMS_CLASSES = (1, 2)


def normalize_phone(value: str) -> str | None:
    """An 11-digit mainland mobile number from what a person typed (+86, spaces and dashes allowed), else None."""
    digits = re.sub(r"[\s-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if PHONE_RE.match(digits) else None


def webhook_key(value: str) -> str | None:
    """The key of a WeCom webhook, given the key itself or the whole webhook URL; None when it is neither."""
    value = value.strip()
    match = re.match(r"^https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=([^&#\s]+)$", value)
    key = match.group(1) if match else value
    return key if KEY_RE.match(key) else None


def key_hint(key: str) -> str:
    """What is shown of a stored key: its last four characters."""
    return "****" + key[-4:]


@dataclass(frozen=True)
class Choice:
    """A person's channels (a missing settings row reads as the defaults)."""

    wechat: bool = True
    sms: bool = False
    phone: str | None = None
    sms_classes: tuple[int, ...] = DEFAULT_SMS_CLASSES
    quiet_start: str | None = None
    quiet_end: str | None = None

    def quiet_until(self, at: datetime) -> datetime | None:
        """When the person's quiet hours end, if ``at`` falls inside them; else None."""
        if not self.quiet_start or not self.quiet_end or self.quiet_start == self.quiet_end:
            return None
        start, end = _hhmm(self.quiet_start), _hhmm(self.quiet_end)
        local = to_shanghai(at)
        now = local.time().replace(tzinfo=None)
        inside = start <= now < end if start < end else (now >= start or now < end)
        if not inside:
            return None
        end_day = local.date() if now < end else local.date() + timedelta(days=1)
        return datetime.combine(end_day, end, tzinfo=SHANGHAI)


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def choices_of(user_ids: Iterable[int]) -> dict[int, Choice]:
    """Each user's choice, with the account's bound phone when no SMS number of their own is set."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.phone, NoticeChannelSetting)
        .outerjoin(NoticeChannelSetting, NoticeChannelSetting.user_id == User.id).where(User.id.in_(ids))).all()
    result = {}
    for user_id, bound_phone, setting in rows:
        if setting is None:
            result[user_id] = Choice(phone=normalize_phone(bound_phone or ""))
        else:
            result[user_id] = Choice(setting.wechat, setting.sms,
                                     setting.phone or normalize_phone(bound_phone or ""),
                                     tuple(setting.sms_classes or DEFAULT_SMS_CLASSES), setting.quiet_start,
                                     setting.quiet_end)
    return result


def risk_class_of(draft: NoticeDraft) -> int | None:
    """The violation's risk class a notice carries, if any."""
    value = (draft.payload or {}).get("risk_class")
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


def due_for(choice: Choice, risk_class: int | None, now: datetime) -> datetime:
    """When a push to this person may go: now, or (not class 1) at the end of their quiet hours."""
    if risk_class == URGENT_CLASS:
        return now
    return choice.quiet_until(now) or now


def sms_params(draft: NoticeDraft, risk_class: int | None) -> list[str]:
    """The four parameters of the SMS template: school, problem, class, deadline (each within the length limit)."""
    payload = draft.payload or {}
    due = payload.get("due_at")
    due_text = to_shanghai(datetime.fromisoformat(due)).strftime("%m月%d日%H:%M") if due else "尽快"
    values = [str(payload.get("school") or ""), str(payload.get("problem") or draft.title), str(risk_class or ""),
              due_text]
    return [v[:SMS_PARAM_LENGTH] for v in values]


def robot_markdown(draft: NoticeDraft, risk_class: int | None) -> str:
    """The group message: the notice's title, the class in colour, its text."""
    colour = "warning" if risk_class == URGENT_CLASS else "comment"
    lines = [f"**{draft.title}**"]
    if risk_class is not None:
        lines.append(f'> 风险等级：<font color="{colour}">{risk_class}级</font>')
    lines.append(f"> {draft.body}")
    return "\n".join(lines)


def robots_for(school: School, risk_class: int) -> list[NoticeRobot]:
    """The enabled robots that post this class: the school's own and those of the regions covering it."""
    covering = select(Region.id).where(literal(school.region.path).startswith(Region.path))
    robots = db.session.scalars(
        select(NoticeRobot).where(NoticeRobot.enabled.is_(True),
                                  (NoticeRobot.school_id == school.id) | NoticeRobot.region_id.in_(covering))
        .order_by(NoticeRobot.id))
    return [robot for robot in robots if risk_class in (robot.classes or [])]


def sms_deliveries(draft: NoticeDraft, notice_ids: dict[int, int], choices: dict[int, Choice], key: str,
                   now: datetime) -> int:
    """The SMS rows of notices just written (``notice_ids``: user → notice id), in the same transaction: one per
    person who chose SMS, due when their WeChat copy is (quiet hours), keyed by the cause; returns how many."""
    if draft.purpose not in SMS_PURPOSES or draft.subject_type != "violation":
        return 0
    risk_class = risk_class_of(draft)
    params = sms_params(draft, risk_class)
    added = 0
    for uid, notice_id in sorted(notice_ids.items()):
        choice = choices.get(uid)
        if choice is None or not choice.sms or not choice.phone or risk_class not in choice.sms_classes:
            continue
        added += _deliver(ChannelName.SMS, f"{key}:u{uid}:sms", draft, risk_class, {"params": params},
                          due_for(choice, risk_class, now), now, notice_id=notice_id, user_id=uid, phone=choice.phone)
    return added


def robot_deliveries(draft: NoticeDraft, key: str, now: datetime) -> int:
    """The robot posts of a notice's cause (once per cause and robot); returns how many were added."""
    risk_class = risk_class_of(draft)
    if draft.purpose not in ROBOT_PURPOSES or draft.school_id is None or risk_class is None:
        return 0
    school = db.session.get(School, draft.school_id)
    added = 0
    for robot in robots_for(school, risk_class):
        added += _deliver(ChannelName.WECOM, f"{key}:robot{robot.id}", draft, risk_class,
                          {"markdown": robot_markdown(draft, risk_class)}, now, now, robot_id=robot.id)
    return added


def _deliver(channel: str, key: str, draft: NoticeDraft, risk_class: int | None, content: dict[str, Any],
             due: datetime, now: datetime, **target: Any) -> int:
    values = {"channel": channel, "school_id": draft.school_id, "subject_type": draft.subject_type,
              "subject_id": draft.subject_id, "risk_class": risk_class, "content": content,
              "idempotency_key": key[:200], "created_at": now, "status": NoticeStatus.PENDING, "attempts": 0,
              "attempt_budget": MAX_CHANNEL_ATTEMPTS, "next_attempt_at": due, "possible_duplicates": 0, **target}
    return 1 if insert_if_absent(ChannelDelivery, values, ["idempotency_key"]) is not None else 0
