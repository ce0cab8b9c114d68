"""A region's risk settings as its regulators read and change them, every change audited.

Reading shows each kind's effective class and deadline, the card durations and the early-warning limits with where each
comes from (the region itself, an ancestor, or the shipped default). Writing sets the region's own values, or with
``inherit`` drops its own value so the parent's applies again. The route checked that the caller regulates
the region; a regulator of a county cannot change its city's settings (``backend/permissions.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from backend.audit.actions import AuditAction
from backend.audit.models import AuditLog
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.permissions import Principal
from backend.risk.classes import CLASS_LABELS, LIMIT_SPECS, card_setting, kind_settings, warning_limits
from backend.risk.models import RiskCardSetting, RiskKindSetting, RiskWarningSetting
from backend.schools.models import Region
from backend.violations.models import KIND_LABELS

AUDIT_ACTION = AuditAction.RISK_SETTINGS


def _source(region: Region, from_region_id: int | None) -> dict[str, Any]:
    if from_region_id is None:
        return {"source": "default", "source_label": "系统默认", "source_region_id": None}
    if from_region_id == region.id:
        return {"source": "own", "source_label": "本地区设置", "source_region_id": region.id}
    name = db.session.scalar(select(Region.name).where(Region.id == from_region_id))
    return {"source": "inherited", "source_label": f"继承自{name}", "source_region_id": from_region_id}


def read_settings(region: Region) -> dict[str, Any]:
    """Every kind's effective class and deadline, and the card durations, each with its source."""
    kinds = [{"kind": s.kind, "kind_label": KIND_LABELS.get(s.kind, s.kind), "risk_class": s.risk_class,
              "risk_class_label": CLASS_LABELS[s.risk_class], "deadline_hours": s.deadline_hours,
              **_source(region, s.from_region_id)} for s in kind_settings(region.path).values()]
    cards = card_setting(region.path)
    limits = [{"name": limit.name, "label": LIMIT_SPECS[limit.name].label, "value": limit.value,
               "default": LIMIT_SPECS[limit.name].default, "minimum": LIMIT_SPECS[limit.name].minimum,
               "maximum": LIMIT_SPECS[limit.name].maximum, **_source(region, limit.from_region_id)}
              for limit in warning_limits(region.path).values()]
    return {"region_id": region.id, "region_name": region.name, "kinds": kinds,
            "cards": {"yellow_after_hours": cards.yellow_after_hours, "red_after_hours": cards.red_after_hours,
                      **_source(region, cards.from_region_id)},
            "warnings": limits}


def _set_kind(region: Region, item: dict[str, Any], actor_id: int, now: datetime) -> dict[str, Any] | None:
    """Apply one kind's change; the audit entry's part (None when nothing changed)."""
    own = db.session.scalar(select(RiskKindSetting).where(RiskKindSetting.region_id == region.id,
                                                          RiskKindSetting.kind == item["kind"]))
    before = None if own is None else [own.risk_class, own.deadline_hours]
    if item.get("inherit"):
        if own is None:
            return None
        db.session.execute(delete(RiskKindSetting).where(RiskKindSetting.id == own.id))
        return {"kind": item["kind"], "before": before, "after": None}
    if item.get("risk_class") is None or item.get("deadline_hours") is None:
        label = KIND_LABELS.get(item["kind"], item["kind"])
        raise ApiError(422, "setting_incomplete", "请同时填写风险等级和整改期限",
                       {"fields": {"kinds": [f"{label}：请同时填写风险等级和整改期限"]}})
    after = [item["risk_class"], item["deadline_hours"]]
    if before == after:
        return None
    if own is None:
        db.session.add(RiskKindSetting(region_id=region.id, kind=item["kind"], risk_class=after[0],
                                       deadline_hours=after[1], updated_by_id=actor_id, updated_at=now))
    else:
        own.risk_class, own.deadline_hours, own.updated_by_id, own.updated_at = *after, actor_id, now
    return {"kind": item["kind"], "before": before, "after": after}


