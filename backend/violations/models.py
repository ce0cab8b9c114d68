"""Violations and the log of every transition they go through."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db_types import DefaultNow, IntPK, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class ViolationKind(LabelledStrEnum):
    """What went wrong."""

    NO_MASK = "no_mask", "未佩戴口罩"
    NO_HAT = "no_hat", "未佩戴厨师帽"
    NO_UNIFORM = "no_uniform", "未穿工作服"
    SMOKING = "smoking", "后厨吸烟"
    PHONE = "phone", "操作时使用手机"
    RODENT = "rodent", "发现鼠患"
    PERSON_AFTER_HOURS = "person_after_hours", "非工作时间有人进入后厨"
    CAMERA_OFFLINE = "camera_offline", "摄像头离线"
    # A kitchen camera offline while a meal is prepared or served: raised once per outage by the risk job
    # (backend/risk/camera_outages.py), a regulated fact of its own (class 1 by default).
    CAMERA_OFFLINE_MEAL = "camera_offline_meal", "就餐时段摄像头离线"
    CAMERA_BLURRED = "camera_blurred", "摄像头画面模糊"
    CAMERA_OCCLUDED = "camera_occluded", "摄像头被遮挡"
    SAMPLE_MISSING = "sample_missing", "未按规定留样"
    DISINFECTION_MISSING = "disinfection_missing", "未记录餐具消毒"
    CERTIFICATE_EXPIRED = "certificate_expired", "供应商证照过期仍在使用"
    MORNING_CHECK_MISSING = "morning_check_missing", "未按规定晨检"
    HEALTH_CERTIFICATE_EXPIRED = "health_certificate_expired", "从业人员健康证过期仍上岗"
    INSPECTION_FINDING = "inspection_finding", "监督检查发现问题"
    REPORTED = "reported", "群众反映问题"


# Kinds about the camera rather than the kitchen: the school's own maintenance work.
CAMERA_HEALTH_KINDS = frozenset({ViolationKind.CAMERA_OFFLINE, ViolationKind.CAMERA_BLURRED,
                                 ViolationKind.CAMERA_OCCLUDED, ViolationKind.CAMERA_OFFLINE_MEAL})

KIND_LABELS: dict[str, str] = ViolationKind.labels()

# What the kitchen hears when a canned prompt of a kind is broadcast to its cameras' speakers (一键喊话,
# backend/live/talk.py): only the kinds a person in the kitchen can put right on the spot.
KIND_PROMPTS: dict[str, str] = {
    ViolationKind.NO_MASK: "请规范佩戴口罩、帽子",
    ViolationKind.NO_HAT: "请规范佩戴厨师帽",
    ViolationKind.NO_UNIFORM: "请规范穿着工作服",
    ViolationKind.SMOKING: "后厨禁止吸烟，请立即熄灭",
    ViolationKind.PHONE: "操作时请勿使用手机",
    ViolationKind.PERSON_AFTER_HOURS: "非工作时间请勿进入后厨",
    ViolationKind.CAMERA_OCCLUDED: "请勿遮挡摄像头",
}


class ViolationSource(LabelledStrEnum):
    """Who found it."""

    AI = "ai", "智能识别"
    RECORD_RULE = "record_rule", "台账核查"
    INSPECTION = "inspection", "监督检查"
    REPORT = "report", "举报反映"
    PATROL = "patrol", "视频巡查"
    # Raised from the cameras' health history (backend/risk/camera_outages.py): a fact, not an AI judgement,
    # so it skips the alarm review.
    MONITORING = "monitoring", "设备监测"


SOURCE_LABELS: dict[str, str] = ViolationSource.labels()


# Found by a regulator (a joint inspection, an online patrol): the regulator reviews the rectification.
REGULATOR_SOURCES = frozenset({ViolationSource.INSPECTION, ViolationSource.PATROL})


class ViolationStatus(LabelledStrEnum):
    """open → notified → rectifying → submitted → closed, or submitted → rejected → rectifying."""

    OPEN = "open", "待通知"
    NOTIFIED = "notified", "待整改"
    RECTIFYING = "rectifying", "整改中"
    SUBMITTED = "submitted", "待复核"
    CLOSED = "closed", "已办结"
    REJECTED = "rejected", "已驳回"


# Statuses in which the school still owes a fix: the escalation clock runs and the stats call them overdue.
ACTIVE_STATUSES = frozenset({ViolationStatus.OPEN, ViolationStatus.NOTIFIED, ViolationStatus.RECTIFYING,
                             ViolationStatus.REJECTED})

STATUS_LABELS: dict[str, str] = ViolationStatus.labels()


class Resolution(StrEnum):
    """How a closed violation ended: fixed, or withdrawn as a false alarm."""

    RECTIFIED = "rectified"
    DISMISSED = "dismissed"


class Verdict(StrEnum):
    """A reviewer's decision on a rectification."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


# An AI alarm still open: the review queue's pending page looks among these (the index below).
OPEN_ALARM = "source = 'ai' AND status <> 'closed'"

# The columns the figures read (backend/violations/stats.py, overview.py), carried in the covering indexes.
COVERED = ["school_id", "kind", "source", "status", "resolution", "due_at", "closed_at"]
# A violation not closed yet: the lists of 在整改 and 逾期 (and their totals) look among these (the index below).
NOT_CLOSED = "status <> 'closed'"
# The columns the lists' filters read besides the period, carried in that index.
OPEN_COVERED = ["school_id", "kind", "source", "status", "due_at", "escalation_level"]


