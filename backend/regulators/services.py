"""Regulators' work: spot checks, joint inspection rounds and findings, supervision orders."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from backend.accounts.models import RegulatorScope, Role, User
from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.notices.models import SubjectType
from backend.notices.outbox import NoticeDraft, enqueue
from backend.notices.recipients import covering_scopes, issuing_office, school_members
from backend.permissions import Principal
from backend.regulators.models import (
    InspectionFinding,
    InspectionInspector,
    InspectionRound,
    InspectionTarget,
    OrderStatus,
    RoundStatus,
    SpotCheck,
    SupervisionOrder,
)
from backend.schools.models import Canteen, Region, School
from backend.timeutil import to_shanghai, utcnow
from backend.violations.models import ViolationKind, ViolationSource
from backend.violations.photos import check_photo_keys, store_photo
from backend.violations.services import raise_violation

MIN_INSPECTORS = 2  # 执法检查人员不少于两人
# The mini-program's order page: the school answers there, the regulator closes.
ORDER_PAGE = "pages/regulators/order/index?id={id}"


# -- spot checks ----------------------------------------------------------------------------------------

def sample_canteens(seed: str, population: Collection[int], size: int) -> list[int]:
    """The ``size`` canteens with the smallest sha256("<seed>:<id>"), in that order.

    Deterministic across machines and Python versions: an auditor can recompute it from the seed and the
    population list kept with the spot check.
    """
    ranked = sorted(population, key=lambda cid: (hashlib.sha256(f"{seed}:{cid}".encode()).hexdigest(), cid))
    return ranked[:size]


def canteens_in_region(region: Region, school_kind: str | None = None) -> list[int]:
    """Ids of every canteen of every school in the region (and below), ascending."""
    query = (select(Canteen.id).join(School, School.id == Canteen.school_id)
             .join(Region, Region.id == School.region_id).where(Region.path.startswith(region.path)))
    if school_kind:
        query = query.where(School.kind == school_kind)
    return list(db.session.scalars(query.order_by(Canteen.id)))


def create_spot_check(actor: Principal, region: Region, size: int, seed: str | None = None,
                      school_kind: str | None = None, note: str | None = None) -> SpotCheck:
    """Draw a reproducible random sample of ``size`` canteens in a region."""
    population = canteens_in_region(region, school_kind)
    if not population:
        raise ApiError(422, "no_canteens", "该地区没有可抽查的食堂")
    seed = seed or secrets.token_hex(8)
    check = SpotCheck(region_id=region.id, seed=seed, sample_size=min(size, len(population)),
                      school_kind=school_kind, population_ids=population,
                      canteen_ids=sample_canteens(seed, population, size), note=note,
                      created_by_id=actor.user_id, created_at=utcnow())
    db.session.add(check)
    db.session.flush()
    record_audit(actor.user_id, AuditAction.SPOT_CHECK_CREATE, target=("spot_check", check.id),
                 details={"region_id": region.id, "seed": seed, "size": check.sample_size})
    db.session.commit()
    return check


# -- inspection rounds ----------------------------------------------------------------------------------

def _regulates(user_id: int, region: Region) -> bool:
    return db.session.scalar(covering_scopes(RegulatorScope.id, region_path=region.path)
                             .where(RegulatorScope.user_id == user_id).limit(1)) is not None


def region_inspectors(region: Region) -> list[dict[str, Any]]:
    """Who may join a joint inspection in a region: the regulators whose scope covers it (its own county's,
    its city's, its province's), by name; a regulator with several covering scopes is listed once, with the
    narrowest."""
    rows = db.session.execute(
        covering_scopes(User.id, User.nickname, Region.id, Region.name, Region.path, region_path=region.path)
        .join(User, User.id == RegulatorScope.user_id)
        .order_by(func.length(Region.path).desc(), User.id)).all()
    chosen: dict[int, dict[str, Any]] = {}
    for user_id, nickname, scope_id, scope_name, _path in rows:
        chosen.setdefault(user_id, {"user_id": user_id, "name": nickname, "scope_region_id": scope_id,
                                    "scope_region_name": scope_name})
    return sorted(chosen.values(), key=lambda row: row["user_id"])


def create_round(actor: Principal, region: Region, *, title: str, planned_at: datetime,
                 inspector_ids: Collection[int], canteen_ids: Collection[int] = (),
                 spot_check_id: int | None = None) -> InspectionRound:
    """Plan a joint inspection: at least two inspectors of the region (the creator leads), and its canteens."""
    inspectors = {actor.user_id, *inspector_ids}
    if len(inspectors) < MIN_INSPECTORS:
        raise ApiError(422, "too_few_inspectors", f"联合检查至少需要{MIN_INSPECTORS}名执法人员",
                       {"fields": {"inspector_ids": [f"至少{MIN_INSPECTORS}人"]}})
    # An admin may lead a round; every other inspector must regulate the region.
    outsiders = sorted(uid for uid in inspectors
                       if not (actor.is_admin and uid == actor.user_id) and not _regulates(uid, region))
    if outsiders:
        raise ApiError(422, "inspector_not_in_region", "检查人员须为该地区的监管人员", {"user_ids": outsiders})
    targets = list(dict.fromkeys(canteen_ids))
    if spot_check_id is not None:
        check = db.session.get(SpotCheck, spot_check_id)
        if check is None or check.region_id != region.id:
            raise ApiError(422, "spot_check_not_found", "抽查记录不存在或不属于该地区")
        targets = list(dict.fromkeys([*check.canteen_ids, *targets]))
    if not targets:
        raise ApiError(422, "no_targets", "请选择要检查的食堂", {"fields": {"canteen_ids": ["不能为空"]}})
    in_region = set(canteens_in_region(region))
    foreign = [cid for cid in targets if cid not in in_region]
    if foreign:
        raise ApiError(422, "canteen_not_in_region", "所选食堂不在该地区", {"canteen_ids": foreign})
    inspection = InspectionRound(region_id=region.id, spot_check_id=spot_check_id, title=title,
                                 planned_at=planned_at, status=RoundStatus.PLANNED, created_by_id=actor.user_id,
                                 created_at=utcnow())
    db.session.add(inspection)
    db.session.flush()
    for uid in sorted(inspectors):
        db.session.add(InspectionInspector(round_id=inspection.id, user_id=uid, lead=uid == actor.user_id))
    for cid in targets:
        db.session.add(InspectionTarget(round_id=inspection.id, canteen_id=cid))
    record_audit(actor.user_id, AuditAction.INSPECTION_CREATE, target=("inspection_round", inspection.id),
                 details={"inspectors": sorted(inspectors), "canteens": targets})
    db.session.commit()
    return inspection


def _require_inspector(actor: Principal, inspection: InspectionRound) -> None:
    if actor.is_admin:
        return
    if not any(i.user_id == actor.user_id for i in inspection.inspectors):
        raise ApiError(403, "not_an_inspector", "您不是本次检查的执法人员")


def _round_target(inspection: InspectionRound, canteen_id: int) -> InspectionTarget:
    target = next((t for t in inspection.targets if t.canteen_id == canteen_id), None)
    if target is None:
        raise ApiError(422, "canteen_not_in_round", "该食堂不在本次检查范围内",
                       {"fields": {"canteen_id": ["不在检查范围"]}})
    return target


def store_finding_photo(actor: Principal, inspection: InspectionRound, canteen_id: int, data: bytes,
                        public_base: str | None = None) -> dict[str, Any]:
    """An inspector's photo for a finding in one of the round's canteens: stored as a photo of that canteen's
    school by this inspector, the key :func:`add_finding` then accepts (same checks as every photo)."""
    _require_inspector(actor, inspection)
    if inspection.status == RoundStatus.COMPLETED:
        raise ApiError(409, "inspection_completed", "检查已结束，不能再添加检查结果")
    _round_target(inspection, canteen_id)
    canteen = db.session.get(Canteen, canteen_id)
    return store_photo(actor, db.session.get(School, canteen.school_id), data, public_base=public_base)


def add_finding(actor: Principal, inspection: InspectionRound, *, canteen_id: int, description: str,
                severity: str, kind: str | None = None, photos: Collection[str] = (),
                open_violation: bool = True, now: datetime | None = None,
                commit: bool = True) -> InspectionFinding:
    """Record what an inspector found in a canteen; optionally open a violation (source ``inspection``).

    The finding, its violation and the violation's notices commit together (``commit=False``: with the
    caller's own rows, e.g. the patrol finding that made it).
    """
    now = now or utcnow()
    _require_inspector(actor, inspection)
    if inspection.status == RoundStatus.COMPLETED:
        raise ApiError(409, "inspection_completed", "检查已结束，不能再添加检查结果")
    target = _round_target(inspection, canteen_id)
    canteen = db.session.get(Canteen, canteen_id)
    check_photo_keys(actor, db.session.get(School, canteen.school_id), photos)
    finding = InspectionFinding(round_id=inspection.id, canteen_id=canteen_id, inspector_id=actor.user_id,
                                kind=kind or ViolationKind.INSPECTION_FINDING, severity=severity,
                                description=description, photos=list(photos), created_at=now)
    db.session.add(finding)
    db.session.flush()
    target.result = "issues" if open_violation else (target.result or "noted")
    target.visited_at = target.visited_at or now
    if open_violation:
        raised = raise_violation(
            canteen_id=canteen_id, kind=finding.kind, source=ViolationSource.INSPECTION,
            idempotency_key=f"inspection-finding:{finding.id}", occurred_at=now,
            title=f"监督检查：{description}"[:100], description=description,
            evidence={"photos": list(photos)} if photos else {},
            details={"inspection_round_id": inspection.id, "finding_id": finding.id, "severity": severity},
            actor_id=actor.user_id, commit=False)
        finding.violation_id = raised.violation.id
    if commit:
        db.session.commit()
    return finding


def record_visit(actor: Principal, inspection: InspectionRound, canteen_id: int, result: str,
                 now: datetime | None = None) -> InspectionTarget:
    """Mark a canteen visited with its overall result (pass / issues)."""
    _require_inspector(actor, inspection)
    target = _round_target(inspection, canteen_id)
    target.result = result
    target.visited_at = now or utcnow()
    db.session.commit()
    return target


def complete_round(actor: Principal, inspection: InspectionRound, summary: str | None,
                   now: datetime | None = None) -> InspectionRound:
    """Close a round with its summary."""
    _require_inspector(actor, inspection)
    if inspection.status == RoundStatus.COMPLETED:
        raise ApiError(409, "inspection_completed", "检查已结束")
    inspection.status = RoundStatus.COMPLETED
    inspection.summary = summary
    inspection.completed_at = now or utcnow()
    db.session.commit()
    return inspection


# -- supervision orders ---------------------------------------------------------------------------------

def _order_draft(order: SupervisionOrder, school: School, purpose: str, title: str, body: str,
                 issuer: str) -> NoticeDraft:
    return NoticeDraft(subject_type=SubjectType.SUPERVISION_ORDER, subject_id=order.id, school_id=school.id,
                       purpose=purpose, template="supervision", title=title, body=body,
                       payload={"title": order.title, "school": school.name, "due_at": order.due_at.isoformat(),
                                "issuer": issuer}, page=ORDER_PAGE.format(id=order.id))


def issue_order(actor: Principal, school: School, *, title: str, content: str, due_at: datetime,
                violation_ids: Collection[int] = (), now: datetime | None = None) -> SupervisionOrder:
    """A regulator orders a school to fix something by a date; the principal and staff are notified."""
    from backend.violations.models import Violation

    now = now or utcnow()
    if due_at <= now:
        raise ApiError(422, "due_in_past", "整改期限必须晚于当前时间", {"fields": {"due_at": ["必须晚于当前时间"]}})
    ids = sorted(set(violation_ids))
    if ids:
        found = set(db.session.scalars(select(Violation.id).where(Violation.id.in_(ids),
                                                                  Violation.school_id == school.id)))
        missing = [vid for vid in ids if vid not in found]
        if missing:
            raise ApiError(422, "violation_not_in_school", "所列问题不属于该学校", {"violation_ids": missing})
    order = SupervisionOrder(school_id=school.id, title=title, content=content, violation_ids=ids, due_at=due_at,
                             status=OrderStatus.ISSUED, issued_by_id=actor.user_id, issued_at=now)
    db.session.add(order)
    db.session.flush()
    issuer = issuing_office(actor, school)
    local_due = to_shanghai(due_at).strftime("%Y年%m月%d日 %H:%M")
    enqueue(_order_draft(order, school, "supervision_issued", f"监督整改通知：{title}",
                         f"{issuer}向{school.name}下发监督整改通知“{title}”，请于{local_due}前整改并回复。",
                         issuer),
            school_members(school.id, [Role.PRINCIPAL, Role.STAFF]), f"order:{order.id}:issued", now)
    record_audit(actor.user_id, AuditAction.SUPERVISION_ISSUE, school_id=school.id,
                 target=("supervision_order", order.id), details={"title": title, "violation_ids": ids})
    db.session.commit()
    return order


def respond_order(actor: Principal, order: SupervisionOrder, response: str,
                  now: datetime | None = None) -> SupervisionOrder:
    """The school (its principal) answers an order; the issuing regulator is notified."""
    now = now or utcnow()
    if order.status == OrderStatus.CLOSED:
        raise ApiError(409, "order_closed", "该通知已办结")
    order.status = OrderStatus.RESPONDED
    order.response = response
    order.responded_by_id = actor.user_id
    order.responded_at = now
    school = db.session.get(School, order.school_id)
    enqueue(_order_draft(order, school, "supervision_responded", f"整改回复：{order.title}",
                         f"{school.name}已回复监督整改通知“{order.title}”：{response}", school.name),
            [order.issued_by_id], f"order:{order.id}:responded:{int(now.timestamp())}", now, exclude=actor.user_id)
    record_audit(actor.user_id, AuditAction.SUPERVISION_RESPOND, school_id=school.id,
                 target=("supervision_order", order.id))
    db.session.commit()
    return order


def close_order(actor: Principal, order: SupervisionOrder, reason: str | None,
                now: datetime | None = None) -> SupervisionOrder:
    """The regulator closes an order once satisfied; the school is notified."""
    now = now or utcnow()
    if order.status == OrderStatus.CLOSED:
        raise ApiError(409, "order_closed", "该通知已办结")
    if order.status != OrderStatus.RESPONDED:
        raise ApiError(409, "order_not_responded", "学校尚未回复，不能办结")
    order.status = OrderStatus.CLOSED
    order.closed_by_id = actor.user_id
    order.closed_at = now
    order.close_reason = reason
    school = db.session.get(School, order.school_id)
    enqueue(_order_draft(order, school, "supervision_closed", f"监督整改已办结：{order.title}",
                         f"监督整改通知“{order.title}”已办结。{reason or ''}", issuing_office(actor, school)),
            school_members(school.id, [Role.PRINCIPAL, Role.STAFF]), f"order:{order.id}:closed", now,
            exclude=actor.user_id)
    record_audit(actor.user_id, AuditAction.SUPERVISION_CLOSE, school_id=school.id,
                 target=("supervision_order", order.id))
    db.session.commit()
    return order
