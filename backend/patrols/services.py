"""Online patrol (视频巡查): start a round over canteens of a region, record which cameras the wall showed from
when to when, file findings with a snapshot as evidence, end the round.

A finding grabs a frame from the camera (the snapshot service's own grab, :mod:`backend.live.snapshots`), stores
it as the regulator's photo of that school (:mod:`backend.violations.photos`: judged by content, owned by its
author) and, in the same transaction, opens a violation (source ``patrol``, through
:func:`backend.violations.services.raise_violation`) or, given an inspection round, an inspection finding
(:func:`backend.regulators.services.add_finding`, which opens its violation the same way).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from backend.audit.actions import AuditAction
from backend.audit.services import record_audit
from backend.errors import ApiError
from backend.extensions import db
from backend.live.settings import LiveSettings
from backend.live.snapshots import grab_checked_frame
from backend.patrols.models import PatrolFinding, PatrolRound, PatrolStatus, PatrolView
from backend.permissions import Principal, runs_patrol
from backend.regulators.models import InspectionRound
from backend.regulators.services import add_finding as add_inspection_finding
from backend.regulators.services import canteens_in_region
from backend.schools.models import Camera, Canteen, KitchenArea, Region, School
from backend.violations.models import ViolationKind, ViolationSource
from backend.violations.photos import store_photo
from backend.violations.services import raise_violation

log = logging.getLogger(__name__)


def start_patrol(actor: Principal, region: Region, *, title: str | None, canteen_ids: Collection[int],
                 now: datetime) -> PatrolRound:
    """Start a round over the given canteens of the region (none given: every canteen of the region)."""
    in_region = canteens_in_region(region)
    chosen = list(dict.fromkeys(canteen_ids)) or in_region
    if not chosen:
        raise ApiError(422, "no_canteens", "该地区没有可巡查的食堂")
    allowed = set(in_region)
    foreign = [cid for cid in chosen if cid not in allowed]
    if foreign:
        raise ApiError(422, "canteen_not_in_region", "所选食堂不在该地区", {"canteen_ids": foreign})
    patrol = PatrolRound(region_id=region.id, title=title or f"{region.name}视频巡查", canteen_ids=chosen,
                         status=PatrolStatus.ACTIVE, created_by_id=actor.user_id, started_at=now)
    db.session.add(patrol)
    db.session.flush()
    record_audit(actor.user_id, AuditAction.PATROL_START, target=("patrol_round", patrol.id),
                 details={"region_id": region.id, "canteens": chosen})
    db.session.commit()
    log.info("patrol %s started by user %s over %s canteens", patrol.id, actor.user_id, len(chosen))
    return patrol


def patrol_cameras(patrol: PatrolRound) -> list[tuple[Camera, KitchenArea, Canteen, School]]:
    """The cameras the round walks through: every camera of its canteens, canteen by canteen in the round's
    order, then area and camera."""
    rows = db.session.execute(
        sa.select(Camera, KitchenArea, Canteen, School).join(KitchenArea, Camera.area_id == KitchenArea.id)
        .join(Canteen, KitchenArea.canteen_id == Canteen.id).join(School, Canteen.school_id == School.id)
        .where(Canteen.id.in_(patrol.canteen_ids)).order_by(KitchenArea.id, Camera.id)).all()
    order = {cid: index for index, cid in enumerate(patrol.canteen_ids)}
    return sorted((tuple(row) for row in rows), key=lambda row: order[row[2].id])


def _require_runner(actor: Principal, patrol: PatrolRound) -> None:
    if not runs_patrol(actor, patrol.created_by_id):
        raise ApiError(403, "not_patrol_owner", "只有发起本次巡查的监管人员可以记录巡查")
    if patrol.status != PatrolStatus.ACTIVE:
        raise ApiError(409, "patrol_ended", "本次巡查已结束")


def _camera_in_patrol(patrol: PatrolRound, camera_id: int) -> tuple[Camera, Canteen]:
    row = db.session.execute(
        sa.select(Camera, Canteen).join(KitchenArea, Camera.area_id == KitchenArea.id)
        .join(Canteen, KitchenArea.canteen_id == Canteen.id).where(Camera.id == camera_id)).first()
    if row is None or row[1].id not in patrol.canteen_ids:
        raise ApiError(422, "camera_not_in_patrol", "该摄像头不在本次巡查范围内",
                       {"fields": {"camera_id": ["不在巡查范围"]}, "camera_id": camera_id})
    return row[0], row[1]


def record_watching(actor: Principal, patrol: PatrolRound, camera_ids: Collection[int],
                    now: datetime) -> list[PatrolView]:
    """The wall now shows exactly ``camera_ids``: views of cameras no longer shown end now, new ones start now,
    those still shown go on. Returns the open views."""
    _require_runner(actor, patrol)
    wanted = {cid: _camera_in_patrol(patrol, cid)[1].id for cid in dict.fromkeys(camera_ids)}
    open_views = [view for view in patrol.views if view.ended_at is None]
    for view in open_views:
        if view.camera_id not in wanted:
            view.ended_at = now
    showing = {view.camera_id for view in open_views if view.ended_at is None}
    for camera_id, canteen_id in wanted.items():
        if camera_id not in showing:
            db.session.add(PatrolView(patrol_id=patrol.id, camera_id=camera_id, canteen_id=canteen_id,
                                      started_at=now))
    db.session.commit()
    return [view for view in patrol.views if view.ended_at is None]


def add_finding(actor: Principal, patrol: PatrolRound, settings: LiveSettings, *, camera_id: int,
                description: str, severity: str, kind: str | None = None, open_violation: bool = True,
                inspection_id: int | None = None, now: datetime) -> PatrolFinding:
    """File what the regulator sees on a camera of the round, in one step: a snapshot of the camera now is its
    evidence; it opens a violation (source ``patrol``), or with ``inspection_id`` a finding of that inspection
    round (which opens its violation itself). Nothing is written when the camera gives no frame."""
    _require_runner(actor, patrol)
    camera, canteen = _camera_in_patrol(patrol, camera_id)
    inspection = None
    if inspection_id is not None:
        inspection = db.session.get(InspectionRound, inspection_id)
        if inspection is None or inspection.region_id != patrol.region_id:
            raise ApiError(422, "inspection_not_found", "检查不存在或不属于本次巡查的地区",
                           {"fields": {"inspection_id": ["不存在"]}})
    data, _width, _height = grab_checked_frame(camera, settings)
    school = db.session.get(School, canteen.school_id)
    key = store_photo(actor, school, data)["key"]
    record_audit(actor.user_id, AuditAction.LIVE_SNAPSHOT, school_id=school.id, target=("camera", camera.id),
                 details={"object_key": key, "patrol_id": patrol.id})
    finding = PatrolFinding(patrol_id=patrol.id, camera_id=camera.id, canteen_id=canteen.id,
                            inspector_id=actor.user_id, kind=kind or ViolationKind.INSPECTION_FINDING,
                            severity=severity, description=description, snapshot_key=key, created_at=now)
    db.session.add(finding)
    db.session.flush()
    if inspection is not None:
        found = add_inspection_finding(actor, inspection, canteen_id=canteen.id, description=description,
                                       severity=severity, kind=finding.kind, photos=[key],
                                       open_violation=open_violation, now=now, commit=False)
        finding.inspection_finding_id, finding.violation_id = found.id, found.violation_id
    elif open_violation:
        finding.violation_id = raise_violation(
            canteen_id=canteen.id, kind=finding.kind, source=ViolationSource.PATROL,
            idempotency_key=f"patrol-finding:{finding.id}", occurred_at=now, camera_id=camera.id,
            title=f"视频巡查：{description}"[:100], description=description, evidence={"photos": [key]},
            details={"patrol_id": patrol.id, "patrol_finding_id": finding.id, "severity": severity},
            actor_id=actor.user_id, commit=False).violation.id
    db.session.commit()
    return finding


def end_patrol(actor: Principal, patrol: PatrolRound, summary: str | None, now: datetime) -> PatrolRound:
    """End the round: every camera still on the wall stops being watched now."""
    _require_runner(actor, patrol)
    for view in patrol.views:
        if view.ended_at is None:
            view.ended_at = now
    patrol.status, patrol.summary, patrol.ended_at = PatrolStatus.ENDED, summary, now
    record_audit(actor.user_id, AuditAction.PATROL_END, target=("patrol_round", patrol.id),
                 details={"views": len(patrol.views), "findings": len(patrol.findings)})
    db.session.commit()
    return patrol
