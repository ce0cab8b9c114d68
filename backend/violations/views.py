"""What each reader sees of a violation.

Evidence is stored as object keys; readers get short-lived signed URLs, chosen by who they are:
- school food-safety staff, canteen managers, the principal, regulators and admins: the annotated frame
  (boxes drawn), report and inspection photos, and rectification photos;
- parents' committee members: only the parent-safe frame (faces blurred) and the rectification measures;
- parents (through the school's transparency page only): closed violations of the kinds the school
  publishes, with the parent-safe frame, the measures and the timeline, never reasons or names;
- whoever reported a problem (``my_reports``): what they wrote and their own photos, where it stands, whether
  the rectification is awaiting review, rejected or accepted (with the accepted measures), and the timeline
  of labels and times; never reasons, names, detection evidence or the rectification photos.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from backend.accounts.models import User
from backend.db_util import names_by_id
from backend.errors import not_found
from backend.extensions import db
from backend.files import object_store
from backend.notices.media_checks import hidden_photos
from backend.notices.recipients import published_kinds
from backend.notices.violation_notices import location_of, reviewer_is_regulator
from backend.parent_meals.views import opinions as meal_opinions
from backend.permissions import Principal, sees_full_evidence, sees_only_public
from backend.schools.models import Region, School
from backend.violations.alarm_visibility import is_public, public_condition
from backend.violations.models import (
    KIND_LABELS,
    STATUS_LABELS,
    Resolution,
    Violation,
    ViolationEvent,
    ViolationSource,
    ViolationStatus,
)
from backend.violations.stats import (
    Scope,
    compute_stats,
    found_between,
    is_overdue,
    overdue_condition,
    state_condition,
)

URL_SECONDS = 300
ACTION_LABELS = {"open": "发现问题", "notify": "已通知学校", "start": "开始整改", "submit": "提交整改",
                 "accept": "整改通过", "reject": "整改驳回", "dismiss": "核实撤销", "escalate": "逾期督办",
                 "confirm": "告警确认"}
# An escalation the principal made by hand, not the clock's.
HANDED_OVER = "上报监管部门"


def event_label(event: ViolationEvent) -> str:
    """A timeline step in words (a principal's hand-over is told apart from an overdue escalation)."""
    if event.action == "escalate" and (event.details or {}).get("cause") == "principal":
        return HANDED_OVER
    return ACTION_LABELS.get(event.action, event.action)


def _url(key: str | None) -> str | None:
    return object_store().signed_url(key, URL_SECONDS) if key else None


def photo_urls(keys: list[str]) -> list[str]:
    """Signed URLs of photos by key, without those WeChat's content check hid."""
    hidden = hidden_photos(keys)
    return [object_store().signed_url(k, URL_SECONDS) for k in keys if k not in hidden]


def evidence_for(violation: Violation, full: bool) -> dict[str, Any]:
    """Signed URLs of the evidence this reader may see (the parent-safe frame only, unless ``full``)."""
    evidence = violation.evidence or {}
    result: dict[str, Any] = {"image": _url(evidence.get("annotated") if full else evidence.get("parent_safe"))}
    if full:
        if result["image"] is None:
            result["image"] = _url(evidence.get("parent_safe"))
        result["photos"] = photo_urls(list(evidence.get("photos") or []))
    return result


# What a list row reads (``summary``): a list loads these columns only (not the description, evidence, details).
SUMMARY_COLUMNS = (Violation.id, Violation.school_id, Violation.canteen_id, Violation.camera_id, Violation.kind,
                   Violation.source, Violation.status, Violation.title, Violation.occurred_at, Violation.created_at,
                   Violation.due_at, Violation.escalation_level, Violation.closed_at, Violation.resolution)


def summary(violation: Violation, now: datetime, school_name: str | None) -> dict[str, Any]:
    """A list row (``school_name``: its school's, which a region's list shows)."""
    return {
        "id": violation.id, "school_id": violation.school_id, "school_name": school_name,
        "overdue": is_overdue(violation, now), "canteen_id": violation.canteen_id,
        "camera_id": violation.camera_id, "kind": violation.kind, "kind_label": KIND_LABELS.get(violation.kind),
        "source": violation.source, "status": violation.status, "status_label": STATUS_LABELS.get(violation.status),
        "title": violation.title, "occurred_at": violation.occurred_at, "created_at": violation.created_at,
        "due_at": violation.due_at, "escalation_level": violation.escalation_level,
        "closed_at": violation.closed_at, "resolution": violation.resolution,
    }


def summaries(rows: list[Violation], now: datetime) -> list[dict[str, Any]]:
    """List rows of a page, their schools' names read in one query."""
    names = names_by_id(School, (v.school_id for v in rows))
    return [summary(v, now, names.get(v.school_id)) for v in rows]


def user_names(user_ids: set[int]) -> dict[int, str | None]:
    """Nicknames of users by id, in one query."""
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.nickname).where(User.id.in_(user_ids))).all())


