"""The camera tree of the video wall: region → school → canteen → area → camera, with each camera's live state.

Only the schools the caller may watch at any time are in it (staff, principals and managers of the school,
regulators of its region, admins: :func:`backend.permissions.live_viewer`'s privileged viewers); parents and
committee members watch in the mini-program, inside the live windows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backend.extensions import db
from backend.live.settings import LiveSettings
from backend.live.state import stream_states
from backend.permissions import Principal, live_viewer
from backend.schools.models import Camera, Canteen, KitchenArea
from backend.schools.services import visible_schools


def camera_node(camera: Camera, live: bool) -> dict[str, Any]:
    """A camera as the wall shows it: offline when switched off or nothing publishes."""
    return {"id": camera.id, "name": camera.name, "enabled": camera.enabled, "live": live and camera.enabled}


def camera_tree(principal: Principal, now: datetime, settings: LiveSettings) -> list[dict[str, Any]]:
    """Regions with their schools, canteens, areas and cameras the caller may watch at any time."""
    schools = [school for school in visible_schools(principal)
               if (viewer := live_viewer(principal, school)) is not None and viewer.privileged]
    if not schools:
        return []
    rows = db.session.execute(
        sa.select(Camera, KitchenArea, Canteen).join(KitchenArea, Camera.area_id == KitchenArea.id)
        .join(Canteen, KitchenArea.canteen_id == Canteen.id)
        .where(Canteen.school_id.in_([school.id for school in schools]))
        .order_by(Canteen.id, KitchenArea.id, Camera.id)).all()
    states = stream_states([camera.id for camera, _, _ in rows], now, settings.idle_seconds)
    canteens: dict[int, dict[str, Any]] = {}
    areas: dict[int, dict[str, Any]] = {}
    by_school: dict[int, list[dict[str, Any]]] = {school.id: [] for school in schools}
    for camera, area, canteen in rows:
        if canteen.id not in canteens:
            canteens[canteen.id] = {"id": canteen.id, "name": canteen.name, "areas": []}
            by_school[canteen.school_id].append(canteens[canteen.id])
        if area.id not in areas:
            areas[area.id] = {"id": area.id, "name": area.name, "public": area.public, "cameras": []}
            canteens[canteen.id]["areas"].append(areas[area.id])
        areas[area.id]["cameras"].append(camera_node(camera, states[camera.id].live))
    regions: dict[int, dict[str, Any]] = {}
    for school in schools:
        region = regions.setdefault(school.region_id, {"id": school.region_id, "name": school.region.name,
                                                       "schools": []})
        region["schools"].append({"id": school.id, "name": school.name, "canteens": by_school[school.id]})
    return list(regions.values())

