"""Tables of the detection workers and the scheduler.

``camera_monitor`` holds one row per sampled camera: the installer's tuning, the detection engine's memory
(quality baseline, motion reference picture), the rules' memory (streaks, open events, cooldowns), the
current health and the sample bookkeeping that makes a redone task a no-op. ``version`` is an optimistic
lock: two workers that sampled the same camera at once cannot both commit.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import CameraOwnedRef, DefaultNow, IntPK, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class HealthStatus(LabelledStrEnum):
    """A camera's health: ``ok`` or its most important picture problem (see workers.camera.camera_health)."""

    UNKNOWN = "unknown", "尚未检测"
    OK = "ok", "正常"
    OFFLINE = "offline", "离线"
    FROZEN = "frozen", "画面冻结"
    OCCLUDED = "occluded", "画面遮挡"
    TOO_DARK = "too_dark", "画面过暗"
    TOO_BRIGHT = "too_bright", "画面过亮"
    BLURRED = "blurred", "画面模糊"
    COLOUR_CAST = "colour_cast", "画面偏色"


HEALTH_LABELS: dict[str, str] = HealthStatus.labels()

#: Picture problems, most important first: the one an operator must fix before the others can even be judged
#: (the worker reports the first one present; the console lists cameras in this order).
HEALTH_PRIORITY: tuple[HealthStatus, ...] = (
    HealthStatus.OFFLINE, HealthStatus.FROZEN, HealthStatus.OCCLUDED, HealthStatus.TOO_DARK,
    HealthStatus.TOO_BRIGHT, HealthStatus.BLURRED, HealthStatus.COLOUR_CAST,
)

#: Statuses of a camera that delivers no picture now (offline, or not checked yet): the one rule behind every
#: "cameras online" figure (the overview's, the camera health report's and its uptime).
NOT_ONLINE: frozenset[str] = frozenset({HealthStatus.OFFLINE.value, HealthStatus.UNKNOWN.value})


class CameraMonitor(db.Model):
    """Everything the workers remember about one camera between samples."""

    __tablename__ = "camera_monitor"

    camera_id: Mapped[CameraOwnedRef] = mapped_column(primary_key=True)
    # Installer overrides of the rule and engine defaults (validated by workers.camera.tuning).
    tuning: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    engine_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rule_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    health_status: Mapped[str] = mapped_column(String(16), default=HealthStatus.UNKNOWN)
    health_since: Mapped[datetime | None]
    # Sample slots are floor(unix time / sampling interval): the identity of one sample of one camera.
    last_done_slot: Mapped[int] = mapped_column(BigInteger, default=-1)
    last_enqueued_slot: Mapped[int] = mapped_column(BigInteger, default=-1)
    last_enqueued_at: Mapped[datetime | None]
    last_sample_at: Mapped[datetime | None]
    last_result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[DefaultNow]


class CameraTuningChange(db.Model):
    """One change of a camera's tuning of a kind (migration 0033): a confidence threshold raised because most of
    the kind's reviewed alarms on this camera were false (``reason`` ``false_alarms``, no actor), with the verdicts
    that made it; ``reverted_at`` / ``reverted_by_id`` once an installer or admin took it back
    (``backend/monitoring/false_alarms.py``)."""

    __tablename__ = "camera_tuning_change"

    id: Mapped[IntPK]
    camera_id: Mapped[CameraOwnedRef] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(32))
    setting: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[float] = mapped_column(Float)
    new_value: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(16))
    verdicts: Mapped[int] = mapped_column(Integer)
    false_positives: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[UserRef | None]
    reverted_at: Mapped[datetime | None]
    reverted_by_id: Mapped[UserRef | None]


class CameraHealthEvent(db.Model):
    """One change of a camera's health (written once per change, never once per sample)."""

    __tablename__ = "camera_health_event"
    __table_args__ = (Index("ix_camera_health_event_camera_at", "camera_id", "at"),)

    id: Mapped[IntPK]
    camera_id: Mapped[CameraOwnedRef]
    at: Mapped[datetime]
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SchedulerLease(db.Model):
    """A named lease: the scheduler holding ``scheduler`` is the one that fires jobs."""

    __tablename__ = "scheduler_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]


class JobRunStatus(StrEnum):
    """Life of one fire of a periodic job."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(db.Model):
    """One fire of a periodic job; the unique (job, scheduled_for) makes each fire run once."""

    __tablename__ = "job_run"
    __table_args__ = (UniqueConstraint("job_name", "scheduled_for"),
                      Index("ix_job_run_job_name_started_at", "job_name", "started_at"))

    id: Mapped[IntPK]
    job_name: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=JobRunStatus.RUNNING)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
