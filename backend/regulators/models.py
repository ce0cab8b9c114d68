"""Regulators' work: random spot checks, joint inspection rounds with findings, and supervision orders."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db_types import DefaultNow, IntPK, SchoolRef, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class SpotCheck(db.Model):
    """A reproducible random sample of canteens in a region.

    The sample is the ``sample_size`` canteens of ``population_ids`` with the smallest
    sha256("<seed>:<canteen id>"): anyone holding the seed and the population can recompute it.
    """

    __tablename__ = "spot_check"

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    seed: Mapped[str] = mapped_column(String(64))
    sample_size: Mapped[int] = mapped_column(Integer)
    school_kind: Mapped[str | None] = mapped_column(String(20))
    population_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    canteen_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[UserRef]
    created_at: Mapped[DefaultNow]


class RoundStatus(LabelledStrEnum):
    """Life of an inspection round: planned, its visits recorded while it runs, then completed."""

    PLANNED = "planned", "进行中"
    COMPLETED = "completed", "已完成"


class InspectionRound(db.Model):
    """A joint inspection of several canteens by several inspectors (执法人员不少于两人)."""

    __tablename__ = "inspection_round"

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    spot_check_id: Mapped[int | None] = mapped_column(ForeignKey("spot_check.id"))
    title: Mapped[str] = mapped_column(String(100))
    planned_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.PLANNED)
    summary: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[UserRef]
    created_at: Mapped[DefaultNow]
    completed_at: Mapped[datetime | None]

    inspectors: Mapped[list[InspectionInspector]] = relationship(order_by="InspectionInspector.id")
    targets: Mapped[list[InspectionTarget]] = relationship(order_by="InspectionTarget.id")
    findings: Mapped[list[InspectionFinding]] = relationship(order_by="InspectionFinding.id")


class InspectionInspector(db.Model):
    """An inspector taking part in a round."""

    __tablename__ = "inspection_inspector"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[IntPK]
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    user_id: Mapped[UserRef]
    lead: Mapped[bool] = mapped_column(Boolean, default=False)


class InspectionTarget(db.Model):
    """A canteen a round visits, and what the visit concluded."""

    __tablename__ = "inspection_target"
    __table_args__ = (UniqueConstraint("round_id", "canteen_id"),)

    id: Mapped[IntPK]
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"))
    result: Mapped[str | None] = mapped_column(String(16))
    visited_at: Mapped[datetime | None]


class Severity(LabelledStrEnum):
    """How serious a finding is (an inspection's, a patrol's)."""

    MINOR = "minor", "一般"
    MAJOR = "major", "较重"
    CRITICAL = "critical", "严重"


class InspectionFinding(db.Model):
    """What an inspector found in one canteen; it may open a violation (source ``inspection``)."""

    __tablename__ = "inspection_finding"
    __table_args__ = (Index("ix_inspection_finding_created_at", "created_at"),)

    id: Mapped[IntPK]
    round_id: Mapped[int] = mapped_column(ForeignKey("inspection_round.id"), index=True)
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"))
    inspector_id: Mapped[UserRef]
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violation.id"))
    created_at: Mapped[DefaultNow]


class OrderStatus(LabelledStrEnum):
    """Life of a supervision order."""

    ISSUED = "issued", "待答复"
    RESPONDED = "responded", "已答复"
    CLOSED = "closed", "已办结"


class SupervisionOrder(db.Model):
    """A regulator's written order to a school to fix something by a date (监督整改通知)."""

    __tablename__ = "supervision_order"

    id: Mapped[IntPK]
    school_id: Mapped[SchoolRef]
    title: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    violation_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=OrderStatus.ISSUED)
    issued_by_id: Mapped[UserRef]
    issued_at: Mapped[DefaultNow]
    response: Mapped[str | None] = mapped_column(Text)
    responded_by_id: Mapped[UserRef | None]
    responded_at: Mapped[datetime | None]
    closed_by_id: Mapped[UserRef | None]
    closed_at: Mapped[datetime | None]
    close_reason: Mapped[str | None] = mapped_column(Text)
