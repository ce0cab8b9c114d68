"""What regulators read of spot checks, inspection rounds and supervision orders: ids with the names people
know them by (region, school, canteen, inspector).

Names load once per list, one query per kind (regions, canteens with their schools, schools, users),
whatever the number of rows; a round's inspectors, canteens and findings load with the list too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from backend.db_util import names_by_id
from backend.extensions import db
from backend.regulators.models import (
    InspectionFinding,
    InspectionRound,
    InspectionTarget,
    OrderStatus,
    SpotCheck,
    SupervisionOrder,
)
from backend.schools.models import Canteen, Region, School
from backend.violations.models import STATUS_LABELS, Violation
from backend.violations.views import photo_urls, user_names

LIST_LIMIT = 100


def canteen_names(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """canteen id → {canteen_id, canteen_name, school_id, school_name}."""
    wanted = set(ids)
    if not wanted:
        return {}
    rows = db.session.execute(select(Canteen.id, Canteen.name, School.id, School.name)
                              .join(School, School.id == Canteen.school_id).where(Canteen.id.in_(wanted)))
    return {cid: {"canteen_id": cid, "canteen_name": cname, "school_id": sid, "school_name": sname}
            for cid, cname, sid, sname in rows}


def canteen_where(canteens: dict[int, dict[str, Any]], canteen_id: int) -> dict[str, Any]:
    """A canteen's names from :func:`canteen_names`' answer (nulls for an unknown canteen)."""
    return canteens.get(canteen_id) or {"canteen_id": canteen_id, "canteen_name": None, "school_id": None,
                                        "school_name": None}


def region_work(item: Any, created_at: Any, regions: dict[int, str],
                users: dict[int, str | None]) -> dict[str, Any]:
    """The fields of ``RegionWorkOut`` (a spot check, an inspection round, a patrol round): its region and its
    author, named from :func:`backend.db_util.names_by_id` and ``user_names`` answers."""
    return {"id": item.id, "region_id": item.region_id, "region_name": regions.get(item.region_id),
            "created_by_id": item.created_by_id, "created_by_name": users.get(item.created_by_id),
            "created_at": created_at}


def sampled_names(items: Sequence[Any]) -> tuple[dict[int, str], dict[int, dict[str, Any]], dict[int, str | None]]:
    """The names of the regions, the ``canteen_ids`` and the authors of spot checks or patrol rounds: one query
    per kind, whatever the number of rows."""
    return (names_by_id(Region, (i.region_id for i in items)),
            canteen_names(cid for i in items for cid in i.canteen_ids), user_names({i.created_by_id for i in items}))


# -- spot checks ----------------------------------------------------------------------------------------

def spot_checks(checks: Sequence[SpotCheck]) -> list[dict[str, Any]]:
    """Spot checks with their region's name, their author's and every sampled canteen's (and school's)."""
    regions, canteens, users = sampled_names(checks)
    return [{
        **region_work(c, c.created_at, regions, users), "seed": c.seed,
        "sample_size": c.sample_size, "school_kind": c.school_kind, "population_ids": c.population_ids,
        "canteen_ids": c.canteen_ids, "canteens": [canteen_where(canteens, cid) for cid in c.canteen_ids],
        "note": c.note,
    } for c in checks]


def list_spot_checks(region_id: int) -> list[dict[str, Any]]:
    """A region's spot checks, newest first."""
    return spot_checks(db.session.scalars(select(SpotCheck).where(SpotCheck.region_id == region_id)
                                          .order_by(SpotCheck.id.desc()).limit(LIST_LIMIT)).all())


# -- inspection rounds ----------------------------------------------------------------------------------

def _target(target: InspectionTarget, canteens: dict[int, dict[str, Any]]) -> dict[str, Any]:
    return {**canteen_where(canteens, target.canteen_id), "result": target.result, "visited_at": target.visited_at}


def _finding(finding: InspectionFinding, canteens: dict[int, dict[str, Any]],
             users: dict[int, str | None]) -> dict[str, Any]:
    return {"id": finding.id, "round_id": finding.round_id, **canteen_where(canteens, finding.canteen_id),
            "inspector_id": finding.inspector_id, "inspector_name": users.get(finding.inspector_id),
            "kind": finding.kind, "severity": finding.severity, "description": finding.description,
            "photos": photo_urls(list(finding.photos or [])), "violation_id": finding.violation_id,
            "created_at": finding.created_at}


