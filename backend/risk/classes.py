"""Risk classes: what each class of problem means, the shipped defaults, and a region's effective settings.

The logic follows Hubei's 阳光智厨 scheme (风险分级): **class 1** (一级) is a direct threat to the food children
eat, or the loss of the means to see it, and is acted on at once; **class 2** (二级) is a breach of hygiene or
procedure with a firm deadline; **class 3** (三级) is routine supervision the school handles itself. Class 1
and 2 reach the school's responsible people and the region's inspectors at the same moment (双推送), climb to
the regulator when overdue (class 1 at once, class 2 a day later) and earn yellow, then red cards; class 3
stops at the principal.

Shipped defaults (a region's regulators may change any of them; ``docs/risk.md`` has the table and reasons):

====================== ===== ======== ===========================================================
kind                   class deadline why
====================== ===== ======== ===========================================================
rodent                 1     12 h     pests in the kitchen: contamination now (阳光智厨's example)
camera_offline_meal    1     8 h      nobody can see the kitchen while food is made (DB53/T 1173)
sample_missing         1     24 h     without a retained sample an outbreak cannot be traced
certificate_expired    1     24 h     food from an unlicensed supplier (DB53/T 1173: a formal warning)
smoking                2     12 h     阳光智厨's example of class 2: a behaviour, fixed by a deadline
person_after_hours     2     24 h     unexplained access to the kitchen
disinfection_missing   2     24 h     tableware hygiene not shown
camera_occluded        2     8 h      deliberately blocking the view
inspection_finding     2     48 h     a regulator found it on site
reported               2     48 h     a parent or the public reported it
no_mask, no_hat,       3     48 h     dress and conduct: frequent, fixed on the spot, left to the
no_uniform, phone                     school's routine supervision
camera_offline         3     8 h      an outage outside meal hours: upkeep (in meal hours it is
camera_blurred         3     24 h     ``camera_offline_meal``)
====================== ===== ======== ===========================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from backend.extensions import db
from backend.risk.models import RiskCardSetting, RiskKindSetting, RiskWarningSetting
from backend.schools.models import Region
from backend.violations.models import ViolationKind

RISK_CLASSES = (1, 2, 3)
CLASS_LABELS = {1: "一级", 2: "二级", 3: "三级"}
MIN_DEADLINE_HOURS, MAX_DEADLINE_HOURS = 1, 30 * 24
MAX_CARD_HOURS = 90 * 24

DEFAULT_KIND_SETTINGS: dict[str, tuple[int, int]] = {
    ViolationKind.RODENT: (1, 12),
    ViolationKind.CAMERA_OFFLINE_MEAL: (1, 8),
    ViolationKind.SAMPLE_MISSING: (1, 24),
    ViolationKind.CERTIFICATE_EXPIRED: (1, 24),
    ViolationKind.HEALTH_CERTIFICATE_EXPIRED: (1, 24),
    ViolationKind.MORNING_CHECK_MISSING: (2, 24),
    ViolationKind.SMOKING: (2, 12),
    ViolationKind.PERSON_AFTER_HOURS: (2, 24),
    ViolationKind.DISINFECTION_MISSING: (2, 24),
    ViolationKind.CAMERA_OCCLUDED: (2, 8),
    ViolationKind.INSPECTION_FINDING: (2, 48),
    ViolationKind.REPORTED: (2, 48),
    ViolationKind.NO_MASK: (3, 48),
    ViolationKind.NO_HAT: (3, 48),
    ViolationKind.NO_UNIFORM: (3, 48),
    ViolationKind.PHONE: (3, 48),
    ViolationKind.CAMERA_OFFLINE: (3, 8),
    ViolationKind.CAMERA_BLURRED: (3, 24),
}
# A kind unknown to the table (none today; a kind added later before its row) weighs as class 2.
FALLBACK_KIND_SETTING = (2, 48)
# 阳光智厨: a yellow card as soon as the deadline passes, a red one 5 days later if still not fixed.
DEFAULT_YELLOW_AFTER_HOURS = 0
DEFAULT_RED_AFTER_HOURS = 5 * 24


@dataclass(frozen=True)
class ClassPolicy:
    """What a class means for the people told and the clock.

    ``regulator_at_once``: the region's inspectors are told when the problem is found, with the school
    (双推送). ``regulator_after``: how long after the principal's escalation (level 1, at the deadline) the
    regulator takes the case over (level 2); None: never, the school's routine supervision. ``cards``: an
    overdue problem earns yellow and red cards.
    """

    regulator_at_once: bool
    regulator_after: timedelta | None
    cards: bool


POLICIES: dict[int, ClassPolicy] = {
    1: ClassPolicy(regulator_at_once=True, regulator_after=timedelta(0), cards=True),
    2: ClassPolicy(regulator_at_once=True, regulator_after=timedelta(hours=24), cards=True),
    3: ClassPolicy(regulator_at_once=False, regulator_after=None, cards=False),
}
CARD_CLASSES = tuple(c for c, policy in POLICIES.items() if policy.cards)


def policy_of(risk_class: int | None) -> ClassPolicy:
    """The policy of a class; a violation raised before classes existed (None) weighs as class 2."""
    return POLICIES.get(risk_class or 2, POLICIES[2])


@dataclass(frozen=True)
class KindSetting:
    """A kind's effective class and deadline in a region, and where it comes from (a region id, or None for
    the shipped default)."""

    kind: str
    risk_class: int
    deadline_hours: int
    from_region_id: int | None


@dataclass(frozen=True)
class CardSetting:
    """A region's effective card durations and where they come from (None: the shipped default)."""

    yellow_after_hours: int
    red_after_hours: int
    from_region_id: int | None


