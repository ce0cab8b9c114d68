"""Notices (outbox and in-app inbox in one row per recipient), send attempts, subscription quotas, per-school
notice settings, WeChat push events and media checks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import DefaultNow, EncryptedText, IntPK, SchoolRef, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class NoticeStatus(LabelledStrEnum):
    """Where the WeChat copy of a notice stands; the inbox copy exists from the start whatever happens."""

    PENDING = "pending", "待发送"  # waiting for the dispatcher (first time, or after a backoff)
    SENT = "sent", "已发送"  # WeChat accepted the subscribe message
    INBOX_ONLY = "inbox_only", "仅站内消息"  # no quota, quota spent (43101) or no template configured: in-app only
    FAILED = "failed", "发送失败"  # gave up (permanent error or retries exhausted): visible to admins
    # An attempt's answer was lost and WeChat could not tell us since whether it was delivered; not sent again,
    # because a resend could be a second message (backend/notices/dispatcher.py): visible to admins.
    UNCONFIRMED = "unconfirmed", "可能已送达"


class AttemptOutcome(LabelledStrEnum):
    """What one send attempt ended as."""

    IN_FLIGHT = "in_flight", "发送中"  # claimed for sending; still so after a crash until the notice is reclaimed
    SENT = "sent", "成功"
    QUOTA_SPENT = "quota_spent", "订阅次数已用完"  # 43101
    RETRY = "retry", "稍后重试"  # transient (45009, 45011, -1, timeout, HTTP 5xx, token still refused)
    FAILED = "failed", "失败"  # permanent (bad template, openid, arguments...) or the last retry
    # The request may have reached WeChat but its answer was lost (timeout after sending, connection reset,
    # HTTP error): possibly delivered, so the notice is never blindly sent again.
    UNKNOWN = "unknown", "结果未知"
    # The dispatcher died with this attempt in flight: it may or may not have reached WeChat.
    INTERRUPTED = "interrupted", "发送中断"


class SubjectType(StrEnum):
    """What a notice is about."""

    VIOLATION = "violation"
    SUPERVISION_ORDER = "supervision_order"
    MEMBERSHIP = "membership"
    REGION = "region"
    # A record of a canteen's chain (a seal and its release).
    RECORD = "record"


class OutboxRow:
    """The dispatcher's side of an outbox row (a notice's WeChat copy, an SMS or robot delivery): its state, the
    attempts made and allowed, when it is due, and the claim of the dispatcher sending it now."""

    status: Mapped[str] = mapped_column(String(16), default=NoticeStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts allowed before giving up; an admin's retry raises it.
    attempt_budget: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class SendAttempt:
    """One try at sending an outbox row, recorded (in flight) before the request and completed after it."""

    number: Mapped[int] = mapped_column(Integer)
    # Indexed for the retention job, which deletes attempts by age (backend/notices/retention.py).
    claimed_at: Mapped[datetime] = mapped_column(index=True)
    # Committed just before the request leaves: an interrupted attempt without it provably never left.
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16), default=AttemptOutcome.IN_FLIGHT)
    dispatcher: Mapped[str | None] = mapped_column(String(64))


class Notice(OutboxRow, db.Model):
    """One message to one user: the in-app inbox item and the outbox row of its WeChat subscribe message.

    Written in the same transaction as the change it reports, so a rolled-back change leaves no notice.
    """

    __tablename__ = "notice"
    __table_args__ = (
        Index("ix_notice_due", "status", "next_attempt_at"),
        Index("ix_notice_inbox", "user_id", "id"),
        Index("ix_notice_subject", "subject_type", "subject_id"),
    )

    id: Mapped[IntPK]
    user_id: Mapped[UserRef]
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    # Raw values the template's keywords are built from at send time (strings, ISO times).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    page: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[DefaultNow]
    read_at: Mapped[datetime | None]
    msgid: Mapped[str | None] = mapped_column(String(32), index=True)
    # WeChat's own delivery report (subscribe_msg_sent_event): "success" or "failed:<reason>".
    delivery_report: Mapped[str | None] = mapped_column(String(100))
    # Sends made although an earlier attempt may already have been delivered (after a crash, with more than one
    # subscription left): each may have shown the recipient this message twice. Shown to admins.
    possible_duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class NoticeAttempt(SendAttempt, db.Model):
    """One try at sending a notice through WeChat."""

    __tablename__ = "notice_attempt"

    id: Mapped[IntPK]
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    errcode: Mapped[int | None] = mapped_column(Integer)
    errmsg: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class SubscriptionQuota(db.Model):
    """How many one-time subscribe messages of a template a user has granted and not yet received."""

    __tablename__ = "subscription_quota"
    __table_args__ = (UniqueConstraint("user_id", "template_id"),)

    id: Mapped[IntPK]
    user_id: Mapped[UserRef] = mapped_column(index=True)
    template_id: Mapped[str] = mapped_column(String(64))
    remaining: Mapped[int] = mapped_column(Integer, default=0)
    accepted_total: Mapped[int] = mapped_column(Integer, default=0)
    used_total: Mapped[int] = mapped_column(Integer, default=0)
    # The user's last choice: accept, reject, ban (WeChat's "拒绝并不再询问"/"总是保持以上选择").
    last_choice: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[DefaultNow]


class SubscriptionGrant(db.Model):
    """One report of an accepted subscription, from the mini-program or from a push event.

    The same tap in the subscribe pop-up is usually reported twice (by the client and by WeChat's push);
    a report is matched with an unmatched one of the other source close in time and counted once.
    """

    __tablename__ = "subscription_grant"
    __table_args__ = (Index("ix_subscription_grant_match", "user_id", "template_id", "source", "matched"),)

    id: Mapped[IntPK]
    user_id: Mapped[UserRef]
    template_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    matched: Mapped[bool] = mapped_column(Boolean, default=False)


class SchoolNoticeSettings(db.Model):
    """A school's notice choices: which violation kinds it publishes to the parents' committee (and parents)."""

    __tablename__ = "school_notice_settings"

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), primary_key=True)
    published_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[DefaultNow]
    updated_by_id: Mapped[UserRef | None]


class WeChatPushEvent(db.Model):
    """Every push WeChat delivered, once: WeChat re-sends a push it got no quick answer to."""

    __tablename__ = "wechat_push_event"

    id: Mapped[IntPK]
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    openid: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[DefaultNow] = mapped_column(index=True)  # retention by age
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MediaCheckStatus(StrEnum):
    """WeChat's verdict on an image uploaded by a parent."""

    PENDING = "pending"
    PASS = "pass"
    REVIEW = "review"
    RISKY = "risky"
    UNCHECKED = "unchecked"  # WeChat could not be asked; shown to school staff only


class MediaCheck(db.Model):
    """An asynchronous WeChat content check of one uploaded image; the verdict arrives by push."""

    __tablename__ = "media_check"

    id: Mapped[IntPK]
    trace_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    object_key: Mapped[str] = mapped_column(String(300), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    user_id: Mapped[UserRef]
    status: Mapped[str] = mapped_column(String(16), default=MediaCheckStatus.PENDING)
    label: Mapped[int | None] = mapped_column(Integer)
    requested_at: Mapped[DefaultNow]
    decided_at: Mapped[datetime | None]
    errmsg: Mapped[str | None] = mapped_column(Text)


class NoticeChannelSetting(db.Model):
    """A person's choice of channels beside the in-app inbox (which is always on) and their quiet hours.

    No row: WeChat subscribe messages on, SMS off, no quiet hours (backend/notices/channels.py).
    """

    __tablename__ = "notice_channel_setting"

    user_id: Mapped[UserRef] = mapped_column(primary_key=True)
    wechat: Mapped[bool] = mapped_column(Boolean, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, default=False)
    # 11-digit mainland mobile number for SMS; None: the phone bound to the account.
    phone: Mapped[str | None] = mapped_column(String(20))
    # The risk classes worth an SMS to this person (default 1 and 2: class 3 is the school's routine).
    sms_classes: Mapped[list[int]] = mapped_column(JSON, default=list)
    # Quiet hours in Asia/Shanghai, "HH:MM" (start inclusive, end exclusive; may run through midnight).
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    updated_at: Mapped[DefaultNow]


class NoticeRobot(db.Model):
    """A WeCom group robot (企业微信群机器人) of a school or a region: the group hears of its violations."""

    __tablename__ = "notice_robot"

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef | None]
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # The webhook's key: whoever has it can post to the group, so it is encrypted at rest and never shown whole.
    webhook_key: Mapped[str] = mapped_column(EncryptedText)
    key_hint: Mapped[str] = mapped_column(String(8))
    # The risk classes posted to the group (violations found, escalations, cards).
    classes: Mapped[list[int]] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[DefaultNow]
    updated_at: Mapped[DefaultNow]
    updated_by_id: Mapped[UserRef | None]


class ChannelName(StrEnum):
    """Channels with their own outbox rows (the inbox and WeChat live on the notice row itself)."""

    SMS = "sms"
    WECOM = "wecom"


class ChannelDelivery(OutboxRow, db.Model):
    """One message through SMS (to a person, for one notice) or a WeCom robot (to a group, for one event).

    Written in the same transaction as the notice or change it reports; sent by
    ``backend/notices/channel_dispatcher.py`` with the same guarantees as the WeChat outbox.
    """

    __tablename__ = "channel_delivery"
    __table_args__ = (Index("ix_channel_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[IntPK]
    channel: Mapped[str] = mapped_column(String(8))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"), index=True)
    robot_id: Mapped[int | None] = mapped_column(ForeignKey("notice_robot.id"), index=True)
    user_id: Mapped[UserRef | None]
    phone: Mapped[str | None] = mapped_column(String(20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"))
    subject_type: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[int] = mapped_column(Integer)
    risk_class: Mapped[int | None] = mapped_column(Integer)
    # SMS: the template parameters; robot: the markdown text.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[DefaultNow]
    # The provider's id of the message (SMS SerialNo).
    external_id: Mapped[str | None] = mapped_column(String(64))
    # Sends made although an earlier attempt may already have been delivered: each may be a second message.
    possible_duplicates: Mapped[int] = mapped_column(Integer, default=0)


class ChannelAttempt(SendAttempt, db.Model):
    """One try at a channel delivery (an SMS or a robot post)."""

    __tablename__ = "channel_attempt"

    id: Mapped[IntPK]
    delivery_id: Mapped[int] = mapped_column(ForeignKey("channel_delivery.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(200))
