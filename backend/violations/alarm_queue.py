"""The AI-alarm review queue and its figures, for a school or a region.

Grouping ("per camera and event"): alarms of the same camera and kind whose occurrences follow each other
within ``GROUP_GAP`` (10 minutes between neighbours) form one group, however many alarms of other cameras
lie between them in the list; a longer pause starts a new group. Groups are listed by their newest alarm and
formed over the page returned; the console merges a group continued on the next page by the same rule
(``console/src/services/alarms.ts``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, literal, select, union_all
from sqlalchemy.orm import aliased, load_only

from backend.accounts.models import User
from backend.db_util import names_by_id
from backend.extensions import db
from backend.schools.models import Camera, Canteen, Region, School
from backend.timeutil import shanghai_midnight
from backend.violations.models import (
    KIND_LABELS,
    STATUS_LABELS,
    AlarmReview,
    AlarmVerdict,
    Violation,
    ViolationSource,
    ViolationStatus,
)
from backend.violations.views import evidence_for

GROUP_GAP = timedelta(minutes=10)
# What a queue row reads of a violation (alarm_items): the rest (description, details...) stays unloaded.
ROW_COLUMNS = (Violation.id, Violation.school_id, Violation.canteen_id, Violation.camera_id, Violation.kind,
               Violation.title, Violation.status, Violation.confidence, Violation.occurred_at, Violation.created_at,
               Violation.evidence)
STATES = ("pending", "reviewed", "all")
VERDICT_LABELS = AlarmVerdict.labels()


def region_schools(region_path: str) -> Select[Any]:
    """The ids of the schools in a region and its sub-regions."""
    return select(School.id).join(Region, Region.id == School.region_id).where(Region.path.startswith(region_path))


def _alarms(school_id: int | None, region_path: str | None) -> Select[Any]:
    query = select(Violation, AlarmReview).outerjoin(AlarmReview, AlarmReview.violation_id == Violation.id)
    if school_id is not None:
        query = query.where(Violation.school_id == school_id)
    if region_path is not None:
        query = query.where(Violation.school_id.in_(region_schools(region_path)))
    return query.where(Violation.source == ViolationSource.AI)


def _state(query: Select[Any], state: str) -> Select[Any]:
    if state == "pending":  # unreviewed and still open: a closed alarm is no longer anyone's to judge
        # NOT EXISTS (not "review IS NULL" on the outer join): PostgreSQL then walks the open alarms newest
        # first (ix_violation_open_alarm) probing each one's verdict, and stops at the page's end.
        review = aliased(AlarmReview)  # not the outer join's: that one would correlate away
        reviewed = select(review.id).where(review.violation_id == Violation.id).exists()
        return query.where(~reviewed, Violation.status != ViolationStatus.CLOSED)
    if state == "reviewed":
        return query.where(AlarmReview.id.is_not(None))
    return query


def review_out(review: AlarmReview | None, names: dict[int, str | None]) -> dict[str, Any] | None:
    """A verdict as the queue and the review route show it."""
    if review is None:
        return None
    return {"id": review.id, "verdict": review.verdict, "verdict_label": VERDICT_LABELS.get(review.verdict),
            "reason": review.reason, "reviewer_id": review.reviewer_id, "reviewer_name": names.get(review.reviewer_id),
            "reviewed_at": review.reviewed_at, "boxes": review.boxes}


def _row_names(rows: list[tuple[Violation, AlarmReview | None]]) -> tuple[dict[int, str], ...]:
    """The names a page of rows shows: schools, canteens and cameras by id, reviewers' nicknames by user id, in
    one statement (a UNION ALL of the four look-ups: one round trip, not four; joining them into the page's
    query instead made PostgreSQL plan an eight-table join and join every row it walked, not just the page's)."""
    wanted = ((School.id, School.name, {v.school_id for v, _ in rows}),
              (Canteen.id, Canteen.name, {v.canteen_id for v, _ in rows}),
              (Camera.id, Camera.name, {v.camera_id for v, _ in rows if v.camera_id is not None}),
              (User.id, User.nickname, {r.reviewer_id for _, r in rows if r is not None}))
    parts = [select(literal(n).label("part"), key.label("id"), name.label("name")).where(key.in_(ids))
             for n, (key, name, ids) in enumerate(wanted) if ids]
    found: tuple[dict[int, str], ...] = ({}, {}, {}, {})
    if parts:
        for part, key, name in db.session.execute(union_all(*parts)).all():
            found[part][key] = name
    return found


def alarm_items(rows: list[tuple[Violation, AlarmReview | None]]) -> list[dict[str, Any]]:
    """Queue rows: the evidence picture, where (school, canteen, camera), confidence, when, the verdict."""
    schools, canteens, cameras, reviewers = _row_names(rows)
    return [{
        "id": v.id, "school_id": v.school_id, "school_name": schools.get(v.school_id),
        "canteen_id": v.canteen_id, "canteen_name": canteens.get(v.canteen_id), "camera_id": v.camera_id,
        "camera_name": cameras.get(v.camera_id), "kind": v.kind, "kind_label": KIND_LABELS.get(v.kind),
        "title": v.title, "status": v.status, "status_label": STATUS_LABELS.get(v.status),
        "confidence": v.confidence, "occurred_at": v.occurred_at, "created_at": v.created_at,
        # Reviewers are staff or regulators: the annotated frame (boxes drawn).
        "evidence_url": evidence_for(v, full=True)["image"],
        "review": review_out(r, reviewers),
    } for v, r in rows]


def group_alarms(items: list[dict[str, Any]], gap: timedelta = GROUP_GAP) -> list[dict[str, Any]]:
    """Groups of ``items`` (newest first) per camera and kind, split where neighbours lie more than ``gap`` apart."""
    groups: list[dict[str, Any]] = []
    open_groups: dict[tuple[Any, str], dict[str, Any]] = {}
    for item in items:
        key = (item["camera_id"], item["kind"])
        group = open_groups.get(key)
        if group is None or group["first_occurred_at"] - item["occurred_at"] > gap:
            group = {"key": f"{item['camera_id']}:{item['kind']}:{item['id']}", "camera_id": item["camera_id"],
                     "camera_name": item["camera_name"], "school_name": item["school_name"], "kind": item["kind"],
                     "kind_label": item["kind_label"], "count": 0, "last_occurred_at": item["occurred_at"],
                     "first_occurred_at": item["occurred_at"], "ids": []}
            open_groups[key] = group
            groups.append(group)
        group["count"] += 1
        group["ids"].append(item["id"])
        group["first_occurred_at"] = min(group["first_occurred_at"], item["occurred_at"])
        group["last_occurred_at"] = max(group["last_occurred_at"], item["occurred_at"])
    return groups


def list_alarms(*, school_id: int | None = None, region_path: str | None = None, state: str = "pending",
                camera_id: int | None = None, kind: str | None = None, before_id: int | None = None,
                limit: int = 50) -> dict[str, Any]:
    """A page of the queue, newest first, with its groups and the cursor of the next page."""
    query = _state(_alarms(school_id, region_path), state)
    if camera_id is not None:
        query = query.where(Violation.camera_id == camera_id)
    if kind:
        query = query.where(Violation.kind == kind)
    if before_id is not None:
        query = query.where(Violation.id < before_id)
    query = query.options(load_only(*ROW_COLUMNS))
    rows = [tuple(row) for row in db.session.execute(query.order_by(Violation.id.desc()).limit(limit + 1)).all()]
    more = len(rows) > limit
    items = alarm_items(rows[:limit])
    return {"items": items, "groups": group_alarms(items),
            "next_before_id": items[-1]["id"] if more else None}


def _counts() -> dict[str, Any]:
    return {"total": 0, "pending": 0, "confirmed": 0, "false_positive": 0, "escalated": 0}


def _rate(bucket: dict[str, Any]) -> dict[str, Any]:
    reviewed = bucket["confirmed"] + bucket["false_positive"] + bucket["escalated"]
    return {**bucket, "false_positive_rate": round(bucket["false_positive"] / reviewed, 4) if reviewed else None}


TOP_CAMERAS = 50  # cameras listed in the verdict counts, most alarms first


def alarm_stats(*, school_id: int | None = None, region_path: str | None = None, date_from: date,
                date_to: date) -> dict[str, Any]:
    """Verdict counts of the alarms raised in a period (local days), overall, per camera and per kind.

    ``false_positive_rate`` = false positives / reviewed alarms (null before any verdict); ``pending`` counts
    alarms without a verdict, closed ones included.
    """
    start, end = shanghai_midnight(date_from), shanghai_midnight(date_to + timedelta(days=1))
    base = _alarms(school_id, region_path).where(and_(Violation.created_at >= start, Violation.created_at < end))
    grouped = (base.with_only_columns(Violation.school_id, Violation.camera_id, Violation.kind, AlarmReview.verdict,
                                      func.count().label("n"))
               .group_by(Violation.school_id, Violation.camera_id, Violation.kind, AlarmReview.verdict))
    total, cameras, kinds = _counts(), {}, {}
    for row in db.session.execute(grouped).all():
        camera = cameras.setdefault(row.camera_id, {"camera_id": row.camera_id, "school_id": row.school_id,
                                                    **_counts()})
        for bucket in (total, camera, kinds.setdefault(row.kind, {"kind": row.kind, **_counts()})):
            bucket["total"] += row.n
            bucket[row.verdict or "pending"] += row.n
    # A province has thousands of cameras: the answer lists those with the most alarms, and how many there are.
    shown = sorted(cameras.values(), key=lambda c: (-c["total"], c["camera_id"] or 0))[:TOP_CAMERAS]
    camera_names = names_by_id(Camera, (c["camera_id"] for c in shown))
    school_names = names_by_id(School, (c["school_id"] for c in shown))
    return {
        "period": {"from": date_from.isoformat(), "to": date_to.isoformat(), "timezone": "Asia/Shanghai"},
        **_rate(total),
        "camera_count": len(cameras),
        "by_camera": [_rate({**c, "camera_name": camera_names.get(c["camera_id"]),
                             "school_name": school_names.get(c["school_id"])}) for c in shown],
        "by_kind": [_rate({**k, "kind_label": KIND_LABELS.get(k["kind"], k["kind"])})
                    for k in sorted(kinds.values(), key=lambda k: k["kind"])],
    }