def _set_cards(region: Region, cards: dict[str, Any], actor_id: int, now: datetime) -> dict[str, Any] | None:
    own = db.session.get(RiskCardSetting, region.id)
    before = None if own is None else [own.yellow_after_hours, own.red_after_hours]
    if cards.get("inherit"):
        if own is None:
            return None
        db.session.delete(own)
        return {"before": before, "after": None}
    if cards.get("yellow_after_hours") is None or cards.get("red_after_hours") is None:
        raise ApiError(422, "setting_incomplete", "请同时填写黄牌和红牌的时限",
                       {"fields": {"cards": ["请同时填写黄牌和红牌的时限"]}})
    after = [cards["yellow_after_hours"], cards["red_after_hours"]]
    if before == after:
        return None
    if own is None:
        db.session.add(RiskCardSetting(region_id=region.id, yellow_after_hours=after[0], red_after_hours=after[1],
                                       updated_by_id=actor_id, updated_at=now))
    else:
        own.yellow_after_hours, own.red_after_hours, own.updated_by_id, own.updated_at = *after, actor_id, now
    return {"before": before, "after": after}


def _set_limit(region: Region, item: dict[str, Any], actor_id: int, now: datetime) -> dict[str, Any] | None:
    """Apply one early-warning limit's change; the audit entry's part (None when nothing changed)."""
    own = db.session.scalar(select(RiskWarningSetting).where(RiskWarningSetting.region_id == region.id,
                                                             RiskWarningSetting.name == item["name"]))
    before = None if own is None else own.value
    if item.get("inherit"):
        if own is None:
            return None
        db.session.execute(delete(RiskWarningSetting).where(RiskWarningSetting.id == own.id))
        return {"name": item["name"], "before": before, "after": None}
    spec = LIMIT_SPECS[item["name"]]
    value = item.get("value")
    if value is None or not spec.minimum <= value <= spec.maximum:
        message = f"{spec.label}：请填写 {spec.minimum}–{spec.maximum} 之间的整数"
        raise ApiError(422, "limit_out_of_range", message, {"fields": {"warnings": [message]}})
    if before == value:
        return None
    if own is None:
        db.session.add(RiskWarningSetting(region_id=region.id, name=item["name"], value=value,
                                          updated_by_id=actor_id, updated_at=now))
    else:
        own.value, own.updated_by_id, own.updated_at = value, actor_id, now
    return {"name": item["name"], "before": before, "after": value}


def _refuse_repeats(values: list[str], code: str, message: str, field: str) -> None:
    if len(values) != len(set(values)):
        raise ApiError(422, code, message, {"fields": {field: [message]}})


def update_settings(actor: Principal, region: Region, kinds: list[dict[str, Any]], cards: dict[str, Any] | None,
                    now: datetime, limits: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Set (or drop, with ``inherit``) the region's own values (classes and deadlines, card durations,
    early-warning limits); one audit entry lists what changed."""
    limits = limits or []
    _refuse_repeats([item["kind"] for item in kinds], "duplicate_kind", "同一类问题只能设置一次", "kinds")
    _refuse_repeats([item["name"] for item in limits], "duplicate_limit", "同一项预警阈值只能设置一次", "warnings")
    changes = [change for item in kinds if (change := _set_kind(region, item, actor.user_id, now)) is not None]
    card_change = _set_cards(region, cards, actor.user_id, now) if cards is not None else None
    limit_changes = [change for item in limits
                     if (change := _set_limit(region, item, actor.user_id, now)) is not None]
    if changes or card_change or limit_changes:
        record_audit(actor.user_id, AUDIT_ACTION, target=("region", region.id),
                     details={"kinds": changes, "cards": card_change, "warnings": limit_changes})
    db.session.commit()
    return read_settings(region)


def settings_history(region: Region, limit: int = 100) -> list[dict[str, Any]]:
    """The audited changes of the region's settings, newest first."""
    from backend.accounts.models import User

    rows = db.session.execute(
        select(AuditLog, User.nickname).outerjoin(User, User.id == AuditLog.actor_id)
        .where(AuditLog.action == AUDIT_ACTION, AuditLog.target_type == "region", AuditLog.target_id == region.id)
        .order_by(AuditLog.id.desc()).limit(limit)).all()
    return [{"id": row.id, "at": row.at, "actor_id": row.actor_id, "actor_name": nickname,
             "kinds": row.details.get("kinds") or [], "cards": row.details.get("cards"),
             "warnings": row.details.get("warnings") or []} for row, nickname in rows]
