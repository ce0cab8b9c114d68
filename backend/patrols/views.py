"""What regulators read of patrol rounds: the round with the names people know (region, canteens, schools,
cameras, regulator), the cameras it walks with their live state, what was watched when, and the findings with
signed URLs of their snapshots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.extensions import db
from backend.live.settings import LiveSettings
from backend.live.state import stream_states
from backend.live.tree import camera_node
from backend.patrols.models import PatrolFinding, PatrolRound
from backend.patrols.services import patrol_cameras
from backend.regulators.views import LIST_LIMIT, canteen_names, canteen_where, region_work, sampled_names
from backend.schools.models import Camera
from backend.violations.views import photo_urls, user_names


def summaries(patrols: Sequence[PatrolRound]) -> list[dict[str, Any]]:
    """Rounds as the list shows them: names, counts of views and findings."""
    regions, canteens, users = sampled_names(patrols)
    return [{
        **region_work(p, p.started_at, regions, users), "title": p.title,
        "status": p.status, "summary": p.summary, "started_at": p.started_at, "ended_at": p.ended_at,
        "canteens": [canteen_where(canteens, cid) for cid in p.canteen_ids],
        "view_count": len(p.views), "finding_count": len(p.findings),
    } for p in patrols]


def list_patrols(region_id: int) -> list[dict[str, Any]]:
    """A region's patrol rounds, newest first."""
    return summaries(db.session.scalars(sa.select(PatrolRound).where(PatrolRound.region_id == region_id)
                                        .order_by(PatrolRound.id.desc()).limit(LIST_LIMIT)).all())


def _camera_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Camera.id, Camera.name).where(Camera.id.in_(ids))).all())


def finding(item: PatrolFinding, cameras: dict[int, str] | None = None) -> dict[str, Any]:
    """One finding with its snapshot's signed URL."""
    cameras = cameras if cameras is not None else _camera_names({item.camera_id})
    return {**canteen_where(canteen_names([item.canteen_id]), item.canteen_id), "id": item.id,
            "patrol_id": item.patrol_id, "camera_id": item.camera_id, "camera_name": cameras.get(item.camera_id),
            "inspector_id": item.inspector_id,
            "inspector_name": user_names({item.inspector_id}).get(item.inspector_id), "kind": item.kind,
            "severity": item.severity, "description": item.description,
            "snapshot_url": photo_urls([item.snapshot_key])[0], "violation_id": item.violation_id,
            "inspection_finding_id": item.inspection_finding_id, "created_at": item.created_at}


def view_rows(patrol: PatrolRound, views: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """What was watched from when to when (all the round's views, or the given ones)."""
    views = patrol.views if views is None else views
    names = _camera_names({v.camera_id for v in views})
    return [{"id": v.id, "camera_id": v.camera_id, "camera_name": names.get(v.camera_id),
             "canteen_id": v.canteen_id, "started_at": v.started_at, "ended_at": v.ended_at} for v in views]


def detail(patrol: PatrolRound, now: datetime, settings: LiveSettings) -> dict[str, Any]:
    """A round with its cameras (live or offline now), its views and its findings."""
    rows = patrol_cameras(patrol)
    states = stream_states([camera.id for camera, *_ in rows], now, settings.idle_seconds)
    cameras = [{**camera_node(camera, states[camera.id].live), "area_name": area.name, "canteen_id": canteen.id,
                "canteen_name": canteen.name, "school_name": school.name} for camera, area, canteen, school in rows]
    names = {camera.id: camera.name for camera, *_ in rows}
    return {**summaries([patrol])[0], "cameras": cameras, "views": view_rows(patrol),
            "findings": [finding(f, names) for f in patrol.findings]}
