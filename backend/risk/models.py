"""Tables of the risk feature: each region's own class settings, its card durations, and the cards issued.

A region without a row of its own inherits its parent's (and, at the top, the shipped defaults of
``backend/risk/classes.py``); only the regulators of a region write its rows (``backend/risk/settings.py``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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


class RiskDailyFact(db.Model):
    """One school's measured day for the food-safety index (``backend/risk/index.py``): its canteens' record
    completeness (``records/completeness.py``: canteens complete over canteens, as the 总览 counts them) and its
    enabled cameras' online and known seconds (``monitoring/camera_uptime.py``). Written by the nightly job for
    each finished day, so a month's index reads 30 rows per school instead of the whole history."""

    __tablename__ = "risk_daily_fact"
    __table_args__ = (UniqueConstraint("school_id", "day"), Index("ix_risk_daily_fact_day", "day"),
                      Index("ix_risk_daily_fact_computed_at", "computed_at"))

    id: Mapped[IntPK]
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    day: Mapped[date] = mapped_column(Date)
    canteens: Mapped[int] = mapped_column(Integer)
    canteens_complete: Mapped[int] = mapped_column(Integer)
    online_seconds: Mapped[int] = mapped_column(Integer)
    known_seconds: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime]


class RiskIndex(db.Model):
    """A school's food-safety index (食安指数) of one month: the inputs it was computed from, the score and the
    阳光食堂 rating. The score is ``index_formula.score(inputs)``: recomputing from these columns gives it back."""

    __tablename__ = "risk_index"
    __table_args__ = (UniqueConstraint("school_id", "month"), Index("ix_risk_index_month_score", "month", "score"),
                      Index("ix_risk_index_computed_at", "computed_at"))

    id: Mapped[IntPK]
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    month: Mapped[date] = mapped_column(Date)  # the first day of the month
    as_of: Mapped[datetime]  # the end of the month, or the moment the current month was computed to
    class1: Mapped[int] = mapped_column(Integer)
    class2: Mapped[int] = mapped_column(Integer)
    class3: Mapped[int] = mapped_column(Integer)
    due: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)
    canteen_days: Mapped[int] = mapped_column(Integer)
    canteen_days_complete: Mapped[int] = mapped_column(Integer)
    online_seconds: Mapped[int] = mapped_column(Integer)
    known_seconds: Mapped[int] = mapped_column(Integer)
    alarms_confirmed: Mapped[int] = mapped_column(Integer)
    alarms_escalated: Mapped[int] = mapped_column(Integer)
    alarms_false: Mapped[int] = mapped_column(Integer)
    findings_minor: Mapped[int] = mapped_column(Integer)
    findings_major: Mapped[int] = mapped_column(Integer)
    findings_critical: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    rating: Mapped[str] = mapped_column(String(1))
    computed_at: Mapped[datetime]


class RiskIndexRun(db.Model):
    """One run of the index computation: the next run recomputes what changed since the start of the last run
    that finished (a run killed half-way leaves ``finished_at`` empty and is simply done again)."""

    __tablename__ = "risk_index_run"

    id: Mapped[IntPK]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    computed: Mapped[int] = mapped_column(Integer, default=0)
