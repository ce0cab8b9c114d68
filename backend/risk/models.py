"""Tables of the risk feature: each region's own class settings, its card durations, and the cards issued.

A region without a row of its own inherits its parent's (and, at the top, the shipped defaults of
``backend/risk/classes.py``); only the regulators of a region write its rows (``backend/risk/settings.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import IntPK
from backend.enums import LabelledStrEnum
from backend.extensions import db


class CardColor(LabelledStrEnum):
    """A card earned by an overdue class-1 or class-2 problem: yellow first, red if it stays open."""

    YELLOW = "yellow", "黄牌"
    RED = "red", "红牌"


CARD_LABELS: dict[str, str] = CardColor.labels()


class RiskKindSetting(db.Model):
    """A region's own class and rectification deadline for one violation kind (absent: inherited)."""

    __tablename__ = "risk_kind_setting"
    __table_args__ = (UniqueConstraint("region_id", "kind"),)

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    kind: Mapped[str] = mapped_column(String(32))
    risk_class: Mapped[int] = mapped_column(Integer)
    deadline_hours: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]


class RiskCardSetting(db.Model):
    """A region's own card durations (absent: inherited): hours after the deadline for a yellow card, and
    hours after the yellow card for a red one."""

    __tablename__ = "risk_card_setting"

    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    yellow_after_hours: Mapped[int] = mapped_column(Integer)
    red_after_hours: Mapped[int] = mapped_column(Integer)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime]


class RiskCard(db.Model):
    """One card of one violation. The unique (violation, color) makes the issuing job idempotent; a card is
    never deleted: a regulator lifts it with a reason (audited), and it stays on record as lifted."""

    __tablename__ = "risk_card"
    __table_args__ = (UniqueConstraint("violation_id", "color"),
                      Index("ix_risk_card_school_issued", "school_id", "issued_at"))

    id: Mapped[IntPK]
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    color: Mapped[str] = mapped_column(String(8))
    risk_class: Mapped[int] = mapped_column(Integer)
    # The moment the card was earned (deadline + yellow duration, yellow + red duration), not when the job
    # ran: a late or repeated run issues the same card with the same time.
    issued_at: Mapped[datetime]
    lifted_at: Mapped[datetime | None]
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    lift_reason: Mapped[str | None] = mapped_column(Text)
