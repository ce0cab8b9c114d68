"""Permission scopes of region-level objects: a route on them is allowed to the regulators of that region."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from backend.extensions import db
from backend.permissions import register_scope
from backend.regulators.models import InspectionRound, SpotCheck, SupervisionOrder
from backend.schools.models import Region, School


def _region_of(model: type) -> Any:
    def resolve(object_id: int) -> Region | None:
        row = db.session.get(model, object_id)
        return None if row is None else db.session.get(Region, row.region_id)
    return resolve


register_scope("region", "region_id", "地区", lambda object_id: db.session.get(Region, object_id))
register_scope("spot_check", "spot_check_id", "抽查", _region_of(SpotCheck))
register_scope("inspection", "inspection_id", "检查", _region_of(InspectionRound))
register_scope("supervision_order", "order_id", "监督整改通知", lambda object_id: db.session.scalar(
    select(School).join(SupervisionOrder, SupervisionOrder.school_id == School.id)
    .where(SupervisionOrder.id == object_id)))