def ancestor_ids(path: str) -> list[int]:
    """The region ids of a materialised path ``/1/5/9/``, nearest last."""
    return [int(part) for part in path.strip("/").split("/") if part]


def nearest_own(rows: Iterable[tuple[int, str, Any]], chain: list[int]) -> dict[str, tuple[int, Any]]:
    """Of the own rows ``(region id, key, value)`` of the regions of ``chain`` (a region's path, nearest last),
    each key's nearest one: key → (region id, value). The one inheritance rule of every risk setting."""
    depth = {region_id: index for index, region_id in enumerate(chain)}
    nearest: dict[str, tuple[int, Any]] = {}
    for region_id, key, value in rows:
        if key not in nearest or depth[region_id] > depth[nearest[key][0]]:
            nearest[key] = (region_id, value)
    return nearest


def kind_settings(region_path: str, kinds: Iterable[str] | None = None) -> dict[str, KindSetting]:
    """Each kind's effective setting in the region of ``region_path``: its own row, else the nearest
    ancestor's, else the shipped default. One query."""
    wanted = list(kinds) if kinds is not None else [k.value for k in ViolationKind]
    chain = ancestor_ids(region_path)
    rows = db.session.execute(select(RiskKindSetting.region_id, RiskKindSetting.kind, RiskKindSetting.risk_class,
                                     RiskKindSetting.deadline_hours)
                              .where(RiskKindSetting.region_id.in_(chain), RiskKindSetting.kind.in_(wanted))).all()
    nearest = nearest_own(((region_id, kind, (risk_class, hours)) for region_id, kind, risk_class, hours in rows),
                          chain)
    result = {}
    for kind in wanted:
        if kind in nearest:
            region_id, (risk_class, hours) = nearest[kind]
            result[kind] = KindSetting(kind, risk_class, hours, region_id)
        else:
            risk_class, hours = DEFAULT_KIND_SETTINGS.get(kind, FALLBACK_KIND_SETTING)
            result[kind] = KindSetting(kind, risk_class, hours, None)
    return result


def kind_setting(region_path: str, kind: str) -> KindSetting:
    """One kind's effective setting in a region (what a new violation gets)."""
    return kind_settings(region_path, [kind])[kind]


def card_setting(region_path: str) -> CardSetting:
    """The region's effective card durations: its own, else the nearest ancestor's, else the default."""
    chain = ancestor_ids(region_path)
    rows = db.session.execute(select(RiskCardSetting.region_id, RiskCardSetting.yellow_after_hours,
                                     RiskCardSetting.red_after_hours)
                              .where(RiskCardSetting.region_id.in_(chain))).all()
    nearest = nearest_own(((region_id, "cards", (yellow, red)) for region_id, yellow, red in rows), chain)
    if "cards" in nearest:
        region_id, (yellow, red) = nearest["cards"]
        return CardSetting(yellow, red, region_id)
    return CardSetting(DEFAULT_YELLOW_AFTER_HOURS, DEFAULT_RED_AFTER_HOURS, None)


@dataclass(frozen=True)
class LimitSpec:
    """One early-warning limit (``backend/risk/early_warning.py``): its name, what the settings page calls it,
    the shipped default and the values a region may set."""

    name: str
    label: str
    default: int
    minimum: int
    maximum: int


# The early-warning limits and their defaults (docs/risk.md has the reasons).
WARNING_LIMITS: tuple[LimitSpec, ...] = (
    LimitSpec("completeness_min_percent", "近7天台账完整率低于（%）", 80, 1, 100),
    LimitSpec("completeness_drop_points", "台账完整率较前7天下降（百分点）", 20, 1, 100),
    LimitSpec("certificate_notice_days", "证照到期前提前预警（天）", 30, 1, 180),
    LimitSpec("repeat_count", "同一食堂同类问题次数达到", 3, 2, 50),
    LimitSpec("repeat_days", "同类问题统计天数", 30, 1, 90),
    LimitSpec("uptime_min_percent", "近7天摄像头在线率低于（%）", 95, 1, 100),
    LimitSpec("drift_percent", "整改已用时间超过期限的（%）", 50, 10, 100),
    LimitSpec("late_share_percent", "近30天逾期整改占比达到（%）", 30, 1, 100),
)
LIMIT_SPECS: dict[str, LimitSpec] = {spec.name: spec for spec in WARNING_LIMITS}


@dataclass(frozen=True)
class LimitSetting:
    """A limit's effective value in a region and where it comes from (None: the shipped default)."""

    name: str
    value: int
    from_region_id: int | None


def warning_limits(region_path: str) -> dict[str, LimitSetting]:
    """Every early-warning limit's effective value in the region: its own, else the nearest ancestor's, else the
    default. One query."""
    chain = ancestor_ids(region_path)
    rows = db.session.execute(select(RiskWarningSetting.region_id, RiskWarningSetting.name, RiskWarningSetting.value)
                              .where(RiskWarningSetting.region_id.in_(chain))).all()
    nearest = nearest_own(rows, chain)
    result = {}
    for spec in WARNING_LIMITS:
        region_id, value = nearest.get(spec.name, (None, spec.default))
        result[spec.name] = LimitSetting(spec.name, value, region_id)
    return result


def largest_limit(name: str) -> int:
    """The largest value of a limit in any region (or its default): how far back or ahead a rule must read."""
    own = db.session.scalar(select(func.max(RiskWarningSetting.value)).where(RiskWarningSetting.name == name))
    return max(LIMIT_SPECS[name].default, own or 0)


def region_path_of(region_id: int) -> str:
    """A region's materialised path."""
    return db.session.scalar(select(Region.path).where(Region.id == region_id)) or ""