def _round_names(rounds: Sequence[InspectionRound]) -> tuple[dict[int, str], dict[int, dict[str, Any]],
                                                              dict[int, str | None]]:
    canteens = canteen_names({t.canteen_id for r in rounds for t in r.targets}
                         | {f.canteen_id for r in rounds for f in r.findings})
    users = user_names({r.created_by_id for r in rounds} | {i.user_id for r in rounds for i in r.inspectors}
                       | {f.inspector_id for r in rounds for f in r.findings})
    return names_by_id(Region, (r.region_id for r in rounds)), canteens, users


def rounds(items: Sequence[InspectionRound]) -> list[dict[str, Any]]:
    """Rounds with inspectors, canteens and findings, each named."""
    regions, canteens, users = _round_names(items)
    return [{
        **region_work(r, r.created_at, regions, users),
        "spot_check_id": r.spot_check_id, "title": r.title, "planned_at": r.planned_at, "status": r.status,
        "summary": r.summary, "completed_at": r.completed_at,
        "inspectors": [{"user_id": i.user_id, "name": users.get(i.user_id), "lead": i.lead} for i in r.inspectors],
        "targets": [_target(t, canteens) for t in r.targets],
        "findings": [_finding(f, canteens, users) for f in r.findings],
    } for r in items]


def list_rounds(region_id: int) -> list[dict[str, Any]]:
    """A region's inspection rounds, newest first."""
    query = (select(InspectionRound).where(InspectionRound.region_id == region_id)
             .options(selectinload(InspectionRound.inspectors), selectinload(InspectionRound.targets),
                      selectinload(InspectionRound.findings))
             .order_by(InspectionRound.id.desc()).limit(LIST_LIMIT))
    return rounds(db.session.scalars(query).all())


def finding(item: InspectionFinding) -> dict[str, Any]:
    """One finding, named."""
    canteens = canteen_names([item.canteen_id])
    return _finding(item, canteens, user_names({item.inspector_id}))


def target(item: InspectionTarget) -> dict[str, Any]:
    """One visited canteen, named."""
    return _target(item, canteen_names([item.canteen_id]))


# -- supervision orders ---------------------------------------------------------------------------------

def orders(items: Sequence[SupervisionOrder]) -> list[dict[str, Any]]:
    """Supervision orders with the school's name, the names of who issued, answered and closed them, and the
    problems each names (title and status)."""
    schools = names_by_id(School, (o.school_id for o in items))
    users = user_names({uid for o in items for uid in (o.issued_by_id, o.responded_by_id, o.closed_by_id) if uid})
    named = {vid for o in items for vid in o.violation_ids or ()}
    problems = {row.id: {"id": row.id, "title": row.title, "status": row.status,
                         "status_label": STATUS_LABELS.get(row.status)}
                for row in db.session.execute(select(Violation.id, Violation.title, Violation.status)
                                              .where(Violation.id.in_(named)))} if named else {}
    return [{
        "id": o.id, "school_id": o.school_id, "school_name": schools.get(o.school_id), "title": o.title,
        "content": o.content, "violation_ids": o.violation_ids,
        "violations": [problems[vid] for vid in o.violation_ids or () if vid in problems],
        "due_at": o.due_at, "status": o.status,
        "status_label": OrderStatus(o.status).label,
        "issued_by_id": o.issued_by_id, "issued_by_name": users.get(o.issued_by_id), "issued_at": o.issued_at,
        "response": o.response, "responded_by_id": o.responded_by_id,
        "responded_by_name": users.get(o.responded_by_id), "responded_at": o.responded_at,
        "closed_by_id": o.closed_by_id, "closed_by_name": users.get(o.closed_by_id), "closed_at": o.closed_at,
        "close_reason": o.close_reason,
    } for o in items]


def list_orders(school_id: int) -> list[dict[str, Any]]:
    """A school's supervision orders, newest first."""
    return orders(db.session.scalars(select(SupervisionOrder).where(SupervisionOrder.school_id == school_id)
                                     .order_by(SupervisionOrder.id.desc()).limit(LIST_LIMIT)).all())
