"""Early warnings as people read them: a region's list for its regulators, a school's for its principal, the
regulator's acknowledgement with a note (audited), and the weekly summary in each region's regulators' inbox.

The rules and the nightly job that raise and resolve the warnings are in ``early_warning.py``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.monitoring.camera_uptime import region_scope
from backend.permissions import Principal
from backend.risk.models import WARNING_LABELS, RiskWarning, WarningKind
from backend.schools.models import Canteen, Region, School
from backend.timeutil import as_utc, to_shanghai

MAX_NOTE = 500
SUMMARY_LISTED = 10  # schools named in a summary's text; the counts cover them all


def present_warning(warning: RiskWarning, school_name: str, canteen_name: str | None) -> dict[str, Any]:
    """A warning as the API shows it."""
    return {"id": warning.id, "kind": warning.kind, "kind_label": WARNING_LABELS.get(warning.kind, warning.kind),
            "school_id": warning.school_id, "school_name": school_name, "canteen_id": warning.canteen_id,
            "canteen_name": canteen_name, "reason": warning.reason, "data": warning.data,
            "raised_at": warning.raised_at, "seen_at": warning.seen_at, "resolved_at": warning.resolved_at,
            "active": warning.resolved_at is None, "acknowledged_at": warning.acknowledged_at,
            "ack_note": warning.ack_note}


def list_warnings(scope: Any, *, state: str = "open", kind: str | None = None, school_id: int | None = None,
                  limit: int = 200) -> list[dict[str, Any]]:
    """Warnings of the schools matching ``scope`` (a condition on School), newest first; ``state`` open,
    resolved or all."""
    query = (select(RiskWarning, School.name, Canteen.name).join(School, School.id == RiskWarning.school_id)
             .outerjoin(Canteen, Canteen.id == RiskWarning.canteen_id).where(scope))
    if state != "all":
        query = query.where(RiskWarning.resolved_at.is_(None) if state == "open"
                            else RiskWarning.resolved_at.is_not(None))
    if kind is not None:
        query = query.where(RiskWarning.kind == kind)
    if school_id is not None:
        query = query.where(RiskWarning.school_id == school_id)
    rows = db.session.execute(query.order_by(RiskWarning.raised_at.desc(), RiskWarning.id.desc()).limit(limit))
    return [present_warning(warning, school, canteen) for warning, school, canteen in rows]


def acknowledge(actor: Principal, warning: RiskWarning, note: str, now: datetime) -> dict[str, Any]:
    """A regulator of the school's region acknowledges a warning with a note (audited in the school's log)."""
    note = (note or "").strip()[:MAX_NOTE]
    if not note:
        raise ApiError(422, "note_required", "确认预警时必须填写处理说明", {"fields": {"note": ["请填写处理说明"]}})
    result = db.session.execute(
        update(RiskWarning).where(RiskWarning.id == warning.id, RiskWarning.acknowledged_at.is_(None))
        .values(acknowledged_at=now, acknowledged_by_id=actor.user_id, ack_note=note)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise ApiError(409, "warning_already_acknowledged", "该预警已确认过", {"warning_id": warning.id})
    record_audit(actor.user_id, AuditAction.RISK_WARNING_ACK, school_id=warning.school_id,
                 target=("risk_warning", warning.id), details={"kind": warning.kind, "note": note})
    db.session.commit()
    return list_warnings(RiskWarning.id == warning.id, state="all")[0]


def _summary_body(rows: list[tuple[RiskWarning, str]], new: int) -> str:
    by_kind = Counter(warning.kind for warning, _ in rows)
    kinds = "、".join(f"{WARNING_LABELS[kind]} {count} 条" for kind, count in
                     sorted(by_kind.items(), key=lambda item: list(WarningKind).index(item[0])))
    per_school: dict[str, list[str]] = defaultdict(list)
    for warning, school_name in rows:
        if WARNING_LABELS[warning.kind] not in per_school[school_name]:
            per_school[school_name].append(WARNING_LABELS[warning.kind])
    ranked = sorted(per_school.items(), key=lambda item: (-len(item[1]), item[0]))
    schools = "；".join(f"{name}：{'、'.join(labels)}" for name, labels in ranked[:SUMMARY_LISTED])
    more = len(ranked) - SUMMARY_LISTED
    return (f"未处理预警 {len(rows)} 条（本周新增 {new} 条）：{kinds}。{schools}"
            + (f"；另有 {more} 所学校有预警" if more > 0 else "") + "。")


def send_weekly_summaries(now: datetime) -> dict[str, int]:
    """Put each region's open warnings (counts by kind, the schools with most kinds) in the inbox of the
    regulators scoped to that region, once per region, ISO week and regulator; a region without an open
    warning gets none."""
    from backend.accounts.models import RegulatorScope
    from backend.notices.models import Notice, SubjectType
    from backend.notices.outbox import NoticeDraft, enqueue

    now = as_utc(now)
    year, week, _ = to_shanghai(now).isocalendar()
    regulators: dict[int, set[int]] = defaultdict(set)
    for region_id, user_id in db.session.execute(select(RegulatorScope.region_id, RegulatorScope.user_id)):
        regulators[region_id].add(user_id)
    sent = regions = 0
    for region in db.session.scalars(select(Region).where(Region.id.in_(regulators)).order_by(Region.id)):
        rows = [(warning, name) for warning, name in db.session.execute(
            select(RiskWarning, School.name).join(School, School.id == RiskWarning.school_id)
            .where(region_scope(region), RiskWarning.resolved_at.is_(None))
            .order_by(RiskWarning.raised_at.desc(), RiskWarning.id.desc()))]
        if not rows:
            continue
        new = sum(1 for warning, _ in rows if as_utc(warning.raised_at) >= now - timedelta(days=7))
        key = f"risk:warnings:{region.id}:{year}-W{week:02d}"
        told = set(db.session.scalars(select(Notice.user_id).where(Notice.idempotency_key.like(f"{key}:u%"))))
        draft = NoticeDraft(subject_type=SubjectType.REGION, subject_id=region.id, school_id=None,
                            purpose="risk_warnings", template="warning",
                            title=f"{year}年第{week}周 {region.name}风险预警 {len(rows)} 条",
                            body=_summary_body(rows, new),
                            payload={"region": region.name, "count": len(rows), "at": now.isoformat()})
        sent += enqueue(draft, regulators[region.id] - told, key, now)
        regions += 1
    db.session.commit()
    return {"regions": regions, "notices": sent}
