"""Tables of the risk feature: each region's own class settings, card durations and early-warning limits, the
cards issued and the early warnings raised.

A region without a row of its own inherits its parent's (and, at the top, the shipped defaults of
``backend/risk/classes.py``); only the regulators of a region write its rows (``backend/risk/settings.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import text as text_clause
from sqlalchemy.orm import Mapped, mapped_column

from backend.db_types import IntPK, UserRef
from backend.enums import LabelledStrEnum
from backend.extensions import db


class WarningKind(LabelledStrEnum):
    """What an early warning (预警) is about: a trend or a coming deadline, before it becomes a violation."""

    RECORDS_COMPLETENESS = "records_completeness", "台账完整率偏低"
    SUPPLIER_CERTIFICATE = "supplier_certificate", "供应商证照到期"
    HEALTH_CERTIFICATE = "health_certificate", "健康证到期或未登记"
    REPEATED_VIOLATION = "repeated_violation", "同类问题反复出现"
    CAMERA_UPTIME = "camera_uptime", "摄像头在线率偏低"
    RECTIFICATION_DRIFT = "rectification_drift", "整改临近期限"
    LATE_RECTIFICATIONS = "late_rectifications", "逾期整改占比上升"


WARNING_LABELS: dict[str, str] = WarningKind.labels()


class CardColor(LabelledStrEnum):
    """A card earned by an overdue class-1 or class-2 problem: yellow first, red if it stays open."""

    YELLOW = "yellow", "黄牌"
    RED = "red", "红牌"


CARD_LABELS: dict[str, str] = CardColor.labels()


class SettingChange:
    """Who last changed a region's own setting, and when (``backend/risk/settings.py`` writes both; the audit log
    keeps the history); a region's setting rows hold them after their values."""

    updated_by_id: Mapped[UserRef | None]
    updated_at: Mapped[datetime]


class RiskKindSetting(SettingChange, db.Model):
    """A region's own class and rectification deadline for one violation kind (absent: inherited)."""

    __tablename__ = "risk_kind_setting"
    __table_args__ = (UniqueConstraint("region_id", "kind"),)

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    kind: Mapped[str] = mapped_column(String(32))
    risk_class: Mapped[int] = mapped_column(Integer)
    deadline_hours: Mapped[int] = mapped_column(Integer)


class RiskCardSetting(SettingChange, db.Model):
    """A region's own card durations (absent: inherited): hours after the deadline for a yellow card, and
    hours after the yellow card for a red one."""

    __tablename__ = "risk_card_setting"

    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), primary_key=True)
    yellow_after_hours: Mapped[int] = mapped_column(Integer)
    red_after_hours: Mapped[int] = mapped_column(Integer)


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
    lifted_by_id: Mapped[UserRef | None]
    lift_reason: Mapped[str | None] = mapped_column(Text)


class RiskWarningSetting(SettingChange, db.Model):
    """A region's own value of one early-warning limit (absent: inherited; ``backend/risk/classes.py``
    ``WARNING_LIMITS`` names them and holds the defaults)."""

    __tablename__ = "risk_warning_setting"
    __table_args__ = (UniqueConstraint("region_id", "name"),)

    id: Mapped[IntPK]
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    name: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(Integer)


class RiskWarning(db.Model):
    """One early warning (预警): a rule found a fact that makes a violation likely (``backend/risk/early_warning.py``).

    ``key`` (kind, fact and the Shanghai day the episode began) is unique, so the nightly job raises a fact once
    however often it runs; while the fact holds, later runs refresh ``reason``/``data``/``seen_at`` of the same
    row; once it no longer holds the row is resolved (``resolved_at``), and a later return is a new warning.
    """

    __tablename__ = "risk_warning"
    __table_args__ = (Index("ix_risk_warning_school_raised", "school_id", "raised_at"),
                      Index("ix_risk_warning_open", "kind", "fact", postgresql_where=text_clause("resolved_at IS NULL"),
                            sqlite_where=text_clause("resolved_at IS NULL")))

    id: Mapped[IntPK]
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    fact: Mapped[str] = mapped_column(String(120))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"))
    canteen_id: Mapped[int | None] = mapped_column(ForeignKey("canteen.id"))
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    raised_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[UserRef | None]
    ack_note: Mapped[str | None] = mapped_column(Text)
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
