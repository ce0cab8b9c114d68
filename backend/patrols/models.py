"""Online patrol (视频巡查): a regulator walks the video wall through a set of canteens' cameras; the round keeps
who watched which camera from when to when, and what was found (each finding with a snapshot as evidence)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backend.db_types import DefaultNow, IntPK, UserRef
from backend.extensions import db


class PatrolStatus(StrEnum):
    """A round is running until its regulator ends it."""

    ACTIVE = "active"
    ENDED = "ended"


class PatrolRound(db.Model):
    """One patrol of a regulator over chosen canteens of a region (or all of the region's)."""

    __tablename__ = "patrol_round"

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    canteen_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default=PatrolStatus.ACTIVE)
    summary: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[UserRef]
    started_at: Mapped[DefaultNow]
    ended_at: Mapped[datetime | None]

    views: Mapped[list[PatrolView]] = relationship(order_by="PatrolView.id")
    findings: Mapped[list[PatrolFinding]] = relationship(order_by="PatrolFinding.id")


class PatrolCamera:
    """A patrol's row about one camera on its wall, and the canteen the camera is in."""

    patrol_id: Mapped[int] = mapped_column(ForeignKey("patrol_round.id"), index=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("camera.id"))
    canteen_id: Mapped[int] = mapped_column(ForeignKey("canteen.id"))


class PatrolView(PatrolCamera, db.Model):
    """A camera on the patrol's wall from ``started_at`` until ``ended_at`` (open while it is on screen)."""

    __tablename__ = "patrol_view"

    id: Mapped[IntPK]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class PatrolFinding(PatrolCamera, db.Model):
    """What the regulator saw on one camera: a snapshot (object-store key) as evidence, and the violation or
    inspection finding it opened."""

    __tablename__ = "patrol_finding"

    id: Mapped[IntPK]
    inspector_id: Mapped[UserRef]
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    snapshot_key: Mapped[str] = mapped_column(String(255))
    violation_id: Mapped[int | None] = mapped_column(ForeignKey("violation.id"))
    inspection_finding_id: Mapped[int | None] = mapped_column(ForeignKey("inspection_finding.id"))
    created_at: Mapped[DefaultNow]