def detail(violation: Violation, principal: Principal, now: datetime) -> dict[str, Any]:
    """Everything a school member or regulator may see of one violation (an AI alarm held from parents is
    404 to the committee)."""
    school = db.session.get(School, violation.school_id)
    if sees_only_public(principal, school) and not is_public(violation):
        raise not_found("问题")
    full = sees_full_evidence(principal, school)
    names = user_names({e.actor_id for e in violation.events if e.actor_id}
                       | {r.submitted_by_id for r in violation.rectifications}
                       | {r.reviewed_by_id for r in violation.rectifications if r.reviewed_by_id})
    return {
        **summary(violation, now, school.name),
        "description": violation.description,
        "confidence": violation.confidence,
        "location": location_of(violation),
        "reviewer": "regulator" if reviewer_is_regulator(violation) else "principal",
        "evidence": evidence_for(violation, full),
        "events": [{"id": e.id, "action": e.action, "label": event_label(e), "at": e.at,
                    "from_status": e.from_status, "to_status": e.to_status, "reason": e.reason,
                    "actor_id": e.actor_id, "actor_name": names.get(e.actor_id)} for e in violation.events],
        "rectifications": [{
            "id": r.id, "measures": r.measures, "photos": photo_urls(list(r.photos or [])) if full else [],
            "submitted_by_id": r.submitted_by_id, "submitted_by_name": names.get(r.submitted_by_id),
            "submitted_at": r.submitted_at, "verdict": r.verdict, "review_reason": r.review_reason,
            "reviewed_by_id": r.reviewed_by_id, "reviewed_at": r.reviewed_at,
        } for r in violation.rectifications],
    }


def _filters(school_id: int | None, region_path: str | None, now: datetime, values: dict[str, Any]) -> list[Any]:
    """The conditions of a list's filters (the same definitions as the figures of ``stats``)."""
    conditions: list[Any] = []
    if school_id is not None:
        conditions.append(Violation.school_id == school_id)
    if region_path is not None:
        conditions.append(Violation.school_id.in_(
            select(School.id).join(Region, Region.id == School.region_id).where(Region.path.startswith(region_path))))
    escalated = values.get("escalated")
    if escalated is not None:
        conditions.append((Violation.escalation_level > 0) if escalated else (Violation.escalation_level == 0))
    for name in ("status", "kind", "source"):
        if values.get(name):
            conditions.append(getattr(Violation, name) == values[name])
    if values.get("state"):
        conditions.append(state_condition(values["state"]))
    if values.get("overdue") is not None:
        conditions.append(overdue_condition(now) if values["overdue"] else ~overdue_condition(now))
    if values.get("date_from") or values.get("date_to"):
        conditions.append(found_between(values.get("date_from"), values.get("date_to")))
    return conditions


# Counting a province's two years of violations would cost more than the page: past this, "more than".
TOTAL_CAP = 10_000


def list_violations(school_id: int | None = None, *, region_path: str | None = None, now: datetime,
                    before_id: int | None = None, limit: int = 50, public_only: bool = False,
                    **filters: Any) -> tuple[list[Violation], int]:
    """A school's (or a region's) violations, newest first, paged by id, and how many match in all (counted up
    to ``TOTAL_CAP + 1``: that figure means "more than TOTAL_CAP").

    ``filters``: status, kind, source, escalated, overdue, state (``stats.STATES``) and the period
    ``date_from`` / ``date_to`` of local days on which they were found; ``public_only``: what the committee may
    see, without AI alarms held from parents.
    """
    conditions = _filters(school_id, region_path, now, filters)
    if public_only:
        conditions.append(public_condition())
    page = select(Violation).options(load_only(*SUMMARY_COLUMNS)).where(*conditions)
    if before_id is not None:
        page = page.where(Violation.id < before_id)
    rows = list(db.session.scalars(page.order_by(Violation.id.desc()).limit(limit)))
    matching = select(Violation.id).where(*conditions).limit(TOTAL_CAP + 1).subquery()
    return rows, db.session.scalar(select(func.count()).select_from(matching))