class Violation(db.Model):
    """One problem in one canteen. ``idempotency_key`` makes the same event never count twice."""

    __tablename__ = "violation"
    __table_args__ = (Index("ix_violation_school_status", "school_id", "status"),
                      Index("ix_violation_status_due", "status", "due_at"),
                      # The console's figures at province scale (migration 0021): a period's violations of a
                      # province (by day found) or of some schools, and those closed in the period, read from
                      # the index alone (PostgreSQL's INCLUDE; SQLite keeps only the keys).
                      Index("ix_violation_created_cover", "created_at", postgresql_include=COVERED),
                      Index("ix_violation_school_created", "school_id", "created_at", postgresql_include=COVERED),
                      Index("ix_violation_closed_at", "closed_at",
                            postgresql_include=["school_id", "resolution", "created_at"]),
                      # The review queue and its cursor: a school's AI alarms, newest first.
                      Index("ix_violation_school_source_id", "school_id", "source", "id"),
                      # A region's pending queue (migration 0025): its open AI alarms newest first; the
                      # pending ones (no verdict yet) are most of the recent ones, so a page reads a few rows.
                      Index("ix_violation_open_alarm", "id", postgresql_include=["school_id", "kind"],
                            postgresql_where=text(OPEN_ALARM), sqlite_where=text(OPEN_ALARM)),
                      # A period's violations not closed yet (migration 0029): the 在整改 / 逾期 lists count a
                      # province's in a tenth of the rows ix_violation_created_cover holds (most are closed).
                      Index("ix_violation_open_created", "created_at", postgresql_include=OPEN_COVERED,
                            postgresql_where=text(NOT_CLOSED), sqlite_where=text(NOT_CLOSED)))

    id: Mapped[IntPK]
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"), index=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("camera.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ViolationStatus.OPEN)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # Object-store keys: {"annotated": ..., "parent_safe": ...}; never URLs (those are signed per read).
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    confidence: Mapped[float | None] = mapped_column(Float)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    occurred_at: Mapped[datetime]
    created_at: Mapped[DefaultNow] = mapped_column(index=True)
    due_at: Mapped[datetime]
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    created_by_id: Mapped[UserRef | None]
    # Set when closed: rectified, or dismissed as a false alarm (stats count only the first as fixed).
    resolution: Mapped[str | None] = mapped_column(String(16))
    # When the last escalation happened; the next level waits a full step after it.
    escalated_at: Mapped[datetime | None]
    # 1, 2 or 3 (backend/risk/classes.py), fixed when raised from the region's settings of that moment: a later
    # change of the settings does not rewrite what a school was told.
    risk_class: Mapped[int | None] = mapped_column(Integer)

    events: Mapped[list[ViolationEvent]] = relationship(back_populates="violation", order_by="ViolationEvent.id")
    rectifications: Mapped[list[Rectification]] = relationship(back_populates="violation",
                                                               order_by="Rectification.id")


class ViolationEvent(db.Model):
    """One transition of a violation: who, when, from what to what, and why."""

    __tablename__ = "violation_event"
    # The food-safety index's incremental run finds the violations changed since its last run (migration 0036).
    __table_args__ = (Index("ix_violation_event_at", "at"),)

    id: Mapped[IntPK]
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation.id"), index=True)
    at: Mapped[DefaultNow]
    actor_id: Mapped[UserRef | None]
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    violation: Mapped[Violation] = relationship(back_populates="events")


class Rectification(db.Model):
    """What the canteen did about a violation (measures and photos), and the reviewer's verdict."""

    __tablename__ = "rectification"

    id: Mapped[IntPK]
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation.id"), index=True)
    measures: Mapped[str] = mapped_column(Text)
    # Object-store keys of the photos taken after the fix.
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    submitted_by_id: Mapped[UserRef]
    submitted_at: Mapped[DefaultNow]
    reviewed_by_id: Mapped[UserRef | None]
    reviewed_at: Mapped[datetime | None]
    verdict: Mapped[str | None] = mapped_column(String(16))
    review_reason: Mapped[str | None] = mapped_column(Text)

    violation: Mapped[Violation] = relationship(back_populates="rectifications")


class AlarmVerdict(LabelledStrEnum):
    """A reviewer's decision on an AI alarm (a violation with source ``ai``)."""

    CONFIRMED = "confirmed", "确认属实"
    FALSE_POSITIVE = "false_positive", "误报"
    ESCALATED = "escalated", "升级督办"


# Verdicts that release an AI alarm to parents and the parents' committee; until one of them, and after a
# false positive for good, the alarm is the school's and the regulators' only.
PUBLIC_VERDICTS = frozenset({AlarmVerdict.CONFIRMED, AlarmVerdict.ESCALATED})


class AlarmReview(db.Model):
    """The current (and only) verdict on one AI alarm: who, when, what and why.

    One row per violation (a second, different verdict is refused); the violation's events keep the history.
    """

    __tablename__ = "alarm_review"

    id: Mapped[IntPK]
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation.id"), unique=True)
    verdict: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    reviewer_id: Mapped[UserRef]
    reviewed_at: Mapped[DefaultNow] = mapped_column(index=True)
    # The reviewer's corrected boxes of a confirmed alarm (migration 0033): [{"label", "x1", "y1", "x2", "y2"}]
    # in fractions of the picture; null: the detector's boxes stand (backend/violations/training_set.py).
    boxes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class StatsVersion(db.Model):
    """One row whose token changes in every transaction that writes violations, their events, schools or
    regions (``violations/stats_cache.py``): cached 总览 figures are reused only while it is unchanged."""

    __tablename__ = "stats_version"

    id: Mapped[IntPK]
    token: Mapped[str] = mapped_column(String(32))