def resolution_label(resolution: str | None) -> str | None:
    """How a closed violation ended, in words parents read."""
    if resolution is None:
        return None
    return "已整改" if resolution == Resolution.RECTIFIED else "核实撤销"


def public_events(violation: Violation) -> list[dict[str, Any]]:
    """A violation's steps as parents may see them: what happened and when, never who or why."""
    return [{"label": event_label(e), "at": e.at} for e in violation.events if e.action in ACTION_LABELS]


def transparency(school: School, date_from: date, date_to: date, now: datetime, *, before_id: int | None = None,
                 limit: int = 20) -> dict[str, Any]:
    """The school's page for parents: the period's summary and the timeline of closed, published violations."""
    # Parents' figures and timeline never count an AI alarm unreviewed or marked false.
    figures = compute_stats(Scope.of_school(school, public_only=True), date_from, date_to, now)
    kinds = published_kinds(school.id)
    query = (select(Violation).where(Violation.school_id == school.id, Violation.status == ViolationStatus.CLOSED,
                                     Violation.kind.in_(kinds), public_condition())
             .options(selectinload(Violation.events), selectinload(Violation.rectifications))
             .order_by(Violation.id.desc()).limit(limit))
    if before_id is not None:
        query = query.where(Violation.id < before_id)
    timeline = []
    for violation in db.session.scalars(query):
        accepted = [r for r in violation.rectifications if r.verdict == "accepted"]
        timeline.append({
            "id": violation.id, "title": violation.title, "kind": violation.kind,
            "kind_label": KIND_LABELS.get(violation.kind), "found_at": violation.created_at,
            "closed_at": violation.closed_at, "resolution": violation.resolution,
            "resolution_label": resolution_label(violation.resolution),
            "measures": accepted[-1].measures if accepted else None,
            "evidence": evidence_for(violation, full=False),
            "events": public_events(violation),
        })
    return {
        "school_id": school.id, "school_name": school.name,
        "summary": {key: figures[key] for key in ("period", "found", "rectified", "in_progress", "overdue",
                                                   "rectification_rate", "median_hours_to_rectify")},
        "published_kinds": [{"kind": k, "label": KIND_LABELS.get(k, k)} for k in kinds],
        "timeline": timeline,
        # Parents' opinions of the period's accompanied meals (陪餐) and the school's answers, no names.
        "parent_meals": meal_opinions(school, date_from, date_to),
    }



RECTIFICATION_STATES = {None: ("submitted", "待复核"), "accepted": ("accepted", "整改通过"),
                        "rejected": ("rejected", "整改驳回")}


def _rectification_state(violation: Violation) -> dict[str, Any]:
    """Where the latest rectification stands, as a reporter may read it: the measures only once accepted."""
    if not violation.rectifications:
        return {"state": "none", "label": "尚未提交整改", "submitted_at": None, "reviewed_at": None, "measures": None}
    latest = violation.rectifications[-1]
    state, label = RECTIFICATION_STATES.get(latest.verdict, ("submitted", "待复核"))
    return {"state": state, "label": label, "submitted_at": latest.submitted_at, "reviewed_at": latest.reviewed_at,
            "measures": latest.measures if state == "accepted" else None}


def my_reports(principal: Principal, *, before_id: int | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The problems the caller reported, newest first, in the schools where they are still an active member.

    Each is the violation it became, as its reporter may see it.
    """
    query = (select(Violation).where(Violation.source == ViolationSource.REPORT,
                                     Violation.created_by_id == principal.user_id)
             .options(selectinload(Violation.events), selectinload(Violation.rectifications))
             .order_by(Violation.id.desc()).limit(limit))
    if not principal.is_admin:  # a revoked binding ends what the school shows its former member
        query = query.where(Violation.school_id.in_(list(principal.roles_by_school)))
    if before_id is not None:
        query = query.where(Violation.id < before_id)
    violations = list(db.session.scalars(query))
    schools = names_by_id(School, (v.school_id for v in violations))
    return [{
        "id": v.id, "violation_id": v.id, "school_id": v.school_id, "school_name": schools.get(v.school_id),
        "canteen_id": v.canteen_id, "kind": v.kind, "kind_label": KIND_LABELS.get(v.kind), "title": v.title,
        "description": v.description, "photos": photo_urls(list((v.evidence or {}).get("photos") or [])),
        "reported_at": v.created_at, "status": v.status, "status_label": STATUS_LABELS.get(v.status),
        "closed_at": v.closed_at, "resolution": v.resolution, "resolution_label": resolution_label(v.resolution),
        "rectification": _rectification_state(v), "events": public_events(v),
    } for v in violations]
